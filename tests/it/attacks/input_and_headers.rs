//! Input PostgreSQL cannot store, caching of signed-in pages, the CSRF
//! cookie over HTTPS, and slugs that would tell of a draft.

use reqwest::StatusCode;
use soloist::config::{Overrides, ServerArgs};

use crate::support::{PASSWORD, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_bytes_and_invalid_text_are_refused_with_400_before_any_work() {
    let app = spawn_app_with(Overrides::default()).await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let anonymous = app.new_browser();
    for path in [
        "/search?q=a%00b",
        "/blog/a%00b",
        "/blog?after=%FF",
        "/sign-in?next=%C3%28",
    ] {
        let (status, body) = app.get(&anonymous, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("not allowed"), "{path}: {body}");
    }
    let (status, body) = app.get(&admin, "/admin/audit.csv?action=a%00b").await;
    assert_eq!(
        status, 400,
        "the export is refused before it streams: {body}"
    );
    let (status, _) = app.get(&admin, "/admin/users?q=%00").await;
    assert_eq!(status, 400);
    let signed_up = app
        .sign_up(&anonymous, "Nul\0Byte", "nul@example.com", PASSWORD)
        .await;
    assert_eq!(signed_up.status(), StatusCode::BAD_REQUEST);
    let saved = app
        .post_form(
            &admin,
            "/posts/new",
            "/posts",
            &[("title", "Title"), ("content", "a\0b"), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.count("SELECT count(*) FROM posts").await, 0);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_pages_are_never_cached_and_public_ones_may_be() {
    let app = spawn_app_with(Overrides::default()).await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    for path in [
        "/account",
        "/account/security",
        "/blog",
        "/admin",
        "/admin/outbox",
        "/posts",
    ] {
        let response = admin
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["cache-control"],
            "private, no-store",
            "{path}"
        );
    }
    let public = app
        .new_browser()
        .get(format!("{}/blog", app.url))
        .send()
        .await
        .unwrap();
    assert_ne!(
        public
            .headers()
            .get("cache-control")
            .map(|value| value.to_str().unwrap()),
        Some("private, no-store")
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_anonymous_csrf_cookie_is_host_prefixed() {
    let app = spawn_app_with(Overrides {
        server: ServerArgs {
            base_url: Some("https://soloist.example".to_owned()),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    let response = app
        .http
        .get(format!("{}/sign-in", app.url))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect();
    let csrf = cookies
        .iter()
        .find(|cookie| cookie.contains("soloist_csrf="))
        .unwrap();
    assert!(csrf.starts_with("__Host-soloist_csrf="), "{csrf}");
    assert!(csrf.contains("Secure") && csrf.contains("Path=/"), "{csrf}");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_slug_says_the_same_whether_a_draft_or_a_published_post_holds_it() {
    let app = spawn_app_with(Overrides::default()).await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    for title in ["Secret plans", "Public news"] {
        let response = app
            .post_form(
                &alice,
                "/posts/new",
                "/posts",
                &[("title", title), ("content", "x"), ("action", "save")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let published: uuid::Uuid = app
        .sql()
        .await
        .query_one("SELECT id FROM posts WHERE slug = 'public-news'", &[])
        .await
        .unwrap()
        .get(0);
    let publish = app
        .post_form(
            &alice,
            "/posts",
            &format!("/posts/{published}/status"),
            &[("status", "published")],
        )
        .await;
    assert_eq!(publish.status(), StatusCode::SEE_OTHER);
    let bob = app.signed_in_as("bob@example.com", "Bob", false).await;
    let mut messages = Vec::new();
    for slug in ["secret-plans", "public-news"] {
        let body = app
            .post_form(
                &bob,
                "/posts/new",
                "/posts",
                &[("title", "Mine"), ("slug", slug)],
            )
            .await
            .text()
            .await
            .unwrap();
        let message = body
            .split("field-error")
            .nth(1)
            .unwrap()
            .split("</p>")
            .next()
            .unwrap()
            .replace(slug, "SLUG");
        messages.push(message);
    }
    assert_eq!(messages[0], messages[1]);
    assert!(!messages[0].contains("Another post"), "{}", messages[0]);
    app.soloist.stop().await.unwrap();
}
