//! Every message Soloist sends, each with its own pair of askama templates:
//! `templates/mail/<name>.txt` (the text part) and
//! `templates/mail/<name>.html` (the HTML part, in `mail/layout.html`: the
//! site's name, the message, and a clear button for its link, readable in
//! light and dark mail clients). Both parts are made from the same facts,
//! so they always say the same.

use super::Mail;

/// What every message names: the site.
#[derive(Clone, Debug)]
pub struct Site {
    /// The site's name.
    pub name: String,
    /// Its public URL, without a trailing slash.
    pub base_url: String,
}

impl Site {
    /// The URL of `path` on the site.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// Declares a message: its facts, its subject, and its two templates.
macro_rules! message {
    (
        $(#[$meta:meta])*
        $module:ident, $text:tt, $html:tt,
        subject($site:ident, $facts:ident) $subject:block,
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

            impl Facts {
                /// The subject line.
                pub fn subject(&self, site: &super::Site) -> String {
                    let ($site, $facts) = (site, self);
                    $subject
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
                    })
                }
            }
        }
    };
}

message!(
    /// Confirm an address (sign-up, a new link, an email change).
    verify_email, "mail/verify_email.txt", "mail/verify_email.html",
    subject(site, _m) { format!("Confirm your email address for {}", site.name) },
    {
        /// The confirmation link.
        link: String,
    }
);

message!(
    /// A sign-up with an address that has an account already.
    already_registered, "mail/already_registered.txt", "mail/already_registered.html",
    subject(site, _m) { format!("Someone tried to create a {} account with your address", site.name) },
    {}
);

message!(
    /// A password reset link.
    reset_password, "mail/reset_password.txt", "mail/reset_password.html",
    subject(site, _m) { format!("Reset your {} password", site.name) },
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
    subject(site, _m) { format!("Your {} password was changed", site.name) },
    {
        /// The person's name.
        name: String,
    }
);

message!(
    /// A sign-in link.
    magic_link, "mail/magic_link.txt", "mail/magic_link.html",
    subject(site, _m) { format!("Your {} sign-in link", site.name) },
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
    subject(site, _m) { format!("Choose a password for {}", site.name) },
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
    subject(site, _m) { format!("Someone tried to move a {} account to your address", site.name) },
    {}
);

message!(
    /// The notice, to the old address, of an email change.
    email_changed, "mail/email_changed.txt", "mail/email_changed.html",
    subject(site, _m) { format!("Your {} email address was changed", site.name) },
    {
        /// The new address.
        new_email: String,
    }
);

message!(
    /// The notice of a sign-in provider connected to an account.
    provider_connected, "mail/provider_connected.txt", "mail/provider_connected.html",
    subject(site, m) { format!("{} was connected to your {} account", m.provider, site.name) },
    {
        /// The person's name.
        name: String,
        /// "GitHub", "Google".
        provider: String,
    }
);

/// A message whose templates failed to render, as plain text: a template
/// bug must not stop a reset link from going out.
pub fn or_plain(result: Result<Mail, askama::Error>, to: &str, subject: &str) -> Mail {
    result.unwrap_or_else(|error| {
        tracing::error!(%error, "rendering a mail template failed");
        Mail {
            to: to.to_owned(),
            subject: subject.to_owned(),
            body: format!("{subject}\n"),
            html: None,
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
