//! Monitoring: readiness, Prometheus metrics and who may read them, request
//! ids in responses, logs and audit rows, the admin "Database" page, client
//! addresses behind trusted proxies, and an exhausted pool.

use std::time::{Duration, Instant};

use soloist::config::{DatabaseArgs, MetricsArgs, Overrides, ServerArgs, StripeArgs};

use crate::support::{TestApp, spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery staple";

/// Makes a verified account `email` (an admin) that signs in with [`PASSWORD`].
async fn account(app: &TestApp, email: &str) {
    use soloist::accounts::secrets::{Password, PasswordHasherPool};
    let hasher = PasswordHasherPool::new(1).unwrap();
    let password = Password::new(PASSWORD, &[]).unwrap();
    soloist::accounts::admin::create_admin(
        &app.soloist.pool,
        &hasher,
        email,
        "Someone",
        Some(&password),
    )
    .await
    .unwrap();
}

/// Signs `email` in from a browser that sends `forwarded_for` as its
/// X-Forwarded-For (as a proxy would, or a client forging one).
async fn sign_in_forwarded(
    app: &TestApp,
    email: &str,
    forwarded_for: &str,
) -> (reqwest::Client, reqwest::Response) {
    let browser = app.new_browser();
    let token = app.csrf(&browser, "/sign-in").await;
    let response = browser
        .post(format!("{}/sign-in", app.url))
        .header("X-Forwarded-For", forwarded_for)
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "signing in {email}");
    (browser, response)
}

