//! Request ids in responses, audit rows and log lines.

use std::time::{Duration, Instant};

use soloist::config::{Overrides, StripeArgs};

use super::sign_in_forwarded;
use crate::support::{spawn_app, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audited_action_records_the_request_id_that_its_response_carries() {
    let app = spawn_app().await;
    app.create_account("ids@example.com", "Someone", true).await;
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
    app.create_account("subscriber@example.com", "Someone", true)
        .await;
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
