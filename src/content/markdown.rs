//! Markdown to safe HTML. Posts are written in CommonMark (with tables,
//! strikethrough, task lists and footnotes) and rendered by pulldown-cmark,
//! which escapes all text. What Markdown would let through unescaped is
//! neutralised here, on the event stream, before any HTML is written:
//! raw HTML shows as text (an HTML block as a code block), and links and
//! images keep only http, https, mailto (links) and relative URLs; others
//! lose their link and keep their text. No attribute can be written from
//! Markdown except the escaped `href`, `src`, `alt` and `title`; every
//! link gets `rel="nofollow ugc noopener"`.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Options, Parser, Tag, TagEnd};

/// The longest derived excerpt, in characters.
pub const EXCERPT_CHARS: usize = 200;

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
}

/// Whether a link or image URL is safe to keep: a relative URL, or one of
/// the allowed schemes. Browsers ignore ASCII whitespace and control
/// characters inside a scheme (`java\tscript:`), so they are ignored here.
pub fn is_safe_url(url: &str, schemes: &[&str]) -> bool {
    let cleaned: String = url
        .chars()
        .filter(|character| !character.is_ascii_whitespace() && !character.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    match cleaned.find([':', '/', '?', '#']) {
        Some(at) if cleaned.as_bytes().get(at) == Some(&b':') => schemes.contains(&&cleaned[..at]),
        _ => true,
    }
}

const LINK_SCHEMES: &[&str] = &["http", "https", "mailto"];
const IMAGE_SCHEMES: &[&str] = &["http", "https"];

/// Renders Markdown to sanitized HTML.
pub fn to_html(markdown: &str) -> String {
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, Sanitized::new(markdown));
    // Links writers put in posts earn no ranking from this site and get no
    // handle on it (`<a href="` only comes from Markdown links: raw HTML
    // was escaped to text above).
    html.replace("<a href=\"", "<a rel=\"nofollow ugc noopener\" href=\"")
}

/// The URL of the first image of a post that it keeps (http(s) or
/// relative), for link previews (og:image).
pub fn first_image(markdown: &str) -> Option<String> {
    Parser::new_ext(markdown, options()).find_map(|event| match event {
        Event::Start(Tag::Image { dest_url, .. }) if is_safe_url(&dest_url, IMAGE_SCHEMES) => {
            Some(dest_url.into_string())
        }
        _ => None,
    })
}

/// The first words of the post's prose as plain text, for lists, feeds and
/// the meta description, cut at a word boundary.
///
/// Only paragraphs count: headings, lists, tables, code blocks, block
/// quotes, footnotes and image descriptions would run together into
/// something nobody wrote ("Install 1. Download cargo build"). A post with
/// no paragraph has no derived excerpt.
pub fn excerpt(markdown: &str) -> String {
    let mut text = String::new();
    // How deep inside something that is not prose the parser is, and
    // whether it is inside a paragraph.
    let mut outside_prose = 0usize;
    let mut in_paragraph = false;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Paragraph) if outside_prose == 0 => in_paragraph = true,
            Event::End(TagEnd::Paragraph) if in_paragraph => {
                in_paragraph = false;
                text.push(' ');
                if text.len() > EXCERPT_CHARS * 2 {
                    break;
                }
            }
            Event::Start(
                Tag::Heading { .. }
                | Tag::List(_)
                | Tag::Table(_)
                | Tag::CodeBlock(_)
                | Tag::HtmlBlock
                | Tag::BlockQuote(_)
                | Tag::FootnoteDefinition(_)
                | Tag::Image { .. },
            ) => outside_prose += 1,
            Event::End(
                TagEnd::Heading(_)
                | TagEnd::List(_)
                | TagEnd::Table
                | TagEnd::CodeBlock
                | TagEnd::HtmlBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::FootnoteDefinition
                | TagEnd::Image,
            ) => outside_prose = outside_prose.saturating_sub(1),
            Event::Text(part) | Event::Code(part) if in_paragraph && outside_prose == 0 => {
                text.push_str(&part);
            }
            Event::SoftBreak | Event::HardBreak if in_paragraph => text.push(' '),
            _ => {}
        }
    }
    shorten(&text, EXCERPT_CHARS)
}

