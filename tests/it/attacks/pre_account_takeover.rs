//! Taking an account by signing up first with its address: the squatter
//! gets nothing, and loses the account when the owner proves the address.

use reqwest::StatusCode;
use soloist::config::Overrides;

use crate::smtp::SmtpSink;
use crate::support::{PASSWORD, TestApp, spawn_app_with, spawn_app_with_mail};

const SQUATTER_PASSWORD: &str = "squatters own long passphrase";

/// The squatter signs up with the victim's address and a password of
/// their own; the sign-up mails the victim a confirmation link.
async fn squat(app: &TestApp, sink: &SmtpSink, email: &str) -> String {
    let before = sink.count_to(email);
    let response = app
        .sign_up(&app.new_browser(), "Mallory", email, SQUATTER_PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    sink.wait_for(email, before + 1).await.token()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squatter_cannot_use_an_unconfirmed_account_and_loses_it_when_the_owner_confirms() {
    let (app, sink) = spawn_app_with_mail().await;
    let token = squat(&app, &sink, "victim@example.com").await;
    // Signing in before the address is proven only asks for confirmation.
    let squatter = app.new_browser();
    let refused = app
        .sign_in(&squatter, "victim@example.com", SQUATTER_PASSWORD)
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Confirm your email first")
    );
    assert_eq!(app.get(&squatter, "/account").await.0, 303, "no session");
    // The owner opens the mail in their own browser and confirms without
    // knowing the password.
    let owner = app.new_browser();
    let confirmed = app.verify(&owner, &token).await;
    assert_eq!(
        confirmed.headers()["location"],
        "/account/security?notice=password-removed"
    );
    assert_eq!(app.get(&owner, "/account").await.0, 200);
    // The squatter's password no longer opens the account.
    assert_eq!(
        app.sign_in(&app.new_browser(), "victim@example.com", SQUATTER_PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.count("SELECT count(*) FROM accounts WHERE provider = 'credentials'")
            .await,
        0
    );
    // The owner chooses a password through a link mailed to the address.
    let before = sink.count_to("victim@example.com");
    let asked = app
        .post_form(&owner, "/account/security", "/account/password/link", &[])
        .await;
    assert_eq!(
        asked.headers()["location"],
        "/account/security?notice=password-link-sent"
    );
    let link = sink.wait_for("victim@example.com", before + 1).await;
    assert!(link.subject().contains("Choose a password"));
    let set = app
        .post_form(
            &owner,
            "/account/security",
            "/reset-password/confirm",
            &[
                ("token", &link.token()),
                ("password", "the owners own passphrase"),
            ],
        )
        .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.sign_in(
            &app.new_browser(),
            "victim@example.com",
            "the owners own passphrase"
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squatter_loses_the_account_when_the_owner_signs_in_with_a_magic_link() {
    let (app, sink) = spawn_app_with_mail().await;
    squat(&app, &sink, "victim@example.com").await;
    let owner = app.new_browser();
    let before = sink.count_to("victim@example.com");
    app.post_form(
        &owner,
        "/magic-link",
        "/magic-link",
        &[("email", "victim@example.com")],
    )
    .await;
    let mail = sink.wait_for("victim@example.com", before + 1).await;
    let signed_in = app
        .post_form(
            &owner,
            "/sign-in",
            "/magic-link/confirm",
            &[("token", &mail.token())],
        )
        .await;
    assert_eq!(
        signed_in.headers()["location"],
        "/account/security?notice=password-removed"
    );
    assert_eq!(
        app.sign_in(&app.new_browser(), "victim@example.com", SQUATTER_PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoever_signed_up_keeps_the_password_in_the_same_browser_or_by_typing_it_again() {
    let (app, sink) = spawn_app_with_mail().await;
    // The same browser: one press.
    let browser = app.new_browser();
    app.sign_up(&browser, "Ada", "ada@example.com", PASSWORD)
        .await;
    let token = sink.wait_for("ada@example.com", 1).await.token();
    let (_, page) = app
        .get(&browser, &format!("/verify-email?token={token}"))
        .await;
    assert!(
        !page.contains("name=\"password\""),
        "no password asked: {page}"
    );
    let confirmed = app.verify(&browser, &token).await;
    assert_eq!(
        confirmed.headers()["location"],
        "/account?notice=email-verified"
    );
    assert_eq!(
        app.sign_in(&app.new_browser(), "ada@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Another browser (the phone): the password typed again keeps it; a
    // wrong one is refused without using up the link.
    let laptop = app.new_browser();
    app.sign_up(&laptop, "Bea", "bea@example.com", PASSWORD)
        .await;
    let token = sink.wait_for("bea@example.com", 1).await.token();
    let phone = app.new_browser();
    let (_, page) = app
        .get(&phone, &format!("/verify-email?token={token}"))
        .await;
    assert!(page.contains("name=\"password\""), "{page}");
    let wrong = app
        .post_form(
            &phone,
            "/sign-in",
            "/verify-email",
            &[("token", &token), ("password", "not the password at all")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let right = app
        .post_form(
            &phone,
            "/sign-in",
            "/verify-email",
            &[("token", &token), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        right.headers()["location"],
        "/account?notice=email-verified"
    );
    assert_eq!(
        app.sign_in(&app.new_browser(), "bea@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_of_an_unconfirmed_account_does_nothing_and_cannot_publish() {
    let app = spawn_app_with(Overrides::default()).await;
    let writer = app
        .signed_in_as("writer@example.com", "Writer", false)
        .await;
    let saved = app
        .post_form(
            &writer,
            "/posts/new",
            "/posts",
            &[("title", "Draft"), ("content", "Text"), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let id: uuid::Uuid = app
        .sql()
        .await
        .query_one("SELECT id FROM posts", &[])
        .await
        .unwrap()
        .get(0);
    // The address turns out unproven (an account from before this rule).
    app.sql()
        .await
        .execute("UPDATE users SET email_verified = false", &[])
        .await
        .unwrap();
    let publish = app
        .post_form(
            &writer,
            "/sign-in",
            &format!("/posts/{id}/status"),
            &[("status", "published")],
        )
        .await;
    assert!(
        publish.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/sign-in"),
        "the session is no longer valid"
    );
    assert_eq!(app.get(&writer, "/account").await.0, 303, "signed out");
    assert_eq!(
        app.count("SELECT count(*) FROM posts WHERE status = 'published'")
            .await,
        0
    );
    app.soloist.stop().await.unwrap();
}
