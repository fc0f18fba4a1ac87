//! Several Soloist instances on one database, as behind a load balancer:
//! sessions, rate limits and Stripe event idempotency hold across them,
//! because all of it lives in PostgreSQL.

use std::path::PathBuf;

use reqwest::StatusCode;
use soloist::app::{Soloist, StartOptions};
use soloist::config::{Config, DatabaseArgs, Overrides, ServerArgs, StripeArgs};
use soloist::postgres::Quiet;

use crate::stripe::{
    SECRET_KEY, Stripe, WEBHOOK_SECRET, deliver, event, invoice, now, subscription,
};
use crate::support::{BINARY, TestApp, TestDb, browser, spawn_app_with};

/// Instance A on a fresh database, and instance B on the same database.
async fn two_instances(overrides: Overrides) -> (TestApp, TestApp) {
    let first = spawn_app_with(overrides.clone()).await;
    let config = Config::resolve(Overrides {
        database: DatabaseArgs {
            url: Some(first.db.url()),
            pool_size: Some(8),
            ..overrides.database
        },
        server: ServerArgs {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            workers: Some(2),
            ..overrides.server
        },
        ..overrides
    })
    .unwrap();
    let soloist = Soloist::start(
        &config,
        StartOptions {
            runner: PathBuf::from(BINARY),
            progress: &Quiet,
        },
    )
    .await
    .unwrap();
    let second = TestApp {
        url: format!("http://{}", soloist.addr),
        soloist,
        db: TestDb {
            name: first.db.name.clone(),
            config: first.db.config.clone(),
        },
        http: browser(),
    };
    assert_ne!(first.url, second.url);
    (first, second)
}

async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

async fn stop(first: TestApp, second: TestApp) {
    second.soloist.stop().await.unwrap();
    first.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_made_on_one_instance_is_signed_in_on_the_other_and_ends_on_both() {
    let (a, b) = two_instances(Overrides::default()).await;
    // One browser: cookies are per host, not per port, so it sends the
    // same session cookie to both, as it would through a load balancer.
    let browser = a
        .signed_in_as("roaming@example.com", "Roaming", false)
        .await;
    let (status, account) = b.get(&browser, "/account").await;
    assert_eq!(status, 200, "signed in on B with A's session");
    assert!(account.contains("roaming@example.com"));

    let response = b.post_form(&browser, "/account", "/sign-out", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let ended = browser
        .get(format!("{}/account", a.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), StatusCode::SEE_OTHER, "signed out on A too");
    assert!(
        ended.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/sign-in"),
        "A sends the visitor to sign in"
    );
    let active = a
        .count("SELECT count(*) FROM sessions WHERE is_active")
        .await;
    assert_eq!(active, 0);
    stop(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_limit_counts_attempts_on_every_instance() {
    let (a, b) = two_instances(Overrides::default()).await;
    let visitor = a.new_browser();
    let token = a.csrf(&visitor, "/sign-in").await;
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
    for attempt in 0..31 {
        let instance = if attempt % 2 == 0 { &a } else { &b };
        let response = visitor
            .post(format!("{}/sign-in", instance.url))
            .form(&[
                ("email", format!("guess{attempt}@example.com").as_str()),
                ("password", "not the password"),
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
        "15 attempts on each instance are within the limit of 30: {statuses:?}"
    );
    assert_eq!(
        statuses[30],
        StatusCode::TOO_MANY_REQUESTS,
        "the 31st, on A, counts B's attempts too"
    );
    let on_b = visitor
        .post(format!("{}/sign-in", b.url))
        .form(&[
            ("email", "guess@example.com"),
            ("password", "not the password"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        on_b.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "and B refuses too"
    );
    stop(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_stripe_event_delivered_to_both_instances_at_once_has_exactly_one_effect() {
    let stripe = Stripe::start().await;
    let (a, b) = two_instances(Overrides {
        stripe: StripeArgs {
            secret_key: Some(SECRET_KEY.to_owned()),
            webhook_secret: Some(WEBHOOK_SECRET.to_owned()),
            api_url: Some(stripe.url.clone()),
        },
        ..Overrides::default()
    })
    .await;
    let client = a.sql().await;
    client
        .batch_execute(
            "INSERT INTO subscription_plans (name, price_cents, currency, interval, features, stripe_price_id) \
             VALUES ('Pro', 1200, 'USD', 'month', ARRAY['Featured posts'], 'price_pro')",
        )
        .await
        .unwrap();
    a.signed_in_as("payer@example.com", "Payer", false).await;
    let user: String = client
        .query_one(
            "SELECT id::text FROM users WHERE email = 'payer@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let object = subscription("sub_both", "cus_both", "active", "price_pro", &user);
    stripe.put(&object);
    let created = event(
        "evt_both_created",
        "customer.subscription.created",
        now() - 60,
        &object,
    );
    assert_eq!(deliver(&b.url, &created).await, 200);

    let paid = event(
        "evt_both_paid",
        "invoice.paid",
        now(),
        &invoice("in_both", "cus_both", "sub_both", 1200, true),
    );
    let mut deliveries = tokio::task::JoinSet::new();
    for delivery in 0..10 {
        let url = if delivery % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let body = paid.clone();
        deliveries.spawn(async move { deliver(&url, &body).await });
    }
    while let Some(status) = deliveries.join_next().await {
        assert_eq!(status.unwrap(), 200, "every delivery is acknowledged");
    }
    assert_eq!(
        count(&client, "SELECT count(*) FROM payments").await,
        1,
        "one payment"
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM stripe_events WHERE id = 'evt_both_paid'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &client,
            "SELECT count(*) FROM audit_logs WHERE entity = 'payments' \
             AND metadata->>'stripe_event_id' = 'evt_both_paid'"
        )
        .await,
        1,
        "one audit row"
    );
    stop(a, b).await;
}