/// What [`excerpt`] derived before it kept to prose: every text run
/// together. Stored excerpts equal to it were derived, not written, so the
/// editor treats them as derived.
pub fn excerpt_of_every_text(markdown: &str) -> String {
    shorten(
        &every_text(markdown, EXCERPT_CHARS * 8, false),
        EXCERPT_CHARS,
    )
}

/// All the text of the post (headings, lists, code and all), blocks
/// separated by spaces, up to about `limit` bytes: what search snippets are
/// cut from.
pub fn plain_text(markdown: &str, limit: usize) -> String {
    every_text(markdown, limit, true)
}

/// Every text of `markdown` (raw HTML as text too when `with_html`), one
/// space between blocks, until it is longer than `limit` bytes.
fn every_text(markdown: &str, limit: usize, with_html: bool) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(part) | Event::Code(part) => text.push_str(&part),
            Event::Html(part) | Event::InlineHtml(part) if with_html => text.push_str(&part),
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::TableCell
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::FootnoteDefinition,
            ) if !text.ends_with(' ') => text.push(' '),
            Event::End(TagEnd::HtmlBlock) if with_html && !text.ends_with(' ') => text.push(' '),
            _ => {}
        }
        if text.len() > limit {
            break;
        }
    }
    text
}

/// Collapses whitespace and cuts `text` to at most `limit` characters at a
/// word boundary, with an ellipsis when it was cut.
pub fn shorten(text: &str, limit: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::new();
    for word in words {
        let needed = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if needed > limit {
            if out.is_empty() {
                out = word.chars().take(limit.saturating_sub(1)).collect();
            }
            // "word,…" reads as a typo: the ellipsis replaces the comma.
            let kept = out.trim_end_matches([',', ';', ':', '-', '–', '—']).len();
            out.truncate(kept);
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The parser's events with the unsafe ones rewritten.
struct Sanitized<'a> {
    parser: Parser<'a>,
    /// For each open link or image: whether it was kept.
    open: Vec<bool>,
}

impl<'a> Sanitized<'a> {
    fn new(markdown: &'a str) -> Self {
        Self {
            parser: Parser::new_ext(markdown, options()),
            open: Vec::new(),
        }
    }
}

impl<'a> Iterator for Sanitized<'a> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let event = self.parser.next()?;
            let event = match event {
                Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
                Event::Start(Tag::HtmlBlock) => {
                    Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(CowStr::Borrowed(""))))
                }
                Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::CodeBlock),
                Event::Start(Tag::Link { ref dest_url, .. }) => {
                    let keep = is_safe_url(dest_url, LINK_SCHEMES);
                    self.open.push(keep);
                    if !keep {
                        continue;
                    }
                    event
                }
                Event::Start(Tag::Image { ref dest_url, .. }) => {
                    let keep = is_safe_url(dest_url, IMAGE_SCHEMES);
                    self.open.push(keep);
                    if !keep {
                        continue;
                    }
                    event
                }
                Event::End(TagEnd::Link | TagEnd::Image) => {
                    if !self.open.pop().unwrap_or(true) {
                        continue;
                    }
                    event
                }
                other => other,
            };
            return Some(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_urls_never_survive() {
        let attacks = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">x</a>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](java\tscript:alert(1))",
            "[click](javascript&#58;alert(1))",
            "[click](&#x6A;avascript:alert(1))",
            "<javascript:alert(1)>",
            "![x](javascript:alert(1))",
            "![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
            "[x](vbscript:msgbox)",
            "[x]: javascript:alert(1)\n\n[x]",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "`<b>` and <b onmouseover=\"alert(1)\">bold</b>",
            "[a](https://ok.example \"t\\\" onmouseover=\\\"alert(1)\")",
        ];
        for attack in attacks {
            let html = to_html(attack);
            // Text is escaped, so every `<` in the output opens a real tag.
            for tag in html.split('<').skip(1) {
                let tag = tag
                    .split('>')
                    .next()
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                let name = tag.split_whitespace().next().unwrap_or_default();
                assert!(
                    ![
                        "script",
                        "img src=\"x\"",
                        "svg",
                        "iframe",
                        "object",
                        "embed",
                        "style"
                    ]
                    .iter()
                    .any(|bad| tag.starts_with(bad)),
                    "{attack} -> {html}"
                );
                // Attribute values are quoted with `"` escaped inside them:
                // split the tag into what is outside and inside quotes.
                let (mut outside, mut values, mut inside) = (String::new(), Vec::new(), false);
                for part in tag.split('"') {
                    if inside {
                        values.push(part.trim_start().to_owned());
                    } else {
                        outside.push_str(part);
                    }
                    inside = !inside;
                }
                assert!(!outside.contains(" on"), "{attack} -> {html}");
                for value in values {
                    for scheme in ["javascript:", "vbscript:", "data:"] {
                        assert!(!value.starts_with(scheme), "{attack} -> {html}");
                    }
                }
                assert!(
                    [
                        "p", "/p", "a", "/a", "img", "pre", "/pre", "code", "/code", "/img"
                    ]
                    .contains(&name.trim_end_matches('/')),
                    "unexpected tag {name} in {attack} -> {html}"
                );
            }
        }
    }

    #[test]
    fn headings_code_tables_links_and_images_render() {
        let html = to_html(
            "# Title\n\nSome *text* and [a link](https://example.com/a?b=1&c=2).\n\n\
             ![A cat](/static/cat.png \"Cat\")\n\n```rust\nfn main() {}\n```\n\n\
             | a | b |\n|---|---|\n| 1 | 2 |\n\n[mail](mailto:a@example.com) [rel](/blog/x)\n",
        );
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<em>text</em>"), "{html}");
        assert!(
            html.contains(
                "<a rel=\"nofollow ugc noopener\" href=\"https://example.com/a?b=1&amp;c=2\">a link</a>"
            ),
            "{html}"
        );
        assert!(
            html.contains("<img src=\"/static/cat.png\" alt=\"A cat\" title=\"Cat\" />"),
            "{html}"
        );
        assert!(
            html.contains("<pre><code class=\"language-rust\">fn main() {}"),
            "{html}"
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("href=\"mailto:a@example.com\""), "{html}");
        assert!(html.contains("href=\"/blog/x\""), "{html}");
    }

    #[test]
    fn the_first_kept_image_is_the_posts_preview_image() {
        assert_eq!(
            first_image(
                "Text\n\n![a](javascript:x) ![b](/static/b.png) ![c](https://c.example/c.png)"
            ),
            Some("/static/b.png".to_owned())
        );
        assert_eq!(first_image("No image, [a link](https://x.example)"), None);
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = to_html("<div class=\"x\">hi</div>\n\nand <b>bold</b>");
        assert!(
            html.contains("<pre><code>&lt;div class=\"x\"&gt;hi&lt;/div&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"), "{html}");
        let dropped = to_html("[click me](javascript:alert(1))");
        assert_eq!(dropped.trim(), "<p>click me</p>");
    }

    #[test]
    fn excerpts_are_plain_text_cut_at_a_word() {
        assert_eq!(
            excerpt("# Hello\n\nThis is **bold** and `code`."),
            "This is bold and code."
        );
        let long = excerpt(&"lorem ipsum ".repeat(100));
        assert!(long.chars().count() <= EXCERPT_CHARS);
        assert!(long.ends_with('…'));
        assert_eq!(shorten("a  b\n c", 10), "a b c");
        assert_eq!(shorten("one two, three", 9), "one two…");
    }

    #[test]
    fn excerpts_come_from_paragraphs_only() {
        let markdown = "# Installing\n\n- Download it\n- Run it\n\n```sh\ncargo build\n```\n\n\
             > A quote\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![A cat](/cat.png)\n\n\
             Soloist runs *one* binary\nwith `postgres` inside.[^1]\n\n## More\n\nSecond paragraph.\n\n\
             [^1]: A footnote.\n";
        assert_eq!(
            excerpt(markdown),
            "Soloist runs one binary with postgres inside. Second paragraph."
        );
        assert_eq!(excerpt("- only\n- a list\n"), "");
        assert_eq!(
            excerpt_of_every_text("# Hello\n\nThis is it."),
            "Hello This is it."
        );
        assert_eq!(
            plain_text("# Title\n\n- **item**s\n\n```\ncode <b>\n```\n", 1000).trim(),
            "Title items code <b>"
        );
    }
}
