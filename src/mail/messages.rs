//! Every message Soloist sends, each with its own pair of askama templates:
//! `templates/mail/<name>.txt` (the text part) and
//! `templates/mail/<name>.html` (the HTML part, in `mail/layout.html`: the
//! site's name, the message, and a clear button for its link, readable in
//! light and dark mail clients). Both parts are made from the same facts,
//! so they always say the same, and every sentence in them is a message of
//! the catalogs ([`crate::i18n`]) in the recipient's language.

use fluent_bundle::FluentArgs;

use super::Mail;
use crate::accounts::paths;
use crate::i18n::{self, Language};

/// What every message names: the site, and the language it is written in.
#[derive(Clone, Debug)]
pub struct Site {
    /// The site's name.
    pub name: String,
    /// Its public URL, without a trailing slash.
    pub base_url: String,
    /// The recipient's language.
    pub language: Language,
}

impl Site {
    /// The URL of `path` on the site.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The message `id` with only the site's variables (the layout's and
    /// the button's words).
    pub fn t(&self, id: &str) -> String {
        self.words(id, &[], false)
    }

    /// The message `id` with the site's variables and `facts`, escaped for
    /// HTML when `escape` (for the `-html` messages, whose markup stays).
    fn words(&self, id: &str, facts: &[(&'static str, &str)], escape: bool) -> String {
        let site = [
            ("site", self.name.clone()),
            ("site_url", self.base_url.clone()),
            ("sign_in_url", self.url(paths::SIGN_IN)),
            ("reset_url", self.url(paths::RESET_PASSWORD)),
            ("security_url", self.url(paths::SECURITY)),
        ];
        let facts = facts
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned()));
        let mut args = FluentArgs::new();
        for (name, value) in site.into_iter().chain(facts) {
            if escape {
                args.set(name, html_escaped(&value));
            } else {
                args.set(name, value);
            }
        }
        i18n::t(self.language, id, Some(&args))
    }
}

/// `text` escaped the way the HTML templates escape what they show.
fn html_escaped(text: &str) -> String {
    match askama::filters::escape(text, askama::filters::Html) {
        Ok(escaped) => escaped.to_string(),
        Err(never) => match never {},
    }
}

