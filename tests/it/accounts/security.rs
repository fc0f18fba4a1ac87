//! The security page: sessions, a password change, and the CSRF check on
//! every form of the accounts area.

use reqwest::StatusCode;

use crate::support::{PASSWORD, location, sample_paths, spawn_app_with_mail};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_post_route_refuses_a_missing_wrong_or_cross_site_csrf_token() {
    let (app, sink) = spawn_app_with_mail().await;
    let browser = app.new_browser();
    app.sign_up_and_verify(
        &sink,
        &browser,
        "Ada Lovelace",
        "csrf@example.com",
        PASSWORD,
    )
    .await;
    let good = app.csrf(&browser, "/account").await;
    for route in &sample_paths(
        soloist::accounts::pages::ROUTES,
        "post",
        &[
            soloist::web::routes::Access::Public,
            soloist::web::routes::Access::Member,
        ],
    ) {
        let url = format!("{}{route}", app.url);
        let missing = browser
            .post(&url)
            .form(&[("email", "csrf@example.com")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            missing.status(),
            StatusCode::FORBIDDEN,
            "{route} without a token"
        );
        let wrong = browser
            .post(&url)
            .form(&[("csrf_token", "x".repeat(64))])
            .send()
            .await
            .unwrap();
        assert_eq!(
            wrong.status(),
            StatusCode::FORBIDDEN,
            "{route} with a wrong token"
        );
        let cross_site = browser
            .post(&url)
            .header("Sec-Fetch-Site", "cross-site")
            .form(&[("csrf_token", good.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            cross_site.status(),
            StatusCode::FORBIDDEN,
            "{route} from another site"
        );
        let other_origin = browser
            .post(&url)
            .header("Origin", "https://evil.example")
            .form(&[("csrf_token", good.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            other_origin.status(),
            StatusCode::FORBIDDEN,
            "{route} with a foreign Origin"
        );
        // Forwarding headers from a peer that is not a trusted proxy do not
        // make a foreign Origin look like this site's own.
        let forged = browser
            .post(&url)
            .header("Origin", "https://evil.example")
            .header("X-Forwarded-Host", "evil.example")
            .header("X-Forwarded-Proto", "https")
            .header("Forwarded", "host=evil.example;proto=https")
            .form(&[("csrf_token", good.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            forged.status(),
            StatusCode::FORBIDDEN,
            "{route} with a foreign Origin and forged forwarding headers"
        );
    }
    // Still signed in: none of those requests did anything.
    assert_eq!(app.get(&browser, "/account").await.0, 200);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_and_ended_by_their_owner_only() {
    let (app, sink) = spawn_app_with_mail().await;
    let alice = app.new_browser();
    app.sign_up_and_verify(&sink, &alice, "Ada Lovelace", "alice@example.com", PASSWORD)
        .await;
    let alice_laptop = app.new_browser();
    assert_eq!(
        app.sign_in(&alice_laptop, "alice@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let mallory = app.new_browser();
    app.sign_up_and_verify(
        &sink,
        &mallory,
        "Ada Lovelace",
        "mallory@example.com",
        PASSWORD,
    )
    .await;

    let page = app.get(&alice, "/account/security").await.1;
    assert!(page.contains("This session"));
    let ids: Vec<String> = app
        .sql()
        .await
        .query("SELECT s.id::text FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'alice@example.com'", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(ids.len(), 2);
    // The other session is listed with its sign-out button; this one is marked.
    assert_eq!(
        ids.iter().filter(|id| page.contains(id.as_str())).count(),
        1,
        "{page}"
    );
    // Mallory cannot end Alice's sessions: 404, and they stay active.
    for id in &ids {
        let response = app
            .post_form(
                &mallory,
                "/account",
                &format!("/account/sessions/{id}/end"),
                &[],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.get(&alice_laptop, "/account").await.0, 200);
    // Alice ends all her other sessions.
    let response = app
        .post_form(
            &alice,
            "/account/security",
            "/account/sessions/end-others",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(
        location(&response),
        "/account/security?notice=sessions-ended"
    );
    assert_eq!(
        app.get(&alice_laptop, "/account").await.0,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get(&alice, "/account").await.0, 200);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let (app, sink) = spawn_app_with_mail().await;
    let browser = app.new_browser();
    app.sign_up_and_verify(
        &sink,
        &browser,
        "Ada Lovelace",
        "change@example.com",
        PASSWORD,
    )
    .await;
    let other = app.new_browser();
    app.sign_in(&other, "change@example.com", PASSWORD).await;
    let wrong = app
        .post_form(
            &browser,
            "/account/security",
            "/account/password",
            &[
                ("current_password", "not it at all"),
                ("new_password", "another fine passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("not your current password")
    );
    let done = app
        .post_form(
            &browser,
            "/account/security",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "another fine passphrase"),
            ],
        )
        .await;
    assert_eq!(location(&done), "/account/security?notice=password-changed");
    assert_eq!(app.get(&other, "/account").await.0, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&browser, "/account").await.0, 200);
    assert_eq!(
        app.sign_in(
            &app.new_browser(),
            "change@example.com",
            "another fine passphrase"
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}

/// A browser that sends `user_agent`.
fn browser_sending(user_agent: &str) -> reqwest::Client {
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .user_agent(user_agent)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_show_the_browser_and_system_by_name_and_keep_the_raw_header_at_hand() {
    const CHROME_ON_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \
         (KHTML, like Gecko) Chrome/148.0.0.0 Safari/537.36";
    const FIREFOX_ON_WINDOWS: &str =
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:145.0) Gecko/20100101 Firefox/145.0";
    let app = spawn_app_with_mail().await.0;
    app.create_account("alice@example.com", "Alice", false)
        .await;
    let (desktop, laptop) = (
        browser_sending(CHROME_ON_LINUX),
        browser_sending(FIREFOX_ON_WINDOWS),
    );
    for browser in [&desktop, &laptop] {
        let response = app.sign_in(browser, "alice@example.com", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let page = app.get(&desktop, "/account/security").await.1;
    assert!(
        page.contains(&format!(
            "<td title=\"{CHROME_ON_LINUX}\">Chrome 148 on Linux</td>"
        )),
        "{page}"
    );
    assert!(page.contains(">Firefox 145 on Windows</td>"), "{page}");
    assert!(
        page.contains("aria-label=\"Sign out Firefox 145 on Windows from"),
        "{page}"
    );
    assert!(
        !page.contains(">Mozilla/5.0"),
        "no raw header as text: {page}"
    );
    // Admins read the same names on the user's page and in the audit trail.
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let sql = app.sql().await;
    let user: String = sql
        .query_one(
            "SELECT id::text FROM users WHERE email = 'alice@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let user_page = app.get(&admin, &format!("/admin/users/{user}")).await.1;
    assert!(
        user_page.contains(">Chrome 148 on Linux</td>"),
        "{user_page}"
    );
    let entry: String = sql
        .query_one(
            "SELECT id::text FROM audit_logs WHERE user_agent = $1 LIMIT 1",
            &[&CHROME_ON_LINUX],
        )
        .await
        .unwrap()
        .get(0);
    let detail = app.get(&admin, &format!("/admin/audit/{entry}")).await.1;
    assert!(
        detail.contains(&format!(
            "Chrome 148 on Linux <code class=\"muted\">{CHROME_ON_LINUX}</code>"
        )),
        "{detail}"
    );
    app.soloist.stop().await.unwrap();
}
