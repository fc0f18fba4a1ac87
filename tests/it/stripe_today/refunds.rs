//! Payments and refunds in today's API shape and the old one, in any order
//! and at the same moment.

use serde_json::json;

use super::{payment, payment_events, send};
use crate::billing::{app_with_stripe, plans, subscriber};
use crate::stripe::{current_event, current_invoice, invoice_payment, now, refunded_charge};

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
            let parked = app.count(&format!(
                    "SELECT count(*) FROM stripe_events WHERE outcome = 'parked' AND id LIKE 'evt_{shape}_{n}_%'"
                ),
            )
            .await;
            assert_eq!(parked, 0, "{shape} order {order:?} left events parked");
        }
    }
    // Each redelivery counted once more, none applied twice: one audit row
    // creates each payment.
    let creates = app
        .count("SELECT count(*) FROM audit_logs WHERE entity = 'payments' AND action = 'CREATE'")
        .await;
    assert_eq!(creates, 24);
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
        app.count("SELECT count(*) FROM stripe_events WHERE outcome = 'parked'")
            .await,
        0
    );
    app.soloist.stop().await.unwrap();
}
