//! Stripe as it is today: events in both API shapes (before 2025-03-31, as
//! stripe@16 types them, and since, as stripe@23 types them for
//! 2026-11-18), signed by the official Stripe SDK and sent over HTTP, in
//! every order; an unknown API version; the admins' event log and Replay;
//! `billing sync` against the Stripe stand-in.

use std::collections::HashMap;

use serde_json::{Value, json};
use soloist::config::{Config, Overrides, StripeArgs};

use crate::billing::{app_with_stripe, count, plans, subscriber, user_id};
use crate::stripe::{
    LEGACY_VERSION, SECRET_KEY, current_event, current_invoice, current_subscription, event,
    event_in, invoice, invoice_payment, now, peer_dir, refunded_charge,
};
use crate::support::TestApp;

/// Delivers and returns (status, answer).
async fn send(app: &TestApp, body: &str) -> (u16, Value) {
    crate::stripe::deliver_for_answer(&app.url, body).await
}

/// (status, amount_refunded) of the payment of `invoice`.
async fn payment(app: &TestApp, invoice: &str) -> Option<(String, Option<i64>, bool)> {
    app.sql()
        .await
        .query_opt(
            "SELECT status, (metadata->>'amount_refunded')::bigint, subscription_id IS NOT NULL \
             FROM payments WHERE stripe_invoice_id = $1",
            &[&invoice],
        )
        .await
        .unwrap()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
}

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
async fn a_refund_in_todays_api_version_shows_on_the_billing_page() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    let (browser, user) = subscriber(&app, &stripe, "today@example.com", "sub_today").await;
    let t = now() - 30;
    let paid = current_invoice(
        "in_today",
        "cus_sub_today",
        "sub_today",
        1200,
        true,
        Some(&user),
    );
    let events = [
        current_event("evt_t1", "invoice.paid", t, &paid),
        current_event(
            "evt_t2",
            "invoice_payment.paid",
            t + 1,
            &invoice_payment("in_today", "pi_today", 1200),
        ),
        current_event(
            "evt_t3",
            "charge.refunded",
            t + 2,
            &refunded_charge("ch_today", "pi_today", None, 1200, 1200),
        ),
    ];
    for body in &events {
        let (status, answer) = send(&app, body).await;
        assert_eq!(
            (status, &answer["outcome"]),
            (200, &json!("applied")),
            "{body}"
        );
    }
    assert_eq!(
        payment(&app, "in_today").await,
        Some(("refunded".to_owned(), Some(1200), true))
    );
    let (_, page) = app.get(&browser, "/account/billing").await;
    assert!(page.contains(">refunded<"), "{page}");
    // A partial refund of a second invoice is shown with its amount.
    let second = current_invoice(
        "in_today2",
        "cus_sub_today",
        "sub_today",
        1200,
        true,
        Some(&user),
    );
    for body in [
        current_event("evt_t4", "invoice.paid", t + 3, &second),
        current_event(
            "evt_t5",
            "invoice_payment.paid",
            t + 4,
            &invoice_payment("in_today2", "pi_today2", 1200),
        ),
        current_event(
            "evt_t6",
            "charge.refunded",
            t + 5,
            &refunded_charge("ch_today2", "pi_today2", None, 1200, 300),
        ),
    ] {
        assert_eq!(send(&app, &body).await.0, 200);
    }
    let (_, page) = app.get(&browser, "/account/billing").await;
    assert!(page.contains("partly refunded ($3.00)"), "{page}");
    app.soloist.stop().await.unwrap();
}

