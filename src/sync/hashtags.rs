//! Hashtags in a caption: `#` followed by Unicode letters, digits or `_`, lower-cased.

/// The caption's hashtags, lower-case, each once, in order of first use.
pub fn extract(caption: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut rest = caption;
    while let Some(at) = rest.find('#') {
        let after = &rest[at + 1..];
        let end = after.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(after.len());
        let tag = after[..end].to_lowercase();
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
        rest = &after[end..];
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::extract;

    #[test]
    fn hashtags_are_lowercase_unicode_words_listed_once() {
        assert_eq!(extract("Fresh #Sourdough and #bakery! #sourdough"), vec!["sourdough", "bakery"]);
        assert_eq!(extract("Zoë's #Café #Crème_brûlée #日本"), vec!["café", "crème_brûlée", "日本"]);
        assert_eq!(extract("no tags # here ## #"), Vec::<String>::new());
        assert_eq!(extract("#a#b"), vec!["a", "b"]);
        assert_eq!(extract("<script>#x</script>"), vec!["x"]);
    }
}
