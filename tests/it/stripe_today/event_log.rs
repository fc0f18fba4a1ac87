//! The admins' event log with Replay, and `billing sync`.

use serde_json::json;
use soloist::config::{Config, Overrides, StripeArgs};

use super::send;
use crate::billing::{app_with_stripe, plans, subscriber, user_id};
use crate::stripe::{
    SECRET_KEY, current_event, current_invoice, current_subscription, now, refunded_charge,
};

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
        app.count("SELECT count(*) FROM payments WHERE stripe_invoice_id = 'in_log'")
            .await,
        1
    );
    let admin_id = user_id(&app, "admin@example.com").await;
    let audited = app.count(&format!(
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
    let audited = app.count("SELECT count(*) FROM audit_logs WHERE entity = 'subscriptions' AND metadata->>'source' = 'billing sync'",
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
