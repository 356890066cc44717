//! `/definitions`: what every number means, one click from every figure. The page is
//! `docs/metrics.md` itself, rendered once, so the pages and the documentation cannot drift.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

use super::{Notice, PageContext, render};
use crate::auth::CurrentUser;
use crate::error::AppResult;

const METRICS: &str = include_str!("../../docs/metrics.md");

/// The document as HTML, its title dropped (the page has its own) and each heading given an
/// id from its words ("Engagement rate" → `engagement-rate`) for the cards' links.
static BODY: LazyLock<String> = LazyLock::new(|| to_html(METRICS));

fn to_html(markdown: &str) -> String {
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut in_title = false;
    let mut heading: Option<(HeadingLevel, String)> = None;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { level: HeadingLevel::H1, .. }) => in_title = true,
            Event::End(TagEnd::Heading(HeadingLevel::H1)) => in_title = false,
            _ if in_title => {}
            Event::Start(Tag::Heading { level, .. }) => heading = Some((level, String::new())),
            Event::Text(text) | Event::Code(text) if heading.is_some() => {
                if let Some((_, words)) = heading.as_mut() {
                    words.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(level)) => {
                let words = heading.take().map(|(_, w)| w).unwrap_or_default();
                // One level down: the page's own title is the only h1.
                let level = match level {
                    HeadingLevel::H2 => 2,
                    HeadingLevel::H3 => 3,
                    _ => 4,
                };
                let tag = format!("<h{level} id=\"{}\">{}</h{level}>", slug(&words), escape(&words));
                events.push(Event::Html(tag.into()));
            }
            other => events.push(other),
        }
    }
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, events.into_iter());
    out
}

fn slug(words: &str) -> String {
    let lowered: String =
        words.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { ' ' }).collect();
    lowered.split_whitespace().collect::<Vec<_>>().join("-")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[derive(Template)]
#[template(path = "definitions.html")]
struct DefinitionsPage {
    page: PageContext,
    body: &'static str,
}

pub async fn definitions(user: CurrentUser, notice: Notice) -> AppResult<HttpResponse> {
    let page = DefinitionsPage { page: PageContext::new(&user, notice, "definitions"), body: BODY.as_str() };
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_get_ids_the_cards_link_to_and_the_title_is_left_to_the_page() {
        let body = to_html(METRICS);
        for card in
            ["follower-growth", "reach", "views", "interactions-on-the-account", "engagement-rate", "posts-published"]
        {
            assert_eq!(body.matches(&format!("id=\"{card}\"")).count(), 1, "{card}");
        }
        assert!(!body.contains("<h1"), "one title per page");
        assert!(body.contains("<table>"), "tables render");
    }
}
