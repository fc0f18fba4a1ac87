//! Every message Soloist sends, rendered from fixed facts: its subject, its
//! text part and its HTML part, in English and in German.

use soloist::i18n::Language;
use soloist::mail::Mail;
use soloist::mail::messages::{
    Site, address_taken, already_registered, choose_password, email_changed, magic_link,
    password_changed, provider_connected, reset_password, verify_email,
};

const TO: &str = "ada@example.com";

fn site() -> Site {
    Site {
        name: "Soloist".to_owned(),
        base_url: "https://soloist.example".to_owned(),
        language: Language::En,
    }
}

fn german() -> Site {
    Site {
        language: Language::De,
        ..site()
    }
}

/// The message as its recipient's client has it: headers, then each part.
fn shown(mail: &Mail) -> String {
    format!(
        "To: {}\nSubject: {}\n\n--- text/plain ---\n{}\n--- text/html ---\n{}\n",
        mail.to,
        mail.subject,
        mail.body,
        mail.html.as_deref().unwrap_or("(none)")
    )
}

#[test]
fn verify_email() {
    let facts = verify_email::Facts {
        link: "https://soloist.example/verify-email?token=TOKEN".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&site(), TO).unwrap()));
}

#[test]
fn verify_email_in_german() {
    let facts = verify_email::Facts {
        link: "https://soloist.example/verify-email?token=TOKEN".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&german(), TO).unwrap()));
}

#[test]
fn already_registered() {
    let facts = already_registered::Facts {};
    insta::assert_snapshot!(shown(&facts.to(&site(), TO).unwrap()));
}

#[test]
fn already_registered_in_german() {
    let facts = already_registered::Facts {};
    insta::assert_snapshot!(shown(&facts.to(&german(), TO).unwrap()));
}

#[test]
fn reset_password() {
    let facts = reset_password::Facts {
        name: "Ada Lovelace".to_owned(),
        link: "https://soloist.example/reset-password/confirm?token=TOKEN".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&site(), TO).unwrap()));
}

#[test]
fn reset_password_in_german() {
    let facts = reset_password::Facts {
        name: "Ada Lovelace".to_owned(),
        link: "https://soloist.example/reset-password/confirm?token=TOKEN".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&german(), TO).unwrap()));
}

#[test]
fn password_changed() {
    let facts = password_changed::Facts {
        name: "Ada Lovelace".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&site(), TO).unwrap()));
}

#[test]
fn password_changed_in_german() {
    let facts = password_changed::Facts {
        name: "Ada Lovelace".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&german(), TO).unwrap()));
}

#[test]
fn magic_link() {
    let facts = magic_link::Facts {
        name: "Ada Lovelace".to_owned(),
        link: "https://soloist.example/magic-link/confirm?token=TOKEN".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&site(), TO).unwrap()));
}

#[test]
fn magic_link_in_german() {
    let facts = magic_link::Facts {
        name: "Ada Lovelace".to_owned(),
        link: "https://soloist.example/magic-link/confirm?token=TOKEN".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&german(), TO).unwrap()));
}

#[test]
fn choose_password() {
    let facts = choose_password::Facts {
        name: "Ada Lovelace".to_owned(),
        link: "https://soloist.example/reset-password/confirm?token=TOKEN".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&site(), TO).unwrap()));
}

#[test]
fn choose_password_in_german() {
    let facts = choose_password::Facts {
        name: "Ada Lovelace".to_owned(),
        link: "https://soloist.example/reset-password/confirm?token=TOKEN".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&german(), TO).unwrap()));
}

#[test]
fn address_taken() {
    let facts = address_taken::Facts {};
    insta::assert_snapshot!(shown(&facts.to(&site(), TO).unwrap()));
}

#[test]
fn address_taken_in_german() {
    let facts = address_taken::Facts {};
    insta::assert_snapshot!(shown(&facts.to(&german(), TO).unwrap()));
}

#[test]
fn email_changed() {
    let facts = email_changed::Facts {
        new_email: "ada@new.example".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&site(), TO).unwrap()));
}

#[test]
fn email_changed_in_german() {
    let facts = email_changed::Facts {
        new_email: "ada@new.example".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&german(), TO).unwrap()));
}

#[test]
fn provider_connected() {
    let facts = provider_connected::Facts {
        name: "Ada Lovelace".to_owned(),
        provider: "GitHub".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&site(), TO).unwrap()));
}

#[test]
fn provider_connected_in_german() {
    let facts = provider_connected::Facts {
        name: "Ada Lovelace".to_owned(),
        provider: "GitHub".to_owned(),
    };
    insta::assert_snapshot!(shown(&facts.to(&german(), TO).unwrap()));
}

/// A message whose templates failed ([`messages::or_plain`]) goes out as
/// its subject, with the HTML part rendered from the text.
///
/// [`messages::or_plain`]: soloist::mail::messages::or_plain
#[test]
fn a_message_whose_templates_failed() {
    let failed = Err(askama::Error::Fmt);
    let mut mail =
        soloist::mail::messages::or_plain(failed, Language::En, TO, "Reset your Soloist password");
    mail.html = Some(soloist::mail::html::render("Soloist", &mail).unwrap());
    insta::assert_snapshot!(shown(&mail));
}