/// One payment's events in one shape: paid, (linked), partly refunded,
/// fully refunded, redelivered, and a late failure.
fn payment_events(shape: &str, n: usize, user: &str, start: i64) -> Vec<(String, String)> {
    let invoice_id = format!("in_{shape}_{n}");
    let pi = format!("pi_{shape}_{n}");
    let charge = format!("ch_{shape}_{n}");
    let id = |name: &str| format!("evt_{shape}_{n}_{name}");
    let mut list = Vec::new();
    if shape == "legacy" {
        let mut paid = invoice(&invoice_id, "cus_sub_order", "sub_order", 1200, true);
        paid["payment_intent"] = json!(pi);
        paid["charge"] = json!(charge);
        paid["subscription_details"] = json!({ "metadata": { "user_id": user } });
        let failed = invoice(&invoice_id, "cus_sub_order", "sub_order", 1200, false);
        list.push((id("paid"), event(&id("paid"), "invoice.paid", start, &paid)));
        list.push((
            id("failed"),
            event(&id("failed"), "invoice.payment_failed", start - 60, &failed),
        ));
        for (name, refunded) in [("partial", 400), ("full", 1200)] {
            let object = refunded_charge(&charge, &pi, Some(&invoice_id), 1200, refunded);
            list.push((
                id(name),
                event(&id(name), "charge.refunded", start + 10, &object),
            ));
        }
    } else {
        let paid = current_invoice(
            &invoice_id,
            "cus_sub_order",
            "sub_order",
            1200,
            true,
            Some(user),
        );
        let failed = current_invoice(
            &invoice_id,
            "cus_sub_order",
            "sub_order",
            1200,
            false,
            Some(user),
        );
        list.push((
            id("paid"),
            current_event(&id("paid"), "invoice.paid", start, &paid),
        ));
        list.push((
            id("linked"),
            current_event(
                &id("linked"),
                "invoice_payment.paid",
                start + 1,
                &invoice_payment(&invoice_id, &pi, 1200),
            ),
        ));
        list.push((
            id("failed"),
            current_event(&id("failed"), "invoice.payment_failed", start - 60, &failed),
        ));
        for (name, refunded) in [("partial", 400), ("full", 1200)] {
            let object = refunded_charge(&charge, &pi, None, 1200, refunded);
            list.push((
                id(name),
                current_event(&id(name), "charge.refunded", start + 10, &object),
            ));
        }
    }
    list
}

