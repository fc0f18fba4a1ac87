//! Markdown to HTML. Properties of the output, read as a browser would:
//! every tag and attribute is one Markdown itself writes (no `<script>`, no
//! `on...=` handler, no `style` but table alignment), every link goes to an
//! http(s), mailto or relative URL and every image to an http(s) or
//! relative one, and excerpts are plain text within their length.

#![no_main]

use libfuzzer_sys::fuzz_target;
use soloist::content::markdown::{EXCERPT_CHARS, excerpt, to_html};

const TAGS: &[&str] = &[
    "a",
    "blockquote",
    "br",
    "code",
    "del",
    "div",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "input",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
];

const ATTRIBUTES: &[&str] = &[
    "alt", "checked", "class", "disabled", "href", "id", "rel", "src", "start", "style", "title",
    "type",
];

/// `&amp;`, `&quot;`, `&#39;`, ... back to text.
fn unescape(value: &str) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(end) = rest.find(';') else {
            break;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(character) => {
                out.push(character);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where a browser on a post's page would go for `url`: its scheme.
fn scheme_of(url: &str) -> Option<String> {
    let base = url::Url::parse("https://soloist.example/blog/post").ok()?;
    base.join(url).ok().map(|url| url.scheme().to_owned())
}

fn check_attributes(html: &str, tag: &str, attributes: &str) {
    let mut rest = attributes.trim_end_matches('/').trim();
    while !rest.is_empty() {
        let name_end = rest.find(['=', ' ']).unwrap_or(rest.len());
        let name = &rest[..name_end];
        assert!(
            !name.to_ascii_lowercase().starts_with("on"),
            "event handler {name:?} on <{tag}> in {html:?}"
        );
        assert!(
            ATTRIBUTES.contains(&name),
            "attribute {name:?} on <{tag}> in {html:?}"
        );
        rest = &rest[name_end..];
        let mut value = String::new();
        if let Some(quoted) = rest.strip_prefix("=\"") {
            let end = quoted
                .find('"')
                .unwrap_or_else(|| panic!("unterminated attribute in {html:?}"));
            value = unescape(&quoted[..end]);
            rest = &quoted[end + 1..];
        } else {
            assert!(
                rest.is_empty() || rest.starts_with(' '),
                "unquoted attribute value in <{tag} {attributes}> of {html:?}"
            );
        }
        rest = rest.trim_start();
        match name {
            "rel" => assert_eq!(value, "nofollow ugc noopener", "rel on <{tag}> in {html:?}"),
            "href" => {
                if let Some(scheme) = scheme_of(&value) {
                    assert!(
                        ["http", "https", "mailto"].contains(&scheme.as_str()),
                        "a link to {value:?} in {html:?}"
                    );
                }
            }
            "src" => {
                if let Some(scheme) = scheme_of(&value) {
                    assert!(
                        ["http", "https"].contains(&scheme.as_str()),
                        "an image from {value:?} in {html:?}"
                    );
                }
            }
            "style" => assert!(
                [
                    "text-align: left",
                    "text-align: center",
                    "text-align: right"
                ]
                .contains(&value.as_str()),
                "style {value:?} in {html:?}"
            ),
            _ => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let markdown = String::from_utf8_lossy(data);
    let html = to_html(&markdown);
    assert!(!html.to_ascii_lowercase().contains("<script"), "{html:?}");
    let mut rest = html.as_str();
    while let Some(at) = rest.find('<') {
        let tag_text = &rest[at + 1..];
        let end = tag_text
            .find('>')
            .unwrap_or_else(|| panic!("a tag never closed in {html:?}"));
        let inside = &tag_text[..end];
        let inside = inside.strip_prefix('/').unwrap_or(inside);
        let name_end = inside.find([' ', '/']).unwrap_or(inside.len());
        let name = &inside[..name_end];
        assert!(TAGS.contains(&name), "tag <{name}> in {html:?}");
        check_attributes(&html, name, &inside[name_end..]);
        rest = &tag_text[end + 1..];
    }
    let summary = excerpt(&markdown);
    assert!(summary.chars().count() <= EXCERPT_CHARS, "{summary:?}");
    assert_eq!(summary, summary.trim());
});
