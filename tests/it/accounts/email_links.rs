//! Links sent by mail: password resets and magic sign-in links, used once.

use reqwest::StatusCode;

use crate::support::{PASSWORD, csrf_in, location, spawn_app_with_mail};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_sets_a_new_password_ends_every_session_and_sends_a_notice() {
    let (app, sink) = spawn_app_with_mail().await;
    let first = app.new_browser();
    app.sign_up_and_verify(&sink, &first, "Ada Lovelace", "reset@example.com", PASSWORD)
        .await;
    let response = app
        .post_form(
            &first,
            "/reset-password",
            "/reset-password",
            &[("email", "reset@example.com")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let mail = sink.wait_for("reset@example.com", 2).await;
    assert!(
        mail.link()
            .starts_with(&format!("{}/reset-password/confirm?token=", app.url))
    );
    let stranger = app.new_browser();
    let page = stranger.get(mail.link()).send().await.unwrap();
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let token = csrf_in(&page.text().await.unwrap()).unwrap();
    let new_password = "a brand new and long passphrase";
    let done = stranger
        .post(format!("{}/reset-password/confirm", app.url))
        .form(&[
            ("token", mail.token().as_str()),
            ("password", new_password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/sign-in?notice=password-reset");
    let notice = sink.wait_for("reset@example.com", 3).await;
    assert!(notice.subject().contains("password was changed"));
    assert_eq!(app.get(&first, "/account").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        app.sign_in(&app.new_browser(), "reset@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.sign_in(&app.new_browser(), "reset@example.com", new_password)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Replayed: the token was used.
    let replay = app
        .post_form(
            &stranger,
            "/sign-in",
            "/reset-password/confirm",
            &[
                ("token", &mail.token()),
                ("password", "yet another long passphrase"),
            ],
        )
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magic_links_sign_in_once_and_tokens_refuse_replay_expiry_and_the_wrong_purpose() {
    let (app, sink) = spawn_app_with_mail().await;
    app.sign_up_and_verify(
        &sink,
        &app.new_browser(),
        "Ada Lovelace",
        "magic@example.com",
        PASSWORD,
    )
    .await;
    let browser = app.new_browser();
    app.post_form(
        &browser,
        "/magic-link",
        "/magic-link",
        &[("email", "magic@example.com")],
    )
    .await;
    let mail = sink.wait_for("magic@example.com", 2).await;
    assert!(mail.link().contains("/magic-link/confirm?token="));
    let signed_in = app
        .post_form(
            &browser,
            "/magic-link",
            "/magic-link/confirm",
            &[("token", &mail.token())],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&browser, "/account").await.0, 200);

    let other = app.new_browser();
    let replay = app
        .post_form(
            &other,
            "/magic-link",
            "/magic-link/confirm",
            &[("token", &mail.token())],
        )
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST, "used once");

    // Wrong purpose: a verification token is no sign-in link.
    let verification = sink.wait_for("magic@example.com", 1).await;
    let wrong = app
        .post_form(
            &other,
            "/magic-link",
            "/magic-link/confirm",
            &[("token", &verification.token())],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);

    // Expired.
    app.post_form(
        &other,
        "/magic-link",
        "/magic-link",
        &[("email", "magic@example.com")],
    )
    .await;
    let late = sink.wait_for("magic@example.com", 3).await;
    let lifetime: f64 = app
        .sql()
        .await
        .query_one(
            "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM verification_tokens WHERE type = 'magic_link' ORDER BY created_at DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        lifetime <= 15.0 * 60.0 + 1.0,
        "magic links live at most 15 minutes ({lifetime} s)"
    );
    app.sql()
        .await
        .execute(
            "UPDATE verification_tokens SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    let expired = app
        .post_form(
            &other,
            "/magic-link",
            "/magic-link/confirm",
            &[("token", &late.token())],
        )
        .await;
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get(&other, "/account").await.0, StatusCode::SEE_OTHER);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_redemptions_of_one_token_sign_in_exactly_once() {
    let (app, sink) = spawn_app_with_mail().await;
    app.sign_up_and_verify(
        &sink,
        &app.new_browser(),
        "Ada Lovelace",
        "race@example.com",
        PASSWORD,
    )
    .await;
    app.post_form(
        &app.new_browser(),
        "/magic-link",
        "/magic-link",
        &[("email", "race@example.com")],
    )
    .await;
    let token = sink.wait_for("race@example.com", 2).await.token();
    let mut browsers = Vec::new();
    for _ in 0..20 {
        let browser = app.new_browser();
        let csrf = app.csrf(&browser, "/magic-link").await;
        browsers.push((browser, csrf));
    }
    let mut attempts = tokio::task::JoinSet::new();
    for (browser, csrf) in browsers {
        let url = format!("{}/magic-link/confirm", app.url);
        let token = token.clone();
        attempts.spawn(async move {
            browser
                .post(url)
                .form(&[("token", token.as_str()), ("csrf_token", csrf.as_str())])
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let statuses: Vec<StatusCode> = attempts.join_all().await;
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::SEE_OTHER)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::BAD_REQUEST)
            .count(),
        19
    );
    app.soloist.stop().await.unwrap();
}