/// The ip_address of the LOGIN audit row of `email`'s sign-in.
async fn login_ip(app: &TestApp, email: &str) -> String {
    app.sql()
        .await
        .query_one(
            "SELECT a.ip_address FROM audit_logs a JOIN users u ON u.id = a.user_id \
             WHERE u.email = $1 AND a.action = 'LOGIN'",
            &[&email],
        )
        .await
        .unwrap()
        .get(0)
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audited_action_records_the_request_id_that_its_response_carries() {
    let app = spawn_app().await;
    account(&app, "ids@example.com").await;
    let (_, response) = sign_in_forwarded(&app, "ids@example.com", "203.0.113.1").await;
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&request_id).is_ok(), "{request_id}");
    let metadata: serde_json::Value = app
        .sql()
        .await
        .query_one(
            "SELECT metadata FROM audit_logs WHERE action = 'LOGIN'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(metadata["request_id"], request_id.as_str(), "{metadata}");
    // The row's own metadata is kept beside it.
    assert_eq!(metadata["method"], "password");
    // Every response carries an id of its own.
    let first = app.http.get(format!("{}/", app.url)).send().await.unwrap();
    let second = app.http.get(format!("{}/", app.url)).send().await.unwrap();
    assert_ne!(
        first.headers()["x-request-id"],
        second.headers()["x-request-id"]
    );
    assert_ne!(first.headers()["x-request-id"], request_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_rows_written_by_the_stripe_webhook_carry_the_request_id_of_the_delivery() {
    use crate::stripe::{SECRET_KEY, Stripe, WEBHOOK_SECRET, event, now, subscription};
    let stripe = Stripe::start().await;
    let app = spawn_app_with(Overrides {
        stripe: StripeArgs {
            secret_key: Some(SECRET_KEY.to_owned()),
            webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
            api_url: Some(stripe.url.clone()),
        },
        ..Overrides::default()
    })
    .await;
    let sql = app.sql().await;
    sql.batch_execute(
        "INSERT INTO subscription_plans (name, price_cents, currency, interval, features, sort_order, stripe_price_id) \
         VALUES ('Pro', 1200, 'USD', 'month', ARRAY['Featured posts'], 1, 'price_pro')",
    )
    .await
    .unwrap();
    account(&app, "subscriber@example.com").await;
    let user: String = sql
        .query_one(
            "SELECT id::text FROM users WHERE email = 'subscriber@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let object = subscription("sub_ids", "cus_ids", "active", "price_pro", &user);
    stripe.put(&object);
    let body = event(
        "evt_ids",
        "customer.subscription.created",
        now() - 60,
        &object,
    );
    let response = crate::support::browser()
        .post(format!("{}/webhooks/stripe", app.url))
        .header(
            "Stripe-Signature",
            soloist::billing::stripe::signature_header(WEBHOOK_SECRET, now(), body.as_bytes()),
        )
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"].to_str().unwrap();
    let rows: Vec<serde_json::Value> = sql
        .query(
            "SELECT metadata FROM audit_logs WHERE user_id IS NULL AND metadata ? 'stripe_event_id'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(!rows.is_empty());
    for metadata in rows {
        assert_eq!(metadata["request_id"], request_id, "{metadata}");
        assert_eq!(metadata["stripe_event_id"], "evt_ids");
    }
}

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
async fn a_forwarded_for_header_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app().await;
    account(&app, "spoof@example.com").await;
    let (browser, _) = sign_in_forwarded(&app, "spoof@example.com", "203.0.113.66").await;
    assert_eq!(login_ip(&app, "spoof@example.com").await, "127.0.0.1");
    let buckets: Vec<String> = app
        .sql()
        .await
        .query("SELECT bucket FROM rate_limits ORDER BY bucket", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        buckets.contains(&"sign-in:ip:127.0.0.1".to_owned()),
        "{buckets:?}"
    );
    assert!(!buckets.iter().any(|bucket| bucket.contains("203.0.113.66")));
    let (_, security) = app.get(&browser, "/account/security").await;
    assert!(!security.contains("203.0.113.66"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_forwarded_client_address_is_used_everywhere() {
    let app = spawn_app_with(Overrides {
        server: ServerArgs {
            trusted_proxies: Some(vec!["127.0.0.1/32".to_owned()]),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    account(&app, "proxied@example.com").await;
    let (browser, _) = sign_in_forwarded(&app, "proxied@example.com", "198.51.100.23").await;
    assert_eq!(login_ip(&app, "proxied@example.com").await, "198.51.100.23");
    let (_, security) = app.get(&browser, "/account/security").await;
    assert!(security.contains("198.51.100.23"), "{security}");
    let bucket: i64 = app
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM rate_limits WHERE bucket = 'sign-in:ip:198.51.100.23'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(bucket, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_several_trusted_hops_the_first_untrusted_address_from_the_right_is_the_client() {
    let app = spawn_app_with(Overrides {
        server: ServerArgs {
            trusted_proxies: Some(vec!["127.0.0.1".to_owned(), "10.0.0.0/8".to_owned()]),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    account(&app, "hops@example.com").await;
    // The left-most entry is whatever the client claimed; the proxies
    // appended the rest.
    sign_in_forwarded(&app, "hops@example.com", "6.6.6.6, 198.51.100.7, 10.2.3.4").await;
    assert_eq!(login_ip(&app, "hops@example.com").await, "198.51.100.7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_proxies_that_are_not_addresses_are_refused_with_a_clear_message() {
    let error = soloist::config::Config::resolve(Overrides {
        server: ServerArgs {
            trusted_proxies: Some(vec!["10.0.0.0/8".to_owned(), "proxy.internal".to_owned()]),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("\"proxy.internal\" is not an IP address or CIDR range"),
        "{error}"
    );
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

#[test]
fn json_log_lines_of_a_request_carry_its_request_id() {
    use crate::support::{command, free_port, scratch_dir, spawn, wait_healthy};
    let data_dir = scratch_dir();
    let port = free_port();
    let mut serve = command(&[
        "serve",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--log-format",
        "json",
    ]);
    serve.env("SOLOIST_LOG", "soloist=debug");
    let running = spawn(serve);
    wait_healthy(&running, port);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let request_id = runtime.block_on(async {
        let response = crate::support::browser()
            .get(format!("http://127.0.0.1:{port}/blog/missing-post"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    });
    let started = Instant::now();
    let line = loop {
        let output = running.output();
        if let Some(line) = output
            .lines()
            .find(|line| line.contains(&request_id) && line.contains("answered"))
        {
            break line.to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no log line with {request_id}:\n{output}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let line: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(line["span"]["request_id"], request_id.as_str(), "{line}");
    assert_eq!(line["span"]["path"], "/blog/missing-post");
    assert_eq!(line["fields"]["route"], "/blog/{slug}");
    running.signal_and_wait(nix::sys::signal::Signal::SIGTERM);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_names_the_origin_forms_are_checked_against_and_others_cannot() {
    // Direct requests come from 127.0.0.1; only when it is a trusted proxy
    // may X-Forwarded-Host/-Proto say which origin the visitor used.
    for (trusted, expected) in [(true, 303), (false, 403)] {
        // The site's public name is the proxy's (the Host check refuses
        // any other name).
        let app = spawn_app_with(Overrides {
            server: ServerArgs {
                trusted_proxies: trusted.then(|| vec!["127.0.0.1/32".to_owned()]),
                base_url: Some("http://proxy.example".to_owned()),
                ..ServerArgs::default()
            },
            ..Overrides::default()
        })
        .await;
        account(&app, "origin@example.com").await;
        let browser = app.new_browser();
        let token = app.csrf(&browser, "/sign-in").await;
        let response = browser
            .post(format!("{}/sign-in", app.url))
            .header("Origin", "https://proxy.example")
            .header("X-Forwarded-Host", "proxy.example")
            .header("X-Forwarded-Proto", "https")
            .form(&[
                ("email", "origin@example.com"),
                ("password", PASSWORD),
                ("csrf_token", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "trusted proxy: {trusted}");
    }
}
