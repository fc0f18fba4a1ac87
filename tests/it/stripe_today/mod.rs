//! Stripe as it is today: events in both API shapes (before 2025-03-31, as
//! stripe@16 types them, and since, as stripe@23 types them for
//! 2026-11-18), signed by the official Stripe SDK and sent over HTTP, in
//! every order; an unknown API version; the admins' event log and Replay;
//! `billing sync` against the Stripe stand-in.

mod event_log;
mod fixtures;
mod ordering;
mod refunds;

use serde_json::{Value, json};

use crate::stripe::{
    current_event, current_invoice, event, invoice, invoice_payment, refunded_charge,
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