/// Declares a message: its facts, the id of its subject in the catalogs,
/// and its two templates. The templates say `{{ t("id") }}` for a sentence
/// with the site's variables and the facts, and the HTML part
/// `{{ t_html("id-html")|safe }}` for one with markup.
macro_rules! message {
    (
        $(#[$meta:meta])*
        $module:ident, $text:tt, $html:tt, subject = $subject:literal,
        { $($(#[$field_meta:meta])* $field:ident: $ty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        pub mod $module {
            use askama::Template;

            /// What the message says.
            #[derive(Clone, Debug)]
            pub struct Facts {
                $($(#[$field_meta])* pub $field: $ty,)*
            }

            /// The text part.
            #[derive(Template)]
            #[template(path = $text, escape = "none")]
            pub struct Text<'a> {
                /// The site.
                pub site: &'a super::Site,
                /// The facts.
                pub m: &'a Facts,
                /// The subject.
                pub subject: &'a str,
            }

            /// The HTML part.
            #[derive(Template)]
            #[template(path = $html)]
            pub struct Html<'a> {
                /// The site.
                pub site: &'a super::Site,
                /// The facts.
                pub m: &'a Facts,
                /// The subject.
                pub subject: &'a str,
            }

            impl Text<'_> {
                /// A sentence of the message.
                pub fn t(&self, id: &str) -> String {
                    self.site.words(id, &self.m.fields(), false)
                }
            }

            impl Html<'_> {
                /// A sentence of the message (escaped when shown).
                pub fn t(&self, id: &str) -> String {
                    self.site.words(id, &self.m.fields(), false)
                }

                /// A sentence with markup: its facts escaped, its markup
                /// as the catalog writes it (show it with `|safe`).
                pub fn t_html(&self, id: &str) -> String {
                    self.site.words(id, &self.m.fields(), true)
                }
            }

            impl Facts {
                /// The facts by name, for the catalogs' variables.
                fn fields(&self) -> Vec<(&'static str, &str)> {
                    vec![$((stringify!($field), self.$field.as_str()),)*]
                }

                /// The subject line.
                pub fn subject(&self, site: &super::Site) -> String {
                    site.words($subject, &self.fields(), false)
                }

                /// The message to `to`.
                pub fn to(&self, site: &super::Site, to: &str) -> Result<super::Mail, askama::Error> {
                    let subject = self.subject(site);
                    let text = Text { site, m: self, subject: &subject }.render()?;
                    let html = Html { site, m: self, subject: &subject }.render()?;
                    Ok(super::Mail {
                        to: to.to_owned(),
                        subject,
                        body: text,
                        html: Some(html),
                        language: site.language,
                    })
                }

                /// The message to `to`, or its subject alone when its
                /// templates failed ([`super::or_plain`]).
                pub fn mail(&self, site: &super::Site, to: &str) -> super::Mail {
                    super::or_plain(self.to(site, to), site.language, to, &self.subject(site))
                }
            }
        }
    };
}

message!(
    /// Confirm an address (sign-up, a new link, an email change).
    verify_email, "mail/verify_email.txt", "mail/verify_email.html",
    subject = "mail-verify-email-subject",
    {
        /// The confirmation link.
        link: String,
    }
);

message!(
    /// A sign-up with an address that has an account already.
    already_registered, "mail/already_registered.txt", "mail/already_registered.html",
    subject = "mail-already-registered-subject",
    {}
);

message!(
    /// A password reset link.
    reset_password, "mail/reset_password.txt", "mail/reset_password.html",
    subject = "mail-reset-password-subject",
    {
        /// The person's name.
        name: String,
        /// The reset link.
        link: String,
    }
);

message!(
    /// The notice of a reset password.
    password_changed, "mail/password_changed.txt", "mail/password_changed.html",
    subject = "mail-password-changed-subject",
    {
        /// The person's name.
        name: String,
    }
);

message!(
    /// A sign-in link.
    magic_link, "mail/magic_link.txt", "mail/magic_link.html",
    subject = "mail-magic-link-subject",
    {
        /// The person's name.
        name: String,
        /// The sign-in link.
        link: String,
    }
);

message!(
    /// A link to choose a first password.
    choose_password, "mail/choose_password.txt", "mail/choose_password.html",
    subject = "mail-choose-password-subject",
    {
        /// The person's name.
        name: String,
        /// The link.
        link: String,
    }
);

message!(
    /// An email change to an address that has its own account.
    address_taken, "mail/address_taken.txt", "mail/address_taken.html",
    subject = "mail-address-taken-subject",
    {}
);

message!(
    /// The notice, to the old address, of an email change.
    email_changed, "mail/email_changed.txt", "mail/email_changed.html",
    subject = "mail-email-changed-subject",
    {
        /// The new address.
        new_email: String,
    }
);

message!(
    /// The notice of a sign-in provider connected to an account.
    provider_connected, "mail/provider_connected.txt", "mail/provider_connected.html",
    subject = "mail-provider-connected-subject",
    {
        /// The person's name.
        name: String,
        /// "GitHub", "Google".
        provider: String,
    }
);

/// A message whose templates failed to render, as plain text: a template
/// bug must not stop a reset link from going out.
pub fn or_plain(
    result: Result<Mail, askama::Error>,
    language: Language,
    to: &str,
    subject: &str,
) -> Mail {
    result.unwrap_or_else(|error| {
        tracing::error!(%error, "rendering a mail template failed");
        Mail {
            to: to.to_owned(),
            subject: subject.to_owned(),
            body: format!("{subject}\n"),
            html: None,
            language,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site {
            name: "Soloist".to_owned(),
            base_url: "https://example.com".to_owned(),
            language: Language::En,
        }
    }

    #[test]
    fn both_parts_carry_the_link_and_the_html_part_escapes_what_it_shows() {
        let facts = reset_password::Facts {
            name: "<Sam>".to_owned(),
            link: "https://example.com/reset-password/confirm?token=abc&x=1".to_owned(),
        };
        let mail = facts.to(&site(), "sam@example.com").unwrap();
        assert_eq!(mail.subject, "Reset your Soloist password");
        assert!(mail.body.contains("Hello <Sam>,"));
        assert!(mail.body.contains("token=abc&x=1"));
        let html = mail.html.unwrap();
        assert!(
            html.contains("&#60;Sam&#62;") || html.contains("&lt;Sam&gt;"),
            "{html}"
        );
        assert!(html.contains("Choose a new password"));
        assert!(html.contains("token=abc&#38;x=1") || html.contains("token=abc&amp;x=1"));
        assert!(html.contains("Soloist"));
    }
}
