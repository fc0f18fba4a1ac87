//! The profile: its fields and theme, an email change, and times shown in
//! the user's time zone.

use crate::support::{PASSWORD, location, spawn_app_with_mail};
use reqwest::StatusCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_saves_and_its_theme_applies_to_every_page() {
    let (app, sink) = spawn_app_with_mail().await;
    let browser = app.new_browser();
    app.sign_up_and_verify(
        &sink,
        &browser,
        "Ada Lovelace",
        "theme@example.com",
        PASSWORD,
    )
    .await;
    let bad = app
        .post_form(
            &browser,
            "/account/profile",
            "/account/profile",
            &[
                ("name", "Ada"),
                ("timezone", "Mars/Olympus"),
                ("theme", "dark"),
                ("website", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = bad.text().await.unwrap();
    assert!(
        body.contains("Europe/Berlin") && body.contains("https://"),
        "{body}"
    );
    let saved = app
        .post_form(
            &browser,
            "/account/profile",
            "/account/profile",
            &[
                ("name", "Ada L."),
                ("bio", "<script>alert(1)</script>"),
                ("website", "https://ada.example"),
                ("location", "London"),
                ("timezone", "Europe/London"),
                ("language", "en"),
                ("theme", "dark"),
            ],
        )
        .await;
    assert_eq!(location(&saved), "/account/profile?notice=profile-saved");
    let confirmed = app.get(&browser, &location(&saved)).await.1;
    assert!(
        confirmed.contains("Your profile was saved."),
        "the saved profile is confirmed: {confirmed}"
    );
    // Error pages too: a 404 and a 403 keep the theme and the signed-in
    // header.
    for (path, status) in [
        ("/", 200),
        ("/account", 200),
        ("/account/security", 200),
        ("/no-such-page-but-still-themed", 404),
        ("/blog/no-such-post", 404),
        ("/admin", 403),
    ] {
        let (got, page) = app.get(&browser, path).await;
        assert_eq!(got, status, "{path}");
        assert!(page.contains("data-theme=\"dark\""), "{path}: {page}");
        assert!(page.contains("Ada L."), "{path}: {page}");
        assert!(!page.contains(">Sign up<"), "{path}: {page}");
    }
    let account = app.get(&browser, "/account").await.1;
    assert!(
        account.contains("alert(1)") && !account.contains("<script>alert"),
        "escaped: {account}"
    );
    assert!(account.contains("Europe/London"));
    let changes: serde_json::Value = app
        .sql()
        .await
        .query_one(
            "SELECT changes FROM audit_logs WHERE entity = 'user_profiles'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        changes["theme"],
        serde_json::json!({ "before": "system", "after": "dark" })
    );
    assert!(
        changes.get("language").is_none(),
        "only changed fields are recorded"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_email_needs_the_password_and_a_confirmed_link() {
    let (app, sink) = spawn_app_with_mail().await;
    let browser = app.new_browser();
    app.sign_up_and_verify(&sink, &browser, "Ada Lovelace", "old@example.com", PASSWORD)
        .await;
    let refused = app
        .post_form(
            &browser,
            "/account/profile",
            "/account/email",
            &[
                ("email", "new@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(sink.count_to("new@example.com"), 0);
    let sent = app
        .post_form(
            &browser,
            "/account/profile",
            "/account/email",
            &[("email", "new@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&sent), "/account/profile?notice=email-change-sent");
    let told = app.get(&browser, &location(&sent)).await.1;
    assert!(
        told.contains("Check the new address"),
        "the page says where the link went: {told}"
    );
    let mail = sink.wait_for("new@example.com", 1).await;
    let email: String = app
        .sql()
        .await
        .query_one("SELECT email FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        email, "old@example.com",
        "nothing changes before the link is opened"
    );
    app.verify(&browser, &mail.token()).await;
    let email: String = app
        .sql()
        .await
        .query_one("SELECT email FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(email, "new@example.com");
    let notice = sink.wait_for("old@example.com", 2).await;
    assert!(notice.subject().contains("email address was changed"));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_are_shown_in_the_users_time_zone() {
    let (app, sink) = spawn_app_with_mail().await;
    let browser = app.new_browser();
    app.sign_up_and_verify(
        &sink,
        &browser,
        "Ada Lovelace",
        "tokyo@example.com",
        PASSWORD,
    )
    .await;
    app.sql()
        .await
        .execute("UPDATE user_profiles SET timezone = 'Asia/Tokyo'", &[])
        .await
        .unwrap();
    let expected: String = app
        .sql()
        .await
        .query_one(
            "SELECT to_char(created_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI') FROM users",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let page = app.get(&browser, "/account").await.1;
    assert!(page.contains(&format!("{expected} Asia/Tokyo")), "{page}");
    app.soloist.stop().await.unwrap();
}
