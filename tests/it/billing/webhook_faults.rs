//! The webhook when Soloist crashes mid-delivery or its database is down.

use super::{app_with_stripe, plans, serve_with_webhooks, subscriber};
use crate::stripe::{WEBHOOK_SECRET, deliver, event, invoice, now};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_commit_and_answer_then_redelivery_has_exactly_one_effect() {
    use nix::sys::signal::Signal;
    let dir = crate::support::scratch_dir();
    let port = crate::support::free_port();
    let mut running = serve_with_webhooks(&dir, port);
    crate::support::query_data_dir(
        &dir,
        "INSERT INTO users (email, name) VALUES ('crash@example.com', 'Crash'); \
         INSERT INTO subscription_plans (name, price_cents, interval, stripe_price_id) VALUES ('Pro', 1200, 'month', 'price_pro'); \
         INSERT INTO subscriptions (user_id, plan_id, status, stripe_customer_id, stripe_subscription_id) \
           SELECT u.id, p.id, 'active', 'cus_crash', 'sub_crash' FROM users u, subscription_plans p",
    )
    .await;
    let url = format!("http://127.0.0.1:{port}");
    for round in 0..5_u64 {
        let body = event(
            &format!("evt_crash_{round}"),
            "invoice.paid",
            now(),
            &invoice(
                &format!("in_crash_{round}"),
                "cus_crash",
                "sub_crash",
                1200,
                true,
            ),
        );
        // Soloist dies at some moment of the delivery: before the commit,
        // between commit and answer, or after; Stripe never knows which.
        let delivery = {
            let (url, body) = (url.clone(), body.clone());
            tokio::spawn(async move {
                let header = crate::stripe::sdk_signature(WEBHOOK_SECRET, now(), &body);
                crate::support::browser()
                    .post(format!("{url}/webhooks/stripe"))
                    .header("Stripe-Signature", header)
                    .body(body)
                    .send()
                    .await
                    .map(|response| response.status().as_u16())
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(round * 4)).await;
        let _ = running.signal_and_wait(Signal::SIGKILL);
        let _ = delivery.await.unwrap();
        running = serve_with_webhooks(&dir, port);
        // Stripe redelivers until it gets a 2xx (and may once more).
        assert_eq!(deliver(&url, &body).await, 200);
        assert_eq!(deliver(&url, &body).await, 200);
    }
    let counts = crate::support::query_data_dir(
        &dir,
        "SELECT (SELECT count(*) FROM payments)::text || ' ' || (SELECT count(DISTINCT stripe_invoice_id) FROM payments)::text \
         || ' ' || (SELECT count(*) FROM stripe_events)::text \
         || ' ' || (SELECT count(*) FROM audit_logs WHERE entity = 'payments')::text",
    )
    .await;
    assert_eq!(
        counts,
        ["5 5 5 5"],
        "one payment, event and audit row per invoice"
    );
    let (status, _) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_down_the_webhook_answers_503_so_stripe_retries() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    subscriber(&app, &stripe, "down@example.com", "sub_down").await;
    let admin = crate::support::shared_admin().await;
    let database = app.db.name.clone();
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
        ))
        .await
        .unwrap();
    let body = event(
        "evt_down",
        "invoice.paid",
        now(),
        &invoice("in_down", "cus_sub_down", "sub_down", 1200, true),
    );
    let started = std::time::Instant::now();
    assert_eq!(deliver(&app.url, &body).await, 503);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let admin = crate::support::shared_admin().await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true"
        ))
        .await
        .unwrap();
    assert_eq!(
        deliver(&app.url, &body).await,
        200,
        "Stripe's retry is applied"
    );
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 1);
    app.soloist.stop().await.unwrap();
}
