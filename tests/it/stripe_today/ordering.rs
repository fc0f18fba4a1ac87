//! Events out of order and of an unknown API version, in the app and in
//! the real binary.

use serde_json::{Value, json};

use super::{payment, send};
use crate::billing::{app_with_stripe, plans, subscriber, user_id};
use crate::stripe::{
    current_event, current_invoice, current_subscription, event_in, invoice_payment, now,
    refunded_charge,
};
use crate::support::TestApp;

async fn outcome(app: &TestApp, id: &str) -> (String, Option<String>) {
    let row = app
        .sql()
        .await
        .query_one(
            "SELECT outcome, reason FROM stripe_events WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_before_its_subscription_is_recorded_then_linked() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    let browser = app.signed_in_as("early@example.com", "Early", false).await;
    let user = user_id(&app, "early@example.com").await;
    let t = now() - 100;
    // Today's shape names the user in the subscription's metadata: the
    // payment is recorded at once and linked when the subscription comes.
    let paid = current_invoice(
        "in_early",
        "cus_early",
        "sub_early",
        1200,
        true,
        Some(&user),
    );
    let (status, answer) = send(&app, &current_event("evt_e1", "invoice.paid", t, &paid)).await;
    assert_eq!((status, &answer["outcome"]), (200, &json!("applied")));
    assert_eq!(
        payment(&app, "in_early").await,
        Some(("succeeded".to_owned(), None, false))
    );
    // An invoice that names no user waits for its subscription.
    let anonymous = current_invoice("in_early2", "cus_early", "sub_early", 1200, true, None);
    let (status, answer) = send(
        &app,
        &current_event("evt_e2", "invoice.paid", t + 1, &anonymous),
    )
    .await;
    assert_eq!((status, &answer["outcome"]), (200, &json!("parked")));
    assert_eq!(payment(&app, "in_early2").await, None);
    // And a refund of it waits for the payment.
    let (status, answer) = send(
        &app,
        &current_event(
            "evt_e3",
            "charge.refunded",
            t + 2,
            &refunded_charge("ch_e2", "pi_e2", None, 1200, 1200),
        ),
    )
    .await;
    assert_eq!((status, &answer["outcome"]), (200, &json!("parked")));
    let (status, _) = send(
        &app,
        &current_event(
            "evt_e4",
            "invoice_payment.paid",
            t + 3,
            &invoice_payment("in_early2", "pi_e2", 1200),
        ),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(outcome(&app, "evt_e4").await.0, "parked");
    // The subscription arrives: everything parked on it is applied, in
    // order, in the same transaction.
    let object = current_subscription("sub_early", "cus_early", "active", "price_pro", &user);
    stripe.put(&object);
    let (status, _) = send(
        &app,
        &current_event("evt_e5", "customer.subscription.created", t + 4, &object),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        payment(&app, "in_early").await,
        Some(("succeeded".to_owned(), None, true))
    );
    assert_eq!(
        payment(&app, "in_early2").await,
        Some(("refunded".to_owned(), Some(1200), true))
    );
    for id in ["evt_e2", "evt_e3", "evt_e4"] {
        let (outcome, reason) = outcome(&app, id).await;
        assert_eq!(outcome, "applied", "{id}");
        assert!(reason.unwrap_or_default().contains("was parked"), "{id}");
    }
    let (_, page) = app.get(&browser, "/account/billing").await;
    assert!(
        page.contains("Renews") && page.contains(">refunded<"),
        "{page}"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_api_version_is_kept_and_refused_so_stripe_retries() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    let (_, user) = subscriber(&app, &stripe, "future@example.com", "sub_future").await;
    let paid = current_invoice(
        "in_future",
        "cus_sub_future",
        "sub_future",
        1200,
        true,
        Some(&user),
    );
    let body = event_in(
        "2031-01-01.zinnia",
        "evt_future",
        "invoice.paid",
        now(),
        &paid,
    );
    for _ in 0..2 {
        let (status, answer) = send(&app, &body).await;
        assert_eq!(status, 400);
        let text = answer.as_str().unwrap_or_default().to_owned();
        assert!(
            text.contains("2031-01-01.zinnia") && text.contains(soloist::billing::versions::PINNED),
            "{text}"
        );
    }
    assert_eq!(payment(&app, "in_future").await, None);
    let (outcome, reason) = outcome(&app, "evt_future").await;
    assert_eq!(outcome, "unsupported");
    assert!(reason.unwrap_or_default().contains("upgrade Soloist"));
    // Without an api_version, the fields decide (here: today's shape).
    let paid = current_invoice(
        "in_unversioned",
        "cus_sub_future",
        "sub_future",
        1200,
        true,
        Some(&user),
    );
    let mut unversioned: Value =
        serde_json::from_str(&current_event("evt_nov", "invoice.paid", now(), &paid)).unwrap();
    unversioned.as_object_mut().unwrap().remove("api_version");
    assert_eq!(send(&app, &unversioned.to_string()).await.0, 200);
    assert!(payment(&app, "in_unversioned").await.is_some());
    // An admin sees it, with the reason.
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let (status, page) = app
        .get(&admin, "/admin/stripe-events?outcome=unsupported")
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("evt_future") && page.contains("2031-01-01.zinnia"));
    assert!(!page.contains("evt_nov"));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_binary_applies_todays_events_in_the_wrong_order() {
    use nix::sys::signal::Signal;
    let dir = crate::support::scratch_dir();
    let port = crate::support::free_port();
    let running = crate::billing::serve_with_webhooks(&dir, port);
    crate::support::query_data_dir(
        &dir,
        "INSERT INTO users (email, name, email_verified) VALUES ('bin@example.com', 'Bin', true); \
         INSERT INTO subscription_plans (name, price_cents, interval, stripe_price_id) VALUES ('Pro', 1200, 'month', 'price_pro'); \
         INSERT INTO subscriptions (user_id, plan_id, status, stripe_customer_id, stripe_subscription_id) \
           SELECT u.id, p.id, 'active', 'cus_bin', 'sub_bin' FROM users u, subscription_plans p",
    )
    .await;
    let url = format!("http://127.0.0.1:{port}");
    let t = now() - 30;
    // The refund first, then the link, then the invoice: Stripe's worst.
    let bodies = [
        current_event(
            "evt_bin_refund",
            "charge.refunded",
            t + 2,
            &refunded_charge("ch_bin", "pi_bin", None, 1200, 1200),
        ),
        current_event(
            "evt_bin_link",
            "invoice_payment.paid",
            t + 1,
            &invoice_payment("in_bin", "pi_bin", 1200),
        ),
        current_event(
            "evt_bin_paid",
            "invoice.paid",
            t,
            &current_invoice("in_bin", "cus_bin", "sub_bin", 1200, true, None),
        ),
    ];
    for body in &bodies {
        assert_eq!(crate::stripe::deliver(&url, body).await, 200);
    }
    let state = crate::support::query_data_dir(
        &dir,
        "SELECT status || ' ' || stripe_payment_intent_id || ' ' || (metadata->>'amount_refunded') FROM payments \
         UNION ALL SELECT string_agg(outcome, ',' ORDER BY id) FROM stripe_events",
    )
    .await;
    assert_eq!(state, ["refunded pi_bin 1200", "applied,applied,applied"]);
    let (status, _) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0));
}
