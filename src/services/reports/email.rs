//! A report's e-mail: a plain-text part and an HTML part (the pictures of its best posts
//! inline), written from the same content as its PDF, which goes with it as an attachment.

use askama::Template;

use super::content::ReportContent;
use super::pdf::Pictures;

#[derive(Template)]
#[template(path = "reports/email.html")]
struct HtmlPart<'a> {
    c: &'a ReportContent,
    link: &'a str,
    pictures: &'a Pictures,
}

impl HtmlPart<'_> {
    fn has_picture(&self, post: &i64) -> bool {
        self.pictures.contains_key(post)
    }

    fn cid(&self, post: &i64) -> String {
        picture_id(*post)
    }
}

#[derive(Template)]
#[template(path = "reports/email.txt")]
struct TextPart<'a> {
    c: &'a ReportContent,
    link: &'a str,
}

/// The picture's `cid:` in the HTML part.
pub fn picture_id(post: i64) -> String {
    format!("post-{post}@tidemark")
}

/// The subject, the text part and the HTML part; `link` is where the kept report is read.
pub fn render(c: &ReportContent, link: &str, pictures: &Pictures) -> Result<(String, String, String), askama::Error> {
    let subject = format!("{} · {}", c.title, c.period);
    let text = TextPart { c, link }.render()?;
    let html = HtmlPart { c, link, pictures }.render()?;
    Ok((subject, text, html))
}
