//! The first-run setup that makes the first admin, and admin pages for users.

use reqwest::StatusCode;
use soloist::config::Overrides;

use super::{PASSWORD, location};
use crate::support::spawn_app_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_answer_403_to_users_and_the_first_admin_comes_from_setup_once() {
    let app = spawn_app_with(Overrides::default()).await;
    let anonymous = app.new_browser();
    let response = anonymous
        .get(format!("{}/admin/outbox", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/sign-in"));
    let home = anonymous
        .get(format!("{}/", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("one-time setup link"),
        "a fresh install tells someone at this machine where setup is"
    );
    let setup_url = app.soloist.setup_url().expect("no admin yet: a setup link");
    let setup_token = app.soloist.setup_token.clone().unwrap();
    assert_eq!(setup_url, format!("{}/setup?token={setup_token}", app.url));

    // Without SMTP, mail lands in the outbox: a user signs up from it.
    let user = app.new_browser();
    app.post_form(
        &user,
        "/sign-up",
        "/sign-up",
        &[
            ("name", "User"),
            ("email", "user@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    // The mail is written after the answer: wait for it.
    let sql = app.sql().await;
    let mut token_mail = None;
    for _ in 0..100 {
        token_mail = sql
            .query_opt(
                "SELECT body FROM mail_outbox WHERE to_address = 'user@example.com'",
                &[],
            )
            .await
            .unwrap()
            .map(|row| row.get::<_, String>(0));
        if token_mail.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let token_mail = token_mail.expect("the sign-up mail is in the outbox");
    let token = token_mail
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    app.post_form(
        &user,
        "/verify-email",
        "/verify-email",
        &[("token", &token)],
    )
    .await;
    assert_eq!(
        user.get(format!("{}/admin/outbox", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    let admin = app.new_browser();
    let created = app
        .post_form(
            &admin,
            &format!("/setup?token={setup_token}"),
            "/setup",
            &[
                ("name", "Owner"),
                ("email", "owner@example.com"),
                ("password", PASSWORD),
                ("token", &setup_token),
            ],
        )
        .await;
    assert_eq!(location(&created), "/account?notice=welcome-admin");
    let outbox = admin
        .get(format!("{}/admin/outbox", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(outbox.status(), 200);
    assert!(outbox.text().await.unwrap().contains("user@example.com"));
    assert_eq!(
        app.new_browser()
            .get(format!("{}/setup", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let again = app
        .post_form(
            &app.new_browser(),
            "/sign-in",
            "/setup",
            &[
                ("name", "Second"),
                ("email", "second@example.com"),
                ("password", PASSWORD),
                ("token", &setup_token),
            ],
        )
        .await;
    assert_eq!(
        again.status(),
        StatusCode::NOT_FOUND,
        "setup works only while no admin exists"
    );
    app.soloist.stop().await.unwrap();
}
