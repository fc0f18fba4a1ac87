//! The Stripe webhook: signatures on the raw body, redelivery, and every
//! order of a subscription's events.

use serde_json::json;

use super::{app_with_stripe, plans, subscriber, user_id};
use crate::stripe::{WEBHOOK_SECRET, deliver, deliver_signed, event, invoice, now, subscription};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_signatures_are_checked_on_the_raw_body_before_anything_happens() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    subscriber(&app, &stripe, "sig@example.com", "sub_sig").await;
    let body = event(
        "evt_sig",
        "invoice.paid",
        now(),
        &invoice("in_sig", "cus_sub_sig", "sub_sig", 1200, true),
    );
    let url = &app.url;
    assert_eq!(
        deliver_signed(url, &body, "whsec_wrong", now()).await,
        400,
        "bad secret"
    );
    let changed = body.replacen("1200", "1201", 1);
    let header = soloist::billing::stripe::signature_header(WEBHOOK_SECRET, now(), body.as_bytes());
    let client = crate::support::browser();
    let one_byte = client
        .post(format!("{url}/webhooks/stripe"))
        .header("Stripe-Signature", &header)
        .body(changed)
        .send()
        .await
        .unwrap();
    assert_eq!(one_byte.status(), 400, "one changed byte");
    let missing = client
        .post(format!("{url}/webhooks/stripe"))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400, "missing header");
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("Stripe-Signature header is missing")
    );
    assert_eq!(
        deliver_signed(url, &body, WEBHOOK_SECRET, now() - 301).await,
        400,
        "stale"
    );
    assert_eq!(
        deliver_signed(url, &body, WEBHOOK_SECRET, now() + 301).await,
        400,
        "future"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM payments").await,
        0,
        "nothing refused had an effect"
    );
    // Two v1 signatures (a secret being rolled): one matching is enough.
    let timestamp = now();
    let good =
        soloist::billing::stripe::signature_header(WEBHOOK_SECRET, timestamp, body.as_bytes());
    let old = soloist::billing::stripe::signature_header("whsec_old", timestamp, body.as_bytes());
    let two = format!("{},{}", old, good.split_once(',').unwrap().1);
    let accepted = client
        .post(format!("{url}/webhooks/stripe"))
        .header("Stripe-Signature", two)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 1);
    // Garbage that is correctly signed is a 400, not a 500.
    assert_eq!(deliver(url, "{\"not\": \"an event\"}").await, 400);
    assert_eq!(deliver(url, "not json").await, 400);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_event_twice_and_ten_times_at_once_has_exactly_one_effect() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    subscriber(&app, &stripe, "twice@example.com", "sub_twice").await;
    let body = event(
        "evt_paid_1",
        "invoice.paid",
        now(),
        &invoice("in_1", "cus_sub_twice", "sub_twice", 1200, true),
    );
    assert_eq!(deliver(&app.url, &body).await, 200);
    assert_eq!(deliver(&app.url, &body).await, 200);
    let concurrent = event(
        "evt_paid_2",
        "invoice.paid",
        now(),
        &invoice("in_2", "cus_sub_twice", "sub_twice", 1200, true),
    );
    let mut deliveries = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (url, body) = (app.url.clone(), concurrent.clone());
        deliveries.spawn(async move { deliver(&url, &body).await });
    }
    while let Some(status) = deliveries.join_next().await {
        assert_eq!(status.unwrap(), 200, "every delivery is acknowledged");
    }
    assert_eq!(app.count("SELECT count(*) FROM payments").await, 2);
    assert_eq!(
        app.count("SELECT count(*) FROM stripe_events WHERE id IN ('evt_paid_1', 'evt_paid_2')")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_logs WHERE entity = 'payments' AND user_id IS NULL AND metadata->>'stripe_event_id' LIKE 'evt_paid_%'").await,
        2,
        "one audit row per effect, by the system, with the event id"
    );
    app.soloist.stop().await.unwrap();
}

fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut all = Vec::new();
    for index in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(index);
        for mut tail in permutations(&rest) {
            tail.insert(0, first.clone());
            all.push(tail);
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_order_of_a_subscriptions_lifecycle_events_ends_in_stripes_final_state() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    let base = now() - 100;
    for (round, with_deletion) in [(0, true), (1, false)] {
        let orders = if with_deletion {
            permutations(&[0, 1, 2, 3])
        } else {
            permutations(&[0, 1, 2])
        };
        for (index, order) in orders.iter().enumerate() {
            let email = format!("order-{round}-{index}@example.com");
            app.sql()
                .await
                .execute(
                    "INSERT INTO users (email, name) VALUES ($1, 'Order')",
                    &[&email],
                )
                .await
                .unwrap();
            let user = user_id(&app, &email).await;
            let id = format!("sub_{round}_{index}");
            let created = subscription(&id, &format!("cus_{id}"), "incomplete", "price_pro", &user);
            let mut active = created.clone();
            active["status"] = json!("active");
            let mut canceling = active.clone();
            canceling["cancel_at_period_end"] = json!(true);
            let mut deleted = canceling.clone();
            deleted["status"] = json!("canceled");
            deleted["ended_at"] = json!(base + 3);
            let events = [
                event(
                    &format!("evt_{id}_a"),
                    "customer.subscription.created",
                    base,
                    &created,
                ),
                event(
                    &format!("evt_{id}_b"),
                    "customer.subscription.updated",
                    base + 1,
                    &active,
                ),
                event(
                    &format!("evt_{id}_c"),
                    "customer.subscription.updated",
                    base + 2,
                    &canceling,
                ),
                event(
                    &format!("evt_{id}_d"),
                    "customer.subscription.deleted",
                    base + 3,
                    &deleted,
                ),
            ];
            stripe.put(if with_deletion { &deleted } else { &canceling });
            for step in order {
                assert_eq!(deliver(&app.url, &events[*step]).await, 200);
            }
            let row = app
                .sql()
                .await
                .query_one(
                    "SELECT status, cancel_at_period_end, stripe_subscription_id FROM subscriptions WHERE user_id::text = $1",
                    &[&user],
                )
                .await
                .unwrap();
            let state = (
                row.get::<_, String>(0),
                row.get::<_, Option<bool>>(1),
                row.get::<_, Option<String>>(2),
            );
            let expected = if with_deletion {
                ("canceled".to_owned(), Some(false), Some(id.clone()))
            } else {
                ("active".to_owned(), Some(true), Some(id.clone()))
            };
            assert_eq!(state, expected, "order {order:?}");
        }
    }
    // Two events of the same second: Stripe is asked which state is current.
    app.sql()
        .await
        .execute(
            "INSERT INTO users (email, name) VALUES ('tie@example.com', 'Tie')",
            &[],
        )
        .await
        .unwrap();
    let user = user_id(&app, "tie@example.com").await;
    let incomplete = subscription("sub_tie", "cus_tie", "incomplete", "price_pro", &user);
    let mut active = incomplete.clone();
    active["status"] = json!("active");
    stripe.put(&active);
    assert_eq!(
        deliver(
            &app.url,
            &event("evt_tie_b", "customer.subscription.updated", base, &active)
        )
        .await,
        200
    );
    assert_eq!(
        deliver(
            &app.url,
            &event(
                "evt_tie_a",
                "customer.subscription.created",
                base,
                &incomplete
            )
        )
        .await,
        200
    );
    let status: String = app
        .sql()
        .await
        .query_one(
            "SELECT status FROM subscriptions WHERE stripe_subscription_id = 'sub_tie'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "active");
    app.soloist.stop().await.unwrap();
}
