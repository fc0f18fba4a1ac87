//! The first-run setup that makes the first admin, and admin pages for users.

use reqwest::StatusCode;
use soloist::config::Overrides;

use crate::support::{PASSWORD, location, spawn_app_with};

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
    let home = app.get(&anonymous, "/").await.1;
    assert!(
        home.contains("one-time setup link"),
        "a fresh install tells someone at this machine where setup is"
    );
    let setup_url = app.soloist.setup_url().expect("no admin yet: a setup link");
    let setup_token = app.soloist.setup_token.clone().unwrap();
    assert_eq!(setup_url, format!("{}/setup?token={setup_token}", app.url));

    // Without SMTP, mail lands in the outbox: a user signs up from it.
    let user = app.new_browser();
    app.sign_up(&user, "User", "user@example.com", PASSWORD)
        .await;
    let token = app.outbox_token("user@example.com").await;
    app.verify(&user, &token).await;
    assert_eq!(
        app.get(&user, "/admin/outbox").await.0,
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
