//! Pages over HTTP against the real app.

use crate::support::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_renders_in_the_layout_with_security_headers() {
    let app = spawn_app().await;
    let response = app.http.get(&app.url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers.contains_key("referrer-policy"));
    let body = response.text().await.unwrap();
    assert!(
        body.contains("<title>Soloist · A complete SaaS application in a single binary.</title>"),
        "{body}"
    );
    assert!(
        !body.contains("External PostgreSQL"),
        "the public does not learn which database runs it"
    );
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let (_, status) = app.get(&admin, "/").await;
    assert!(
        status.contains("External PostgreSQL 18"),
        "admins see which database runs it"
    );
    assert!(status.contains(&format!(
        "Version {}",
        soloist::db::latest_embedded_version()
    )));
    assert!(body.contains("/static/app.css?v="));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_pages_get_the_404_page_and_bad_methods_an_error_page() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/no/such/page", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Page not found") && body.contains("<html"),
        "{body}"
    );
    let response = app
        .http
        .post(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
    assert!(response.text().await.unwrap().contains("<html"));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_files_are_embedded_with_etags_and_long_caching_when_versioned() {
    let app = spawn_app().await;
    let home = app
        .http
        .get(&app.url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let css_path = home
        .split("href=\"")
        .find_map(|part| {
            part.split('"')
                .next()
                .filter(|href| href.starts_with("/static/app.css"))
        })
        .unwrap();
    let response = app
        .http
        .get(format!("{}{css_path}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/css");
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = response.headers()["etag"].clone();
    let body = response.text().await.unwrap();
    assert!(
        body.contains("prefers-color-scheme"),
        "light and dark themes"
    );
    let revalidated = app
        .http
        .get(format!("{}{css_path}", app.url))
        .header("If-None-Match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    let missing = app
        .http
        .get(format!("{}/static/nope.css", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_503_quickly_when_the_database_is_unreachable() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let admin = soloist::db::connect(&{
        let mut config = app.db.config.clone();
        config.dbname("postgres");
        config
    })
    .await
    .unwrap();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
            name = app.db.name
        ))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let response = app
        .http
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    admin
        .batch_execute(&format!(
            "ALTER DATABASE {} ALLOW_CONNECTIONS true",
            app.db.name
        ))
        .await
        .unwrap();
    let response = app
        .http
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "recovers once the database is back");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_database_connections_are_closed_and_the_next_request_opens_a_new_one() {
    use soloist::db::{CONNECTION_IDLE_LIMIT, PoolTotals, close_idle_connections};
    let app = spawn_app().await;
    let pools = app.soloist.request_pools();
    assert_eq!(pools.len(), 2, "one pool for each of the two workers");
    let held = || PoolTotals::of(&pools).size;
    let close_all = |limit| {
        pools
            .iter()
            .map(|pool| close_idle_connections(pool, limit))
            .sum::<usize>()
    };
    let blog = || async {
        app.http
            .get(format!("{}/blog", app.url))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(blog().await, 200);
    assert!(held() >= 1, "the page used a pooled connection");
    // Recently used connections stay.
    assert_eq!(close_all(CONNECTION_IDLE_LIMIT), 0);
    let open = held();
    assert_eq!(close_all(std::time::Duration::ZERO), open);
    assert_eq!(held(), 0, "no backend is kept for an idle site");
    assert_eq!(blog().await, 200, "the next request connects again");
    assert!(held() >= 1);
}
