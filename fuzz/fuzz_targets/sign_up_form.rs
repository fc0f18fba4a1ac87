//! The sign-up form body, decoded as `POST /sign-up` decodes it and, when
//! it decodes, checked as the handler checks it. Properties: an accepted
//! email is lower-case, checked again unchanged, and is an address mail can
//! be sent to; the name keeps its limits; the password is 8 to 128
//! characters.

#![no_main]

use libfuzzer_sys::fuzz_target;
use soloist::accounts::model::{DisplayName, Email};
use soloist::accounts::pages::SignUpForm;

fuzz_target!(|data: &[u8]| {
    let Ok(form) = serde_html_form::from_bytes::<SignUpForm>(data) else {
        return;
    };
    let Ok((email, name, password)) = form.parse() else {
        return;
    };
    assert_eq!(email.as_str(), email.to_lowercase());
    assert_eq!(Email::parse(&email).as_deref(), Ok(email.as_str()));
    assert!(
        email.parse::<lettre::Address>().is_ok(),
        "an accepted address mail can't be sent to: {email:?}"
    );
    assert!(email.len() <= 254);
    assert_eq!(DisplayName::parse(&name).as_deref(), Ok(name.as_str()));
    assert!(!name.is_empty() && name.chars().count() <= 100);
    assert!(!name.chars().any(char::is_control));
    let length = password.expose().chars().count();
    assert!((8..=128).contains(&length));
});