/// A small random generator with a printed seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_events_in_either_shape_end_the_same_in_any_order_with_redeliveries() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    let (_, user) = subscriber(&app, &stripe, "order@example.com", "sub_order").await;
    let seed = std::env::var("SOLOIST_TEST_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| now().unsigned_abs() | 1);
    println!("payment orders: SOLOIST_TEST_SEED={seed}");
    let mut random = Random(seed);
    let start = now() - 600;
    for shape in ["legacy", "current"] {
        for n in 0..12 {
            let mut events = payment_events(shape, n, &user, start);
            // Shuffle, then deliver some twice (Stripe redelivers).
            for i in (1..events.len()).rev() {
                let j = usize::try_from(random.next() % (i as u64 + 1)).unwrap();
                events.swap(i, j);
            }
            let again = events[usize::try_from(random.next()).unwrap() % events.len()].clone();
            events.push(again);
            let order: Vec<&str> = events.iter().map(|(id, _)| id.as_str()).collect();
            for (id, body) in &events {
                let (status, answer) = send(&app, body).await;
                assert_eq!(status, 200, "{id} in {order:?}: {answer}");
            }
            let invoice_id = format!("in_{shape}_{n}");
            assert_eq!(
                payment(&app, &invoice_id).await,
                Some(("refunded".to_owned(), Some(1200), true)),
                "{shape} order {order:?} (SOLOIST_TEST_SEED={seed})"
            );
            let parked = count(
                &app,
                &format!(
                    "SELECT count(*) FROM stripe_events WHERE outcome = 'parked' AND id LIKE 'evt_{shape}_{n}_%'"
                ),
            )
            .await;
            assert_eq!(parked, 0, "{shape} order {order:?} left events parked");
        }
    }
    // Each redelivery counted once more, none applied twice: one audit row
    // creates each payment.
    let creates = count(
        &app,
        "SELECT count(*) FROM audit_logs WHERE entity = 'payments' AND action = 'CREATE'",
    )
    .await;
    assert_eq!(creates, 24);
    app.soloist.stop().await.unwrap();
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
async fn a_refund_and_its_payment_at_the_same_moment_never_miss_each_other() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    let (_, user) = subscriber(&app, &stripe, "race@example.com", "sub_race").await;
    let t = now() - 60;
    for n in 0..20 {
        let invoice_id = format!("in_race_{n}");
        let paid = current_invoice(
            &invoice_id,
            "cus_sub_race",
            "sub_race",
            1200,
            true,
            Some(&user),
        );
        assert_eq!(
            send(
                &app,
                &current_event(&format!("evt_race_paid_{n}"), "invoice.paid", t, &paid)
            )
            .await
            .0,
            200
        );
        let link = current_event(
            &format!("evt_race_link_{n}"),
            "invoice_payment.paid",
            t + 1,
            &invoice_payment(&invoice_id, &format!("pi_race_{n}"), 1200),
        );
        let refund = current_event(
            &format!("evt_race_refund_{n}"),
            "charge.refunded",
            t + 2,
            &refunded_charge(
                &format!("ch_race_{n}"),
                &format!("pi_race_{n}"),
                None,
                1200,
                1200,
            ),
        );
        let (a, b) = tokio::join!(send(&app, &link), send(&app, &refund));
        assert_eq!((a.0, b.0), (200, 200));
        assert_eq!(
            payment(&app, &invoice_id).await,
            Some(("refunded".to_owned(), Some(1200), true)),
            "round {n}"
        );
    }
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM stripe_events WHERE outcome = 'parked'"
        )
        .await,
        0
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
async fn admins_see_every_event_and_replay_one_with_an_audit_row() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    let (member, user) = subscriber(&app, &stripe, "log@example.com", "sub_log").await;
    let paid = current_invoice("in_log", "cus_sub_log", "sub_log", 1200, true, Some(&user));
    let paid_event = current_event("evt_log1", "invoice.paid", now() - 5, &paid);
    assert_eq!(send(&app, &paid_event).await.0, 200);
    // The same event again: a duplicate, counted.
    let (_, answer) = send(&app, &paid_event).await;
    assert_eq!(answer["duplicate"], json!(true));
    let ignored = current_event(
        "evt_log2",
        "customer.created",
        now() - 4,
        &json!({ "id": "cus_x", "object": "customer" }),
    );
    assert_eq!(send(&app, &ignored).await.0, 200);
    let refund = current_event(
        "evt_log3",
        "charge.refunded",
        now() - 3,
        &refunded_charge("ch_nobody", "pi_nobody", None, 500, 500),
    );
    assert_eq!(send(&app, &refund).await.0, 200);

    let anonymous = app.new_browser();
    let (status, _) = app.get(&anonymous, "/admin/stripe-events").await;
    assert_ne!(status, 200);
    let (status, _) = app.get(&member, "/admin/stripe-events").await;
    assert_eq!(status, 403);

    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let (status, page) = app.get(&admin, "/admin/stripe-events").await;
    assert_eq!(status, 200);
    for text in [
        "evt_log1",
        "invoice.paid",
        soloist::billing::versions::PINNED,
        "log@example.com",
        "$12.00 · succeeded",
        "delivered again 1×",
        "customer.created",
        "Soloist does not follow customer.created events",
        "waits for the payment of charge ch_nobody",
        ">parked<",
    ] {
        assert!(page.contains(text), "{text} missing from the event log");
    }
    let (_, parked) = app.get(&admin, "/admin/stripe-events?outcome=parked").await;
    assert!(parked.contains("evt_log3") && !parked.contains("evt_log1"));
    let (status, _) = app.get(&admin, "/admin/stripe-events?outcome=lost").await;
    assert_eq!(status, 400);

    // Replay: needs the form token, then applies again with no new effect
    // and an audit row naming the admin.
    let status = crate::support::browser()
        .post(format!("{}/admin/stripe-events/evt_log1/replay", app.url))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 403);
    let response = app
        .post_form(
            &admin,
            "/admin/stripe-events",
            "/admin/stripe-events/evt_log1/replay",
            &[],
        )
        .await;
    assert_eq!(response.status().as_u16(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, "/admin/stripe-events?notice=event-replayed");
    let (_, page) = app.get(&admin, &location).await;
    assert!(page.contains("The event was applied again"));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM payments WHERE stripe_invoice_id = 'in_log'"
        )
        .await,
        1
    );
    let admin_id = user_id(&app, "admin@example.com").await;
    let audited = count(
        &app,
        &format!(
            "SELECT count(*) FROM audit_logs WHERE entity = 'stripe_events' AND user_id = '{admin_id}' \
             AND metadata->>'stripe_event_id' = 'evt_log1' AND (metadata->>'replayed')::boolean"
        ),
    )
    .await;
    assert_eq!(audited, 1);
    let missing = app
        .post_form(
            &admin,
            "/admin/stripe-events",
            "/admin/stripe-events/evt_none/replay",
            &[],
        )
        .await;
    assert_eq!(missing.status().as_u16(), 404);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn billing_sync_corrects_drift_from_the_stripe_api_with_audit_rows() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    let (browser, user) = subscriber(&app, &stripe, "drift@example.com", "sub_drift").await;
    // Stripe canceled it, and the event never arrived.
    let mut canceled =
        current_subscription("sub_drift", "cus_sub_drift", "canceled", "price_pro", &user);
    let ended = now() - 3600;
    canceled["canceled_at"] = json!(ended);
    canceled["ended_at"] = json!(ended);
    stripe.put(&canceled);
    // And one of nobody here.
    stripe.put(&current_subscription(
        "sub_stranger",
        "cus_stranger",
        "active",
        "price_pro",
        &uuid::Uuid::new_v4().to_string(),
    ));
    let config = Config::resolve(Overrides {
        stripe: StripeArgs {
            secret_key: Some(SECRET_KEY.to_owned()),
            api_url: Some(stripe.url.clone()),
            ..StripeArgs::default()
        },
        ..Overrides::default()
    })
    .unwrap()
    .stripe
    .unwrap();
    let client = soloist::billing::stripe::StripeClient::new(&config)
        .unwrap()
        .unwrap();
    let pool = app.db.pool();
    let report = soloist::billing::sync::run(&pool, &client).await.unwrap();
    assert_eq!(report.listed, 2);
    assert_eq!(report.corrected, ["sub_drift"]);
    assert_eq!(report.unmatched, ["sub_stranger"]);
    let status: String = app
        .sql()
        .await
        .query_one(
            "SELECT status FROM subscriptions WHERE stripe_subscription_id = 'sub_drift'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "canceled");
    let audited = count(
        &app,
        "SELECT count(*) FROM audit_logs WHERE entity = 'subscriptions' AND metadata->>'source' = 'billing sync'",
    )
    .await;
    assert_eq!(audited, 1);
    // A second sync finds nothing to correct.
    let again = soloist::billing::sync::run(&pool, &client).await.unwrap();
    assert!(again.corrected.is_empty());
    // The member sees when it ended, not a renewal.
    let (_, page) = app.get(&browser, "/account/billing").await;
    assert!(
        page.contains("Ended on") && !page.contains("Renews"),
        "{page}"
    );
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

#[test]
fn billing_sync_without_stripe_says_what_to_set() {
    let dir = crate::support::scratch_dir();
    let output = crate::support::command(&["billing", "sync"])
        .env("SOLOIST_DATA_DIR", &dir)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stripe_secret_key"), "{stderr}");
}

/// Every event the tests build, by name and shape.
fn fixtures() -> Vec<(String, &'static str, Value)> {
    let user = "0190e0a0-0000-7000-8000-000000000001";
    let t = 1_790_000_000;
    let parse = |body: String| serde_json::from_str::<Value>(&body).unwrap();
    let mut list = vec![
        (
            "legacy customer.subscription.updated".to_owned(),
            "legacy",
            parse(event(
                "evt_a",
                "customer.subscription.updated",
                t,
                &crate::stripe::subscription("sub_a", "cus_a", "active", "price_pro", user),
            )),
        ),
        (
            "current customer.subscription.updated".to_owned(),
            "current",
            parse(current_event(
                "evt_b",
                "customer.subscription.updated",
                t,
                &current_subscription("sub_a", "cus_a", "active", "price_pro", user),
            )),
        ),
    ];
    for shape in ["legacy", "current"] {
        for (id, body) in payment_events(shape, 0, user, t) {
            list.push((id, shape, parse(body)));
        }
    }
    list
}

#[test]
fn every_fixture_fits_the_official_sdks_types_of_its_api_version() {
    let mut fixtures: Vec<Value> = fixtures()
        .into_iter()
        .map(|(name, shape, event)| json!({ "name": name, "shape": shape, "event": event }))
        .collect();
    assert_eq!(
        fixtures
            .iter()
            .filter(|fixture| fixture["event"]["api_version"] == LEGACY_VERSION)
            .count(),
        5
    );
    // The control: yesterday's shapes do not fit today's types (the check
    // can fail), and today's invoice does not fit 2024's.
    let legacy_invoice = fixtures
        .iter()
        .find(|fixture| fixture["name"] == "evt_legacy_0_paid")
        .unwrap()["event"]
        .clone();
    let current_invoice = fixtures
        .iter()
        .find(|fixture| fixture["name"] == "evt_current_0_paid")
        .unwrap()["event"]
        .clone();
    fixtures.push(json!({ "name": "control: legacy invoice as today's", "shape": "current", "event": legacy_invoice }));
    fixtures.push(json!({ "name": "control: today's invoice as 2024's", "shape": "legacy", "event": current_invoice }));
    let dir = peer_dir();
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), serde_json::to_string(&fixtures).unwrap()).unwrap();
    let output = std::process::Command::new("node")
        .arg(dir.join("check.mjs"))
        .arg(input.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: HashMap<String, Vec<String>> = serde_json::from_slice(&output.stdout).unwrap();
    for fixture in &fixtures {
        let name = fixture["name"].as_str().unwrap();
        let errors = &result[name];
        if name.starts_with("control") {
            assert!(!errors.is_empty(), "{name} fit the other version's types");
        } else {
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
    }
    let legacy_errors = result["control: legacy invoice as today's"].join(" ");
    assert!(
        legacy_errors.contains("charge") || legacy_errors.contains("subscription"),
        "{legacy_errors}"
    );
    let current_errors = result["control: today's invoice as 2024's"].join(" ");
    assert!(current_errors.contains("parent"), "{current_errors}");
}
