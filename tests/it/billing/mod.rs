//! Billing over HTTP: the Stripe webhook (signatures, redelivery, order),
//! Checkout and the subscriber's actions against a local Stripe stand-in,
//! the pages, and the admins' plans and grants.

mod checkout;
mod plans;
mod subscription;
mod webhook;
mod webhook_faults;

use soloist::config::{Overrides, StripeArgs};

use crate::stripe::{SECRET_KEY, Stripe, WEBHOOK_SECRET, deliver, event, now, subscription};
use crate::support::{TestApp, spawn_app_with};

pub async fn app_with_stripe() -> (TestApp, Stripe) {
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
    (app, stripe)
}

/// Two plans sold through Stripe: (pro id, team id).
pub async fn plans(app: &TestApp) -> (String, String) {
    let client = app.sql().await;
    let pro: String = client
        .query_one(
            "INSERT INTO subscription_plans (name, description, price_cents, currency, interval, features, sort_order, stripe_price_id) \
             VALUES ('Pro', 'For one writer', 1200, 'USD', 'month', ARRAY['Featured posts', 'Priority support'], 1, 'price_pro') RETURNING id::text",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let team: String = client
        .query_one(
            "INSERT INTO subscription_plans (name, price_cents, currency, interval, features, sort_order, stripe_price_id) \
             VALUES ('Team', 9900, 'EUR', 'year', ARRAY['Everything in Pro'], 2, 'price_team') RETURNING id::text",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    (pro, team)
}

pub async fn user_id(app: &TestApp, email: &str) -> String {
    app.sql()
        .await
        .query_one("SELECT id::text FROM users WHERE email = $1", &[&email])
        .await
        .unwrap()
        .get(0)
}

/// A user with an active Pro subscription `sub_id` known to the database.
pub async fn subscriber(
    app: &TestApp,
    stripe: &Stripe,
    email: &str,
    sub_id: &str,
) -> (reqwest::Client, String) {
    let browser = app.signed_in_as(email, "Sam Subscriber", false).await;
    let user = user_id(app, email).await;
    let object = subscription(
        sub_id,
        &format!("cus_{sub_id}"),
        "active",
        "price_pro",
        &user,
    );
    stripe.put(&object);
    let status = deliver(
        &app.url,
        &event(
            &format!("evt_created_{sub_id}"),
            "customer.subscription.created",
            now() - 60,
            &object,
        ),
    )
    .await;
    assert_eq!(status, 200);
    (browser, user)
}

pub fn serve_with_webhooks(dir: &std::path::Path, port: u16) -> crate::support::Running {
    let mut command = crate::support::command(&[
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]);
    command.env("SOLOIST_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET);
    let running = crate::support::spawn(command);
    crate::support::wait_healthy(&running, port);
    running
}
