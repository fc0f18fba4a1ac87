//! Key pages of a small site (an admin, a plan, two published posts),
//! as an anonymous visitor sees them. What differs between runs and
//! machines, or with every release, is filtered out: CSRF tokens, ids,
//! asset hashes, versions, and the port the test app listens on.

use crate::support::{TestApp, spawn_app};

/// A site with an admin, a plan and two published posts, with fixed times.
async fn small_site() -> TestApp {
    let app = spawn_app().await;
    let admin = app
        .signed_in_as("ada@example.com", "Ada Lovelace", true)
        .await;
    for (title, content, tags) in [
        (
            "Hello, world",
            "The first post.\n\nIt has **two** paragraphs and a [link](https://example.com).",
            "welcome, rust",
        ),
        ("Second thoughts", "A shorter post.", "rust"),
    ] {
        let id = app
            .write_post(
                &admin,
                &[
                    ("title", title),
                    ("content", content),
                    ("tags", tags),
                    ("action", "save"),
                ],
            )
            .await;
        app.publish(&admin, &id).await;
    }
    app.sql()
        .await
        .batch_execute(
            "UPDATE posts SET \
                 published_at = CASE slug WHEN 'hello-world' THEN timestamptz '2026-01-02 10:00Z' \
                                          ELSE timestamptz '2026-01-03 10:00Z' END, \
                 created_at = timestamptz '2026-01-01 09:00Z'; \
             UPDATE posts SET updated_at = published_at; \
             INSERT INTO subscription_plans (name, description, price_cents, interval, features) \
             VALUES ('Pro', 'For a growing site.', 1200, 'month', \
                     ARRAY['Featured posts', 'Priority support'])",
        )
        .await
        .unwrap();
    app
}

/// `path` as an anonymous visitor gets it, with what varies filtered out.
async fn page(app: &TestApp, path: &str) -> String {
    let (status, body) = app.get(&app.new_browser(), path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// Runs `check` with the filters every page snapshot needs.
fn filtered(check: impl FnOnce()) {
    let version = env!("CARGO_PKG_VERSION").replace('.', r"\.");
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in [
        (
            r#"name="csrf_token" value="[^"]*""#,
            r#"name="csrf_token" value="[csrf]""#,
        ),
        (r"\?v=[0-9a-f]{12}", "?v=[hash]"),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[uuid]",
        ),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (version.as_str(), "[version]"),
        // The home page's status: the server's version and the schema's.
        (r"PostgreSQL \d+(\.\d+)*", "PostgreSQL [version]"),
        (r"<dd>Version \d+</dd>", "<dd>Version [migrations]</dd>"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings.bind(check);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn home() {
    let app = small_site().await;
    let body = page(&app, "/").await;
    filtered(|| insta::assert_snapshot!(body));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blog() {
    let app = small_site().await;
    let body = page(&app, "/blog").await;
    filtered(|| insta::assert_snapshot!(body));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_results() {
    let app = small_site().await;
    let body = page(&app, "/search?q=paragraph").await;
    filtered(|| insta::assert_snapshot!(body));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_without_results() {
    let app = small_site().await;
    let body = page(&app, "/search?q=secnd").await;
    filtered(|| insta::assert_snapshot!(body));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post() {
    let app = small_site().await;
    let body = page(&app, "/blog/hello-world").await;
    filtered(|| insta::assert_snapshot!(body));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in() {
    let app = small_site().await;
    let body = page(&app, "/sign-in").await;
    filtered(|| insta::assert_snapshot!(body));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pricing() {
    let app = small_site().await;
    let body = page(&app, "/pricing").await;
    filtered(|| insta::assert_snapshot!(body));
    app.soloist.stop().await.unwrap();
}
