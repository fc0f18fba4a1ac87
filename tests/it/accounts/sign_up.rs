//! Signing up: the confirmation mail and its link, password rules and
//! hashing, and answers that do not tell which addresses have accounts.

use reqwest::StatusCode;

use super::audit_actions;
use crate::support::{PASSWORD, csrf_in, location, spawn_app_with_mail};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_mails_a_link_that_verifies_the_address_and_signs_in() {
    let (app, sink) = spawn_app_with_mail().await;
    let browser = app.new_browser();
    let response = app
        .sign_up(&browser, "Ada", "Ada@Example.com", PASSWORD)
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Check your email"));
    let mail = sink.wait_for("ada@example.com", 1).await;
    assert!(
        mail.link()
            .starts_with(&format!("{}/verify-email?token=", app.url)),
        "built from the base URL: {}",
        mail.link()
    );
    assert!(mail.token().len() >= 43, "at least 256 bits");

    // The link opens a page; only its button (a POST) uses the token.
    let page = browser.get(mail.link()).send().await.unwrap();
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let body = page.text().await.unwrap();
    assert!(body.contains("Confirm my email"));
    let stored: String = app
        .sql()
        .await
        .query_one("SELECT token FROM verification_tokens", &[])
        .await
        .unwrap()
        .get(0);
    assert_ne!(stored, mail.token(), "tokens are stored hashed");
    assert_eq!(
        stored,
        soloist::accounts::secrets::token_hash(&mail.token())
    );

    let confirm = app.verify(&browser, &mail.token()).await;
    assert_eq!(confirm.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&confirm), "/account?notice=email-verified");
    let account = app.get(&browser, &location(&confirm)).await.1;
    assert!(
        account.contains("ada@example.com") && account.contains("Your email address is confirmed"),
        "{account}"
    );
    let mut actions = audit_actions(&app).await;
    actions.sort();
    assert_eq!(
        actions,
        ["CREATE users", "LOGIN sessions", "UPDATE users"],
        "one audit row per change"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_hashed_with_argon2id_and_weak_ones_are_refused() {
    let (app, sink) = spawn_app_with_mail().await;
    let browser = app.new_browser();
    for (password, message) in [
        ("short", "at least 8"),
        ("password123", "too common"),
        (&"x".repeat(129) as &str, "at most 128"),
    ] {
        let response = app
            .sign_up(&browser, "Bob", "bob@example.com", password)
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.text().await.unwrap();
        assert!(body.contains(message), "{password}: {body}");
        assert!(
            body.contains("bob@example.com"),
            "the form keeps what was typed"
        );
    }
    let long = "a long passphrase that is never truncated ".repeat(3);
    app.sign_up_and_verify(&sink, &browser, "Someone", "bob@example.com", &long)
        .await;
    let hash: String = app
        .sql()
        .await
        .query_one(
            "SELECT password_hash FROM accounts WHERE provider = 'credentials'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let other = app.new_browser();
    let truncated = &long[..64];
    assert_eq!(
        app.sign_in(&other, "bob@example.com", truncated)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in(&other, "bob@example.com", &long).await.status(),
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}

/// A page with its CSRF token blanked, for comparing answers.
fn normalised(body: &str) -> String {
    match csrf_in(body) {
        Some(token) => body.replace(&token, "TOKEN"),
        None => body.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sign_up_and_reset_answer_the_same_for_known_and_unknown_emails() {
    let (app, sink) = spawn_app_with_mail().await;
    app.sign_up_and_verify(
        &sink,
        &app.new_browser(),
        "Ada Lovelace",
        "known@example.com",
        PASSWORD,
    )
    .await;

    let browser = app.new_browser();
    let known = app
        .sign_in(&browser, "known@example.com", "wrong password here")
        .await;
    let (known_status, known_body) = (known.status(), normalised(&known.text().await.unwrap()));
    let unknown = app
        .sign_in(&browser, "nobody@example.com", "wrong password here")
        .await;
    let (unknown_status, unknown_body) =
        (unknown.status(), normalised(&unknown.text().await.unwrap()));
    assert_eq!(known_status, unknown_status);
    assert_eq!(
        known_body.replace("known@", "X@"),
        unknown_body.replace("nobody@", "X@")
    );

    let known = app
        .sign_up(&browser, "K", "known@example.com", PASSWORD)
        .await;
    let (known_status, known_body) = (known.status(), normalised(&known.text().await.unwrap()));
    let unknown = app
        .sign_up(&browser, "K", "fresh@example.com", PASSWORD)
        .await;
    assert_eq!(known_status, unknown.status());
    assert_eq!(
        known_body.replace("known@", "X@"),
        normalised(&unknown.text().await.unwrap()).replace("fresh@", "X@")
    );
    let notice = sink.wait_for("known@example.com", 2).await;
    assert!(
        notice.subject().contains("tried to create"),
        "the owner is told instead: {}",
        notice.subject()
    );

    let known = app
        .post_form(
            &browser,
            "/reset-password",
            "/reset-password",
            &[("email", "known@example.com")],
        )
        .await;
    let (known_status, known_body) = (known.status(), normalised(&known.text().await.unwrap()));
    let unknown = app
        .post_form(
            &browser,
            "/reset-password",
            "/reset-password",
            &[("email", "ghost@example.com")],
        )
        .await;
    assert_eq!(known_status, unknown.status());
    assert_eq!(
        known_body.replace("known@", "X@"),
        normalised(&unknown.text().await.unwrap()).replace("ghost@", "X@")
    );

    // Timing: a miss verifies a dummy hash, so it costs about as much as a hit.
    let mut known_times = Vec::new();
    let mut unknown_times = Vec::new();
    for _ in 0..7 {
        let started = std::time::Instant::now();
        app.sign_in(&browser, "known@example.com", "wrong password here")
            .await;
        known_times.push(started.elapsed());
        let started = std::time::Instant::now();
        app.sign_in(&browser, "nobody@example.com", "wrong password here")
            .await;
        unknown_times.push(started.elapsed());
    }
    known_times.sort();
    unknown_times.sort();
    // The fastest of seven: what each path costs when nothing else on the
    // machine gets in the way (the suite runs tests side by side).
    let (known_fastest, unknown_fastest) =
        (known_times[0].as_secs_f64(), unknown_times[0].as_secs_f64());
    assert!(
        unknown_fastest > known_fastest * 0.5 && unknown_fastest < known_fastest * 2.0,
        "known {known_fastest:.3}s vs unknown {unknown_fastest:.3}s"
    );
    app.soloist.stop().await.unwrap();
}
