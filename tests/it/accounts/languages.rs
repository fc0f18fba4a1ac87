//! Mail in its recipient's language: the profile's for someone with an
//! account, the browser's `Accept-Language` for a visitor signing up.

use crate::support::{PASSWORD, spawn_app_with_mail};

/// A browser whose every request asks for `languages`.
fn browser_asking_for(languages: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_LANGUAGE,
        reqwest::header::HeaderValue::from_str(languages).unwrap(),
    );
    // Installs the TLS provider reqwest is built without, as every browser does.
    crate::support::browser();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_whose_profile_is_german_gets_the_password_reset_mail_in_german() {
    let (app, sink) = spawn_app_with_mail().await;
    app.create_account("ada@example.com", "Ada", false).await;
    app.sql()
        .await
        .execute(
            "UPDATE user_profiles SET language = 'de' \
             WHERE user_id = (SELECT id FROM users WHERE email = 'ada@example.com')",
            &[],
        )
        .await
        .unwrap();
    // The browser asks for English: the profile's language wins.
    let browser = browser_asking_for("en-GB,en;q=0.9");
    let response = app
        .post_form(
            &browser,
            "/reset-password",
            "/reset-password",
            &[("email", "ada@example.com")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let mail = sink.wait_for("ada@example.com", 1).await;
    assert_eq!(
        mail.decoded_subject(),
        "Setzen Sie Ihr Passwort für Soloist zurück"
    );
    let text = mail.text();
    assert!(text.starts_with("Hallo Ada,\n"), "{text}");
    assert!(
        text.contains("Um ein neues Passwort zu wählen, öffnen Sie diesen Link:"),
        "{text}"
    );
    assert!(text.contains("/reset-password/confirm?token="), "{text}");
    assert!(mail.data.contains("lang=3D\"de\"") || mail.data.contains("lang=\"de\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_whose_browser_asks_for_german_gets_the_confirmation_mail_in_german() {
    let (app, sink) = spawn_app_with_mail().await;
    let browser = browser_asking_for("de-DE,de;q=0.9");
    let response = app
        .sign_up(&browser, "Grete", "grete@example.com", PASSWORD)
        .await;
    assert_eq!(response.status(), 200);
    let mail = sink.wait_for("grete@example.com", 1).await;
    assert_eq!(
        mail.decoded_subject(),
        "Bestätigen Sie Ihre E-Mail-Adresse für Soloist"
    );
    let text = mail.text();
    assert!(
        text.contains("Bitte bestätigen Sie Ihre E-Mail-Adresse, indem Sie diesen Link öffnen:"),
        "{text}"
    );
    assert!(text.contains("Der Link ist 24 Stunden gültig."), "{text}");
    // The new profile keeps the language, for the mail that follows.
    let stored: Option<String> = app
        .sql()
        .await
        .query_one(
            "SELECT p.language FROM user_profiles p JOIN users u ON u.id = p.user_id \
             WHERE u.email = 'grete@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored.as_deref(), Some("de"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_whose_browser_asks_for_french_gets_the_confirmation_mail_in_english() {
    let (app, sink) = spawn_app_with_mail().await;
    let browser = browser_asking_for("fr");
    let response = app
        .sign_up(&browser, "Jeanne", "jeanne@example.com", PASSWORD)
        .await;
    assert_eq!(response.status(), 200);
    let mail = sink.wait_for("jeanne@example.com", 1).await;
    assert_eq!(
        mail.decoded_subject(),
        "Confirm your email address for Soloist"
    );
    assert!(
        mail.text()
            .contains("Please confirm your email address by opening this link:"),
        "{}",
        mail.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_offers_only_complete_languages_and_reads_an_old_french_choice_as_english() {
    let (app, _sink) = spawn_app_with_mail().await;
    let browser = app.signed_in_as("marie@example.com", "Marie", false).await;
    app.sql()
        .await
        .execute("UPDATE user_profiles SET language = 'fr'", &[])
        .await
        .unwrap();
    let (status, page) = app.get(&browser, "/account/profile").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(r#"<option value="en" selected>English</option>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<option value="de" >Deutsch</option>"#),
        "{page}"
    );
    assert!(
        !page.contains("Français") && !page.contains("Español"),
        "{page}"
    );
}
