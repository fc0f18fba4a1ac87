//! The HTML part of a message without templates of its own (`messages`
//! has a pair for every message Soloist sends), rendered from its text
//! through `templates/mail/message.html` in the mail layout, so the two
//! always say the same: paragraphs stay paragraphs, a link on a line of its own becomes the
//! message's button (with the plain link under it for clients that show
//! no buttons), and links inside sentences stay links.

use askama::Template;

use super::Mail;
use crate::accounts::paths;
use crate::i18n::Language;

/// A run of text, or a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// What is shown.
    pub text: String,
    /// Where it leads, for a link.
    pub href: Option<String>,
}

/// A button to the message's link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Button {
    /// The link.
    pub href: String,
    /// What it says.
    pub label: String,
}

/// A paragraph (its lines), or a button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The lines of a paragraph.
    pub lines: Vec<Vec<Segment>>,
    /// The button, for a link on a line of its own.
    pub button: Option<Button>,
}

/// `templates/mail/message.html`.
#[derive(Template)]
#[template(path = "mail/message.html")]
pub struct MessagePage {
    /// The site (its name heads the message).
    pub site: super::messages::Site,
    /// The subject, as the document title.
    pub subject: String,
    /// The body.
    pub blocks: Vec<Block>,
}

/// The HTML part of `mail`.
pub fn render(site_name: &str, mail: &Mail) -> Result<String, askama::Error> {
    MessagePage {
        site: super::messages::Site {
            name: site_name.to_owned(),
            base_url: String::new(),
            language: mail.language,
        },
        subject: mail.subject.clone(),
        blocks: blocks(&mail.body, mail.language),
    }
    .render()
}

fn is_link(word: &str) -> bool {
    (word.starts_with("https://") || word.starts_with("http://")) && word.len() > "https://".len()
}

/// What a button to `href` says.
fn label_for(href: &str, language: Language) -> String {
    let path = href
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|at| &rest[at..]))
        .unwrap_or("/");
    let path = path.split('?').next().unwrap_or(path);
    let id = match path {
        paths::VERIFY_EMAIL => "mail-verify-email-button",
        paths::RESET_PASSWORD_CONFIRM => "mail-choose-password-button",
        paths::MAGIC_LINK_CONFIRM => "mail-sign-in-button",
        _ => "mail-open-link-button",
    };
    crate::i18n::t(language, id, None)
}

/// The text of a line, with its links apart (a sentence's final `.` or
/// `,` is not part of a link).
fn segments(line: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut text = String::new();
    for (index, word) in line.split(' ').enumerate() {
        if index > 0 {
            text.push(' ');
        }
        let link = word.trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
        if is_link(link) {
            if !text.is_empty() {
                out.push(Segment {
                    text: std::mem::take(&mut text),
                    href: None,
                });
            }
            out.push(Segment {
                text: link.to_owned(),
                href: Some(link.to_owned()),
            });
            text.push_str(&word[link.len()..]);
        } else {
            text.push_str(word);
        }
    }
    if !text.is_empty() {
        out.push(Segment { text, href: None });
    }
    out
}

/// The blocks of a text body in `language` (the buttons' words).
pub fn blocks(body: &str, language: Language) -> Vec<Block> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|paragraph| !paragraph.is_empty())
        .map(|paragraph| {
            if is_link(paragraph) && !paragraph.contains(char::is_whitespace) {
                Block {
                    lines: Vec::new(),
                    button: Some(Button {
                        href: paragraph.to_owned(),
                        label: label_for(paragraph, language),
                    }),
                }
            } else {
                Block {
                    lines: paragraph.lines().map(segments).collect(),
                    button: None,
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_alone_is_a_button_and_links_in_sentences_stay_links() {
        let blocks = blocks(
            "Hello Ada,\n\nOpen this link:\n\nhttps://site.example/verify-email?token=abc\n\n\
             Not you? Reset it at https://site.example/reset-password.\nThanks\n",
            Language::En,
        );
        assert_eq!(blocks.len(), 4);
        assert_eq!(
            blocks[2].button,
            Some(Button {
                href: "https://site.example/verify-email?token=abc".to_owned(),
                label: "Confirm my email".to_owned(),
            })
        );
        assert_eq!(
            blocks[3].lines[0],
            vec![
                Segment {
                    text: "Not you? Reset it at ".to_owned(),
                    href: None
                },
                Segment {
                    text: "https://site.example/reset-password".to_owned(),
                    href: Some("https://site.example/reset-password".to_owned())
                },
                Segment {
                    text: ".".to_owned(),
                    href: None
                },
            ]
        );
        assert_eq!(blocks[3].lines[1][0].text, "Thanks");
    }

    #[test]
    fn the_html_escapes_the_text_and_keeps_the_link_whole() {
        let html = render(
            "Soloist",
            &Mail {
                html: None,
                language: Language::En,
                to: "a@example.com".to_owned(),
                subject: "Hi <there>".to_owned(),
                body: "Ada & <b>Bob</b>\n\nhttps://site.example/magic-link/confirm?token=a-b_c\n"
                    .to_owned(),
            },
        )
        .unwrap();
        assert!(
            html.contains("Ada &#38; &#60;b&#62;Bob&#60;/b&#62;"),
            "{html}"
        );
        assert!(
            html.contains("href=\"https://site.example/magic-link/confirm?token=a-b_c\""),
            "{html}"
        );
        assert!(html.contains(">Sign in</a>"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
    }
}
