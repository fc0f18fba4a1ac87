//! The admin "Database" page, and an exhausted pool.

use std::time::{Duration, Instant};

use soloist::config::{DatabaseArgs, Overrides, ServerArgs};

use crate::support::{spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_page_shows_sizes_connections_cache_and_escaped_statements_to_admins_only() {
    let app = spawn_app().await;
    let user = app
        .signed_in_as("reader@example.com", "Reader", false)
        .await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    assert_eq!(app.get(&user, "/admin/database").await.0, 403);

    let sql = app.sql().await;
    for _ in 0..3 {
        sql.query(
            "SELECT count(*) FROM users WHERE 2 < 3 AND name <> '<b>x</b>'",
            &[],
        )
        .await
        .unwrap();
    }
    let (status, body) = app.get(&admin, "/admin/database").await;
    assert_eq!(status, 200, "{body}");
    for expected in [
        "audit_logs",
        "partitions)",
        "users",
        "Connections to this database",
        "cache hit ratio",
        "idle",
        "Slowest statements",
        "FROM users WHERE $1 &#60; $2 AND name &#60;&#62; $3",
    ] {
        assert!(body.contains(expected), "{expected} missing: {body}");
    }
    assert!(!body.contains("WHERE $1 < $2"));
    assert!(!body.contains("pg_stat_statements is not available"));
    assert!(
        body.contains("href=\"/admin/database\""),
        "linked from the admin nav"
    );

    let (status, body) = app.get(&admin, "/admin/database?by=mean").await;
    assert_eq!(status, 200);
    assert!(body.contains("<strong>By time per call</strong>"));
    assert_eq!(app.get(&admin, "/admin/database?by=fastest").await.0, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_page_says_statement_statistics_are_unavailable_without_the_extension() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    app.sql()
        .await
        .batch_execute("DROP EXTENSION pg_stat_statements")
        .await
        .unwrap();
    let (status, body) = app.get(&admin, "/admin/database").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("pg_stat_statements is not available"),
        "{body}"
    );
    assert!(body.contains("audit_logs"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_waits_a_bounded_time_for_an_exhausted_pool_and_gets_a_503() {
    // One worker with one connection, which a page holds while it waits on
    // a lock the test takes.
    let app = spawn_app_with(Overrides {
        database: DatabaseArgs {
            pool_timeout_ms: Some(300),
            pool_size: Some(1),
            ..DatabaseArgs::default()
        },
        server: ServerArgs {
            workers: Some(1),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    let locker = app.sql().await;
    locker
        .batch_execute("BEGIN; LOCK TABLE posts IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let held = tokio::spawn({
        let (http, url) = (app.http.clone(), app.url.clone());
        async move {
            http.get(format!("{url}/blog"))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let pools = app.soloist.request_pools();
    let started = Instant::now();
    while soloist::db::PoolTotals::of(&pools).available > 0
        || soloist::db::PoolTotals::of(&pools).size == 0
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the page took the connection"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = Instant::now();
    let response = tokio::time::timeout(
        Duration::from_secs(5),
        app.http.get(format!("{}/blog", app.url)).send(),
    )
    .await
    .expect("no answer: the page waited on the lock instead of for the pool")
    .unwrap();
    let waited = started.elapsed();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Temporarily unavailable")
    );
    assert_eq!(app.get(&app.http, "/readyz").await.0, 503);

    locker.batch_execute("COMMIT").await.unwrap();
    assert_eq!(held.await.unwrap(), 200, "the page that waited on the lock");
    assert_eq!(app.get(&app.http, "/blog").await.0, 200);
    assert_eq!(app.get(&app.http, "/readyz").await.0, 200);
}
