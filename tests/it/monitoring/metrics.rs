//! Readiness and Prometheus metrics, and who may read them.

use soloist::config::{MetricsArgs, Overrides};

use crate::support::{TestApp, spawn_app, spawn_app_with};

async fn metrics_text(app: &TestApp) -> String {
    let response = app
        .http
        .get(format!("{}/metrics", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    response.text().await.unwrap()
}

/// The value of the sample `series` (name with labels, exactly as written).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_200_on_a_migrated_database_and_503_with_the_reason_when_migrations_are_pending()
{
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ready\n");

    let latest = soloist::db::latest_embedded_version();
    app.sql()
        .await
        .execute(
            "DELETE FROM refinery_schema_history WHERE version = $1",
            &[&latest],
        )
        .await
        .unwrap();
    let response = app
        .http
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let reason = response.text().await.unwrap();
    assert!(
        reason.contains(&format!("schema version {}", latest - 1))
            && reason.contains("migrations are pending"),
        "{reason}"
    );
    // Liveness does not care about the schema.
    assert_eq!(app.get(&app.http, "/healthz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_pattern_method_and_status_and_show_the_pool() {
    let app = spawn_app().await;
    for slug in ["no-such-post", "another-missing-one"] {
        assert_eq!(app.get(&app.http, &format!("/blog/{slug}")).await.0, 404);
    }
    assert_eq!(app.get(&app.http, "/blog").await.0, 200);
    assert_eq!(app.get(&app.http, "/nothing/here/at/all").await.0, 404);
    let text = metrics_text(&app).await;

    assert_eq!(
        sample(
            &text,
            r#"soloist_http_requests_total{route="/blog/{slug}",method="GET",status="404"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"soloist_http_requests_total{route="/blog",method="GET",status="200"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"soloist_http_requests_total{route="unmatched",method="GET",status="404"}"#
        ),
        Some(1.0)
    );
    // Raw paths never become labels.
    assert!(!text.contains("no-such-post") && !text.contains("/nothing/here"));
    assert_eq!(
        sample(
            &text,
            r#"soloist_http_request_duration_seconds_count{route="/blog/{slug}"}"#
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"soloist_http_request_duration_seconds_bucket{route="/blog/{slug}",le="+Inf"}"#
        ),
        Some(2.0)
    );
    assert!(text.contains("# TYPE soloist_http_request_duration_seconds histogram"));

    assert_eq!(sample(&text, "soloist_db_pool_max_size"), Some(8.0));
    let size = sample(&text, "soloist_db_pool_size").unwrap();
    let available = sample(&text, "soloist_db_pool_available").unwrap();
    let in_use = sample(&text, "soloist_db_pool_in_use").unwrap();
    assert!((1.0..=8.0).contains(&size), "{text}");
    assert_eq!(available + in_use, size);
    assert_eq!(sample(&text, "soloist_db_pool_waiting"), Some(0.0));
    assert!(sample(&text, "soloist_database_size_bytes").unwrap() > 1_000_000.0);
    assert_eq!(sample(&text, "soloist_up"), Some(1.0));
    assert!(text.contains(&format!(
        "soloist_build_info{{version=\"{}\",",
        env!("CARGO_PKG_VERSION")
    )));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_when_the_last_backup_succeeded_and_nothing_before_the_first() {
    let data_dir = crate::support::scratch_dir();
    let app = spawn_app_with(Overrides {
        data_dir: Some(data_dir.clone()),
        ..Overrides::default()
    })
    .await;
    let text = metrics_text(&app).await;
    assert!(
        !text.contains("soloist_backup_last_success_timestamp_seconds"),
        "{text}"
    );
    app.soloist.stop().await.unwrap();

    let backups = data_dir.join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let file = backups.join("soloist-20260102-030405.dump");
    std::fs::write(&file, b"PGDMP").unwrap();
    let finished = std::fs::metadata(&file)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let app = spawn_app_with(Overrides {
        data_dir: Some(data_dir),
        ..Overrides::default()
    })
    .await;
    let text = metrics_text(&app).await;
    assert_eq!(
        sample(&text, "soloist_backup_last_success_timestamp_seconds"),
        Some(finished as f64),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_refused_through_a_proxy_or_with_a_wrong_token_and_open_with_the_right_one() {
    let app = spawn_app_with(Overrides {
        metrics: MetricsArgs {
            token: Some("s3cret-scrape-token".to_owned()),
            ..MetricsArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    let url = format!("{}/metrics", app.url);
    // Loopback, straight to Soloist (a local Prometheus).
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), 200);
    // Through a reverse proxy on this machine: the peer is loopback, but
    // the visitor is not.
    let proxied = app
        .http
        .get(&url)
        .header("X-Forwarded-For", "203.0.113.50")
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), 403);
    assert!(proxied.text().await.unwrap().contains("metrics_token"));
    let wrong = app
        .http
        .get(&url)
        .header("X-Forwarded-For", "203.0.113.50")
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 403);
    let right = app
        .http
        .get(&url)
        .header("Forwarded", "for=203.0.113.50")
        .bearer_auth("s3cret-scrape-token")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert!(right.text().await.unwrap().contains("soloist_up 1"));
}
