//! A subscriber's actions (cancel, resume, change plan, portal) and the
//! payment history.

use serde_json::json;

use super::{app_with_stripe, plans, subscriber};
use crate::stripe::{deliver, event, invoice, now};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_resume_change_plan_and_portal_go_through_stripe_with_audit_rows() {
    let (app, stripe) = app_with_stripe().await;
    let (_, team) = plans(&app).await;
    let (browser, user) = subscriber(&app, &stripe, "sam@example.com", "sub_sam").await;
    let (_, billing) = app.get(&browser, "/account/billing").await;
    assert!(
        billing.contains("Pro · $12.00 / month") && billing.contains("Renews"),
        "{billing}"
    );

    let cancel = app
        .post_form(&browser, "/account/billing", "/billing/cancel", &[])
        .await;
    assert_eq!(
        cancel.headers()["location"],
        "/account/billing?notice=subscription-canceled"
    );
    let (_, billing) = app.get(&browser, "/account/billing").await;
    assert!(
        billing.contains("ends at the end of the paid period") && billing.contains("Keep my plan")
    );
    let resume = app
        .post_form(&browser, "/account/billing", "/billing/resume", &[])
        .await;
    assert_eq!(
        resume.headers()["location"],
        "/account/billing?notice=subscription-resumed"
    );
    let change = app
        .post_form(
            &browser,
            "/account/billing",
            "/billing/change",
            &[("plan_id", &team)],
        )
        .await;
    assert_eq!(
        change.headers()["location"],
        "/account/billing?notice=plan-changed"
    );
    let plan: String = app
        .sql()
        .await
        .query_one("SELECT p.name FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id WHERE s.user_id::text = $1", &[&user])
        .await
        .unwrap()
        .get(0);
    assert_eq!(plan, "Team");
    assert_eq!(
        stripe.subscriptions.lock().unwrap()["sub_sam"]["items"]["data"][0]["price"]["id"],
        "price_team"
    );
    let portal = app
        .post_form(&browser, "/account/billing", "/billing/portal", &[])
        .await;
    assert_eq!(
        portal.headers()["location"],
        format!("{}/portal/bps_1", stripe.url).as_str()
    );
    assert_eq!(*stripe.portals.lock().unwrap(), ["cus_sub_sam"]);
    let rows = app
        .sql()
        .await
        .query(
            "SELECT changes FROM audit_logs WHERE entity = 'subscriptions' AND user_id::text = $1 ORDER BY created_at, id",
            &[&user],
        )
        .await
        .unwrap();
    let changes: Vec<serde_json::Value> = rows.iter().map(|row| row.get(0)).collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert_eq!(changes[0]["cancel_at_period_end"]["after"], true);
    assert_eq!(changes[1]["cancel_at_period_end"]["after"], false);
    assert!(changes[2].get("plan_id").is_some());
    // The webhook for the same change afterwards changes nothing more.
    let current = stripe.subscriptions.lock().unwrap()["sub_sam"].clone();
    assert_eq!(
        deliver(
            &app.url,
            &event(
                "evt_sam_upd",
                "customer.subscription.updated",
                now(),
                &current
            )
        )
        .await,
        200
    );
    assert_eq!(app.count("SELECT count(*) FROM audit_logs WHERE entity = 'subscriptions' AND user_id IS NULL AND metadata->>'stripe_event_id' = 'evt_sam_upd'").await, 0);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoices_paid_failed_and_refunded_show_in_the_payment_history() {
    let (app, stripe) = app_with_stripe().await;
    plans(&app).await;
    let (browser, _) = subscriber(&app, &stripe, "pay@example.com", "sub_pay").await;
    let failed = invoice("in_a", "cus_sub_pay", "sub_pay", 1200, false);
    assert_eq!(
        deliver(
            &app.url,
            &event("evt_f", "invoice.payment_failed", now() - 5, &failed)
        )
        .await,
        200
    );
    let paid = invoice("in_a", "cus_sub_pay", "sub_pay", 1200, true);
    assert_eq!(
        deliver(&app.url, &event("evt_p", "invoice.paid", now() - 4, &paid)).await,
        200
    );
    // A late failure of the same invoice does not undo the payment.
    assert_eq!(
        deliver(
            &app.url,
            &event("evt_f2", "invoice.payment_failed", now() - 6, &failed)
        )
        .await,
        200
    );
    let second = invoice("in_b", "cus_sub_pay", "sub_pay", 1200, true);
    assert_eq!(
        deliver(
            &app.url,
            &event("evt_p2", "invoice.paid", now() - 3, &second)
        )
        .await,
        200
    );
    let charge = json!({ "id": "ch_in_b", "object": "charge", "payment_intent": "pi_in_b", "invoice": "in_b",
                         "amount": 1200, "amount_refunded": 1200, "refunded": true, "currency": "usd" });
    assert_eq!(
        deliver(&app.url, &event("evt_r", "charge.refunded", now(), &charge)).await,
        200
    );
    let rows = app
        .sql()
        .await
        .query("SELECT stripe_invoice_id, status, amount_cents FROM payments ORDER BY stripe_invoice_id", &[])
        .await
        .unwrap();
    let payments: Vec<(String, String, i32)> = rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    assert_eq!(
        payments,
        [
            ("in_a".to_owned(), "succeeded".to_owned(), 1200),
            ("in_b".to_owned(), "refunded".to_owned(), 1200)
        ]
    );
    let (_, billing) = app.get(&browser, "/account/billing").await;
    assert!(
        billing.contains("$12.00") && billing.contains("refunded") && billing.contains("succeeded")
    );
    assert!(billing.contains("1 × Pro (at $12.00 / month)"));
    app.soloist.stop().await.unwrap();
}
