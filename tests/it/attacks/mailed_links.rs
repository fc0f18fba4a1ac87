//! What a stolen session or a mailbox reader gets: links mailed only to the
//! owner, links that die with a password change, the outbox's hidden links.

use reqwest::StatusCode;
use soloist::config::{Overrides, ServerArgs};

use crate::support::{PASSWORD, TestApp, spawn_app_with, spawn_app_with_mail};

/// A browser holding the session of an account that has no password (as
/// one made by GitHub sign-in has), as a thief who copied the cookie would.
async fn stolen_session_without_password(app: &TestApp) -> reqwest::Client {
    let thief = app
        .signed_in_as("oauth@example.com", "Only OAuth", false)
        .await;
    app.sql()
        .await
        .execute("DELETE FROM accounts WHERE provider = 'credentials'", &[])
        .await
        .unwrap();
    thief
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_session_cannot_give_the_account_a_password_or_move_its_address() {
    let (app, sink) = spawn_app_with_mail().await;
    let thief = stolen_session_without_password(&app).await;
    let (_, security) = app.get(&thief, "/account/security").await;
    assert!(security.contains("Mail me a link") && !security.contains("Current password"));
    let set = app
        .post_form(
            &thief,
            "/account/security",
            "/account/password",
            &[
                ("current_password", ""),
                ("new_password", "thiefs new passphrase"),
            ],
        )
        .await;
    assert_eq!(set.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.count("SELECT count(*) FROM accounts WHERE provider = 'credentials'")
            .await,
        0
    );
    let moved = app
        .post_form(
            &thief,
            "/account/profile",
            "/account/email",
            &[("email", "thief@example.com"), ("password", "")],
        )
        .await;
    assert_eq!(moved.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The only way to a password is a link mailed to the owner's address.
    app.post_form(&thief, "/account/security", "/account/password/link", &[])
        .await;
    assert!(
        sink.wait_for("oauth@example.com", 1)
            .await
            .subject()
            .contains("Choose a password")
    );
    assert_eq!(sink.count_to("thief@example.com"), 0);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_mailed_before_die_when_the_password_changes() {
    let (app, sink) = spawn_app_with_mail().await;
    let owner = app.signed_in_as("owner@example.com", "Owner", false).await;
    // A thief who knew the password started an email change; a reset and a
    // magic link are pending too.
    app.post_form(
        &owner,
        "/account/profile",
        "/account/email",
        &[("email", "thief@example.com"), ("password", PASSWORD)],
    )
    .await;
    let change = sink.wait_for("thief@example.com", 1).await.token();
    let stranger = app.new_browser();
    app.post_form(
        &stranger,
        "/magic-link",
        "/magic-link",
        &[("email", "owner@example.com")],
    )
    .await;
    let magic = sink.wait_for("owner@example.com", 1).await.token();
    // The owner changes the password.
    let changed = app
        .post_form(
            &owner,
            "/account/security",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let thief = app.new_browser();
    let moved = app.verify(&thief, &change).await;
    assert_eq!(
        moved.status(),
        StatusCode::BAD_REQUEST,
        "the email change is dead"
    );
    let signed_in = app
        .post_form(
            &thief,
            "/sign-in",
            "/magic-link/confirm",
            &[("token", &magic)],
        )
        .await;
    assert_eq!(
        signed_in.status(),
        StatusCode::BAD_REQUEST,
        "the magic link is dead"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'owner@example.com'")
            .await,
        1
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_change_to_a_taken_address_sends_its_owner_no_confirmation_link() {
    let (app, sink) = spawn_app_with_mail().await;
    drop(app.signed_in_as("taken@example.com", "Taken", false).await);
    let other = app.signed_in_as("other@example.com", "Other", false).await;
    let asked = app
        .post_form(
            &other,
            "/account/profile",
            "/account/email",
            &[("email", "taken@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        asked.headers()["location"],
        "/account/profile?notice=email-change-sent"
    );
    let mail = sink.wait_for("taken@example.com", 1).await;
    assert!(!mail.subject().contains("Confirm"), "{}", mail.subject());
    assert!(!mail.text().contains("token="), "{}", mail.text());
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_hides_other_peoples_links_when_the_site_is_reachable_from_outside() {
    let app = spawn_app_with(Overrides {
        server: ServerArgs {
            base_url: Some("http://soloist.example".to_owned()),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    assert!(
        app.soloist
            .warnings
            .iter()
            .any(|warning| warning.contains("No SMTP server")),
        "{:?}",
        app.soloist.warnings
    );
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    app.sign_up(
        &app.new_browser(),
        "Someone",
        "someone@example.com",
        PASSWORD,
    )
    .await;
    app.post_form(
        &app.new_browser(),
        "/magic-link",
        "/magic-link",
        &[("email", "admin@example.com")],
    )
    .await;
    let mut page = String::new();
    for _ in 0..100 {
        page = app.get(&admin, "/admin/outbox").await.1;
        if page.contains("someone@example.com") && page.contains("To admin@example.com") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(page.contains("Mail is not being sent"), "{page}");
    assert!(page.contains("verify-email?token=[hidden]"), "{page}");
    let own = page.split("magic-link/confirm?token=").nth(1).unwrap();
    assert!(
        !own.starts_with("[hidden]"),
        "an admin reads their own mail whole"
    );
    let (_, overview) = app.get(&admin, "/admin").await;
    assert!(overview.contains("Mail is not being sent"));
    app.soloist.stop().await.unwrap();
}
