//! Signing in and out: fresh session tokens, where `next` may lead, the
//! rate limit, and deactivated accounts.

use reqwest::StatusCode;

use super::audit_actions;
use crate::support::{PASSWORD, csrf_in, location, spawn_app_with_mail};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_issues_a_new_session_token_and_sign_out_ends_it() {
    let (app, sink) = spawn_app_with_mail().await;
    app.sign_up_and_verify(
        &sink,
        &app.new_browser(),
        "Ada Lovelace",
        "fix@example.com",
        PASSWORD,
    )
    .await;
    // An attacker plants a session cookie value before the victim signs in.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let planted = "soloist_session=planted-by-attacker";
    let page = browser
        .get(format!("{}/sign-in", app.url))
        .header("cookie", planted)
        .send()
        .await
        .unwrap();
    let csrf_cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = csrf_in(&page.text().await.unwrap()).unwrap();
    let response = browser
        .post(format!("{}/sign-in", app.url))
        .header("cookie", format!("{planted}; {csrf_cookie}"))
        .form(&[
            ("email", "fix@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
            ("next", "/account/security"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account/security");
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let session = set_cookie.split(';').next().unwrap().to_owned();
    assert!(session.starts_with("soloist_session=") && !session.contains("planted"));
    let stored: String = app
        .sql()
        .await
        .query_one(
            "SELECT token FROM sessions ORDER BY created_at DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_ne!(
        format!("soloist_session={stored}"),
        session,
        "stored hashed"
    );

    let account = browser
        .get(format!("{}/account", app.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), 200);
    let planted_only = browser
        .get(format!("{}/account", app.url))
        .header("cookie", planted)
        .send()
        .await
        .unwrap();
    assert_eq!(
        planted_only.status(),
        StatusCode::SEE_OTHER,
        "the planted value is no session"
    );

    // Sign out ends the session server-side: the old cookie stops working.
    let page = browser
        .get(format!("{}/account", app.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let token = csrf_in(&page.text().await.unwrap()).unwrap();
    let out = browser
        .post(format!("{}/sign-out", app.url))
        .header("cookie", &session)
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = browser
        .get(format!("{}/account", app.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"LOGOUT sessions".to_owned())
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_redirects_only_to_paths_on_this_site() {
    let (app, sink) = spawn_app_with_mail().await;
    app.sign_up_and_verify(
        &sink,
        &app.new_browser(),
        "Ada Lovelace",
        "next@example.com",
        PASSWORD,
    )
    .await;
    let cases = [
        ("/account/profile", "/account/profile"),
        ("/blog?page=2", "/blog?page=2"),
        ("//evil.example", "/account"),
        ("/\\evil.example", "/account"),
        ("https://evil.example", "/account"),
        ("https:evil.example", "/account"),
        ("javascript:alert(1)", "/account"),
        ("/%0d%0aSet-Cookie:x=1", "/%0d%0aSet-Cookie:x=1"),
        ("/ok\r\nLocation: https://evil.example", "/account"),
        ("", "/account"),
    ];
    for (next, expected) in cases {
        let browser = app.new_browser();
        let response = app
            .post_form(
                &browser,
                "/sign-in",
                "/sign-in",
                &[
                    ("email", "next@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&response), expected, "next = {next:?}");
    }
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_cannot_sign_in_and_loses_every_session() {
    let (app, sink) = spawn_app_with_mail().await;
    let browser = app.new_browser();
    app.sign_up_and_verify(
        &sink,
        &browser,
        "Ada Lovelace",
        "gone@example.com",
        PASSWORD,
    )
    .await;
    app.sql()
        .await
        .execute(
            "UPDATE users SET is_active = false WHERE email = 'gone@example.com'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(app.get(&browser, "/account").await.0, StatusCode::SEE_OTHER);
    assert_eq!(
        app.sign_in(&app.new_browser(), "gone@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    app.post_form(
        &app.new_browser(),
        "/magic-link",
        "/magic-link",
        &[("email", "gone@example.com")],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        sink.count_to("gone@example.com"),
        1,
        "no sign-in link for a deactivated account"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_rate_limited_per_address_before_any_hashing() {
    let (app, _sink) = spawn_app_with_mail().await;
    let browser = app.new_browser();
    let token = app.csrf(&browser, "/sign-in").await;
    // Limits count per fixed 5-minute window: do not straddle a boundary.
    let into_window = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 300;
    if into_window > 280 {
        tokio::time::sleep(std::time::Duration::from_secs(301 - into_window)).await;
    }
    let mut statuses = Vec::new();
    for attempt in 0..32 {
        let response = browser
            .post(format!("{}/sign-in", app.url))
            .form(&[
                ("email", format!("user{attempt}@example.com").as_str()),
                ("password", "whatever it is"),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert!(
        statuses[..30]
            .iter()
            .all(|status| *status == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
    let failures = app
        .count("SELECT count(*) FROM audit_logs WHERE action = 'LOGIN_FAILED'")
        .await;
    assert_eq!(
        failures, 30,
        "refused attempts never reach the password check"
    );
    app.soloist.stop().await.unwrap();
}
