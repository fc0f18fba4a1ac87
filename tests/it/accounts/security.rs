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
