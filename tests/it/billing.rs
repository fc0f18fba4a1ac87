//! Billing over HTTP: the Stripe webhook (signatures, redelivery, order),
//! Checkout and the subscriber's actions against a local Stripe stand-in,
//! the pages, and the admins' plans and grants.

use reqwest::StatusCode;
use serde_json::json;
use soloist::config::{Overrides, StripeArgs};

use crate::stripe::{
    SECRET_KEY, Stripe, WEBHOOK_SECRET, deliver, deliver_signed, event, invoice, now, subscription,
};
use crate::support::{TestApp, sample_paths, spawn_app, spawn_app_with};

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

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql().await.query_one(sql, &[]).await.unwrap().get(0)
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
        count(&app, "SELECT count(*) FROM payments").await,
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
    assert_eq!(count(&app, "SELECT count(*) FROM payments").await, 1);
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
    assert_eq!(count(&app, "SELECT count(*) FROM payments").await, 2);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM stripe_events WHERE id IN ('evt_paid_1', 'evt_paid_2')"
        )
        .await,
        2
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM audit_logs WHERE entity = 'payments' AND user_id IS NULL AND metadata->>'stripe_event_id' LIKE 'evt_paid_%'").await,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkout_opens_one_session_per_user_and_completion_activates_the_plan() {
    let (app, stripe) = app_with_stripe().await;
    let (pro, team) = plans(&app).await;
    let browser = app
        .signed_in_as("buyer@example.com", "Bea Buyer", false)
        .await;
    let user = user_id(&app, "buyer@example.com").await;
    let (_, pricing) = app.get(&browser, "/pricing").await;
    assert!(
        pricing.contains("$12.00 / month") && pricing.contains("€99.00 / year"),
        "{pricing}"
    );
    assert!(pricing.contains("Choose Pro"));
    // Five clicks at once open one Checkout session; all go to it.
    let token = app.csrf(&browser, "/pricing").await;
    let mut clicks = tokio::task::JoinSet::new();
    for _ in 0..5 {
        let (browser, url, token, pro) =
            (browser.clone(), app.url.clone(), token.clone(), pro.clone());
        clicks.spawn(async move {
            let response = browser
                .post(format!("{url}/billing/checkout"))
                .form(&[("plan_id", pro.as_str()), ("csrf_token", token.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
            response.headers()["location"].to_str().unwrap().to_owned()
        });
    }
    let mut targets = Vec::new();
    while let Some(target) = clicks.join_next().await {
        targets.push(target.unwrap());
    }
    targets.dedup();
    assert_eq!(targets, [format!("{}/pay/cs_test_1", stripe.url)]);
    {
        let checkouts = stripe.checkouts.lock().unwrap();
        assert_eq!(checkouts.len(), 1);
        let form = &checkouts[0];
        assert_eq!(form["mode"], "subscription");
        assert_eq!(form["line_items[0][price]"], "price_pro");
        assert_eq!(form["client_reference_id"], user);
        assert_eq!(form["customer_email"], "buyer@example.com");
        assert_eq!(form["subscription_data[metadata][user_id]"], user);
        assert!(form["success_url"].starts_with(&app.url));
    }
    // Choosing another plan expires the first session.
    let other = app
        .post_form(
            &browser,
            "/pricing",
            "/billing/checkout",
            &[("plan_id", &team)],
        )
        .await;
    assert_eq!(
        other.headers()["location"],
        format!("{}/pay/cs_test_2", stripe.url).as_str()
    );
    assert_eq!(*stripe.expired.lock().unwrap(), ["cs_test_1"]);

    // Stripe completes the checkout; the subscription is read from Stripe.
    let object = subscription("sub_buy", "cus_buy", "trialing", "price_team", &user);
    let mut object = object;
    object["trial_end"] = json!(now() + 14 * 86_400);
    stripe.put(&object);
    let session = json!({
        "id": "cs_test_2", "object": "checkout.session", "mode": "subscription", "status": "complete",
        "client_reference_id": user, "customer": "cus_buy", "subscription": "sub_buy",
        "metadata": { "user_id": user, "plan_id": team }
    });
    assert_eq!(
        deliver(
            &app.url,
            &event("evt_done", "checkout.session.completed", now(), &session)
        )
        .await,
        200
    );
    let (_, billing) = app.get(&browser, "/account/billing").await;
    assert!(billing.contains("Team · €99.00 / year"), "{billing}");
    assert!(
        billing.contains(">Trial<"),
        "trialing is active with a trial end: {billing}"
    );
    assert!(billing.contains("Trial ends"));
    let (_, pricing) = app.get(&browser, "/pricing").await;
    assert!(pricing.contains("Your current plan"));
    assert!(pricing.contains("Switch to Pro"));
    // Checking out again while subscribed goes to the billing page.
    let again = app
        .post_form(
            &browser,
            "/pricing",
            "/billing/checkout",
            &[("plan_id", &pro)],
        )
        .await;
    assert_eq!(
        again.headers()["location"],
        "/account/billing?notice=already-subscribed"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM subscriptions").await, 1);
    app.soloist.stop().await.unwrap();
}

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
    assert_eq!(count(&app, "SELECT count(*) FROM audit_logs WHERE entity = 'subscriptions' AND user_id IS NULL AND metadata->>'stripe_event_id' = 'evt_sam_upd'").await, 0);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_stripe_the_pages_say_so_and_admins_manage_plans_and_grant_them() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let user = app.signed_in_as("user@example.com", "User", false).await;
    let anonymous = app.new_browser();
    let (status, _) = app.get(&anonymous, "/pricing").await;
    assert_eq!(status, 200);
    // Webhooks are not set up: a clear 404, nothing recorded.
    let response = crate::support::browser()
        .post(format!("{}/webhooks/stripe", app.url))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    // Plans: validation, creation, edit, deactivation.
    let bad = app
        .post_form(
            &admin,
            "/admin/plans",
            "/admin/plans",
            &[
                ("name", ""),
                ("price", "twelve"),
                ("currency", "dollars"),
                ("interval", "week"),
                ("stripe_price_id", "prod_x"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = bad.text().await.unwrap();
    for message in [
        "Give the plan a name",
        "Enter a price",
        "three-letter currency",
        "Choose monthly or yearly",
        "A Stripe Price id looks like",
    ] {
        assert!(body.contains(message), "{message}");
    }
    let created = app
        .post_form(
            &admin,
            "/admin/plans",
            "/admin/plans",
            &[
                ("name", "Starter"),
                ("price", "5.50"),
                ("currency", "usd"),
                ("interval", "month"),
                ("features", "Featured posts\nEmail support"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(
        created.headers()["location"],
        "/admin/plans?notice=plan-created"
    );
    let plan: String = app
        .sql()
        .await
        .query_one("SELECT id::text FROM subscription_plans", &[])
        .await
        .unwrap()
        .get(0);
    let (_, pricing) = app.get(&user, "/pricing").await;
    assert!(
        pricing.contains("$5.50 / month") && pricing.contains("Online payments are not set up"),
        "{pricing}"
    );
    assert!(pricing.contains("Not available online yet"));
    let (_, billing) = app.get(&user, "/account/billing").await;
    assert!(billing.contains("Online payments are not set up") && billing.contains("free tier"));
    assert_eq!(
        app.post_form(
            &user,
            "/pricing",
            "/billing/checkout",
            &[("plan_id", &plan)]
        )
        .await
        .status(),
        400
    );
    // Grant by hand; the feature gate follows.
    let unknown = app
        .post_form(
            &admin,
            "/admin/subscriptions",
            "/admin/subscriptions/grant",
            &[("email", "nobody@example.com"), ("plan_id", &plan)],
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("No account has this email address.")
    );
    let granted = app
        .post_form(
            &admin,
            "/admin/subscriptions",
            "/admin/subscriptions/grant",
            &[("email", "user@example.com"), ("plan_id", &plan)],
        )
        .await;
    assert_eq!(
        granted.headers()["location"],
        "/admin/subscriptions?notice=plan-granted"
    );
    let (_, billing) = app.get(&user, "/account/billing").await;
    assert!(
        billing.contains("Starter · $5.50 / month")
            && billing.contains("Given by an administrator"),
        "{billing}"
    );
    let (_, listing) = app.get(&admin, "/admin/subscriptions?status=active").await;
    assert!(listing.contains("user@example.com") && listing.contains("Granted"));
    assert_eq!(
        app.get(&admin, "/admin/subscriptions?status=bogus").await.0,
        400
    );
    // A plan with subscribers can't be deleted, only deactivated.
    let delete = app
        .post_form(
            &admin,
            &format!("/admin/plans/{plan}"),
            &format!("/admin/plans/{plan}/delete"),
            &[],
        )
        .await;
    assert_eq!(delete.status(), StatusCode::CONFLICT);
    assert!(
        delete
            .text()
            .await
            .unwrap()
            .contains("Deactivate it instead")
    );
    let deactivate = app
        .post_form(
            &admin,
            &format!("/admin/plans/{plan}"),
            &format!("/admin/plans/{plan}"),
            &[
                ("name", "Starter"),
                ("price", "5.50"),
                ("currency", "USD"),
                ("interval", "month"),
            ],
        )
        .await;
    assert_eq!(
        deactivate.headers()["location"],
        "/admin/plans?notice=plan-saved"
    );
    let (_, pricing) = app.get(&anonymous, "/pricing").await;
    assert!(!pricing.contains("Starter"));
    // Users cancel a granted plan themselves; it ends now.
    let cancel = app
        .post_form(&user, "/account/billing", "/billing/cancel", &[])
        .await;
    assert_eq!(
        cancel.headers()["location"],
        "/account/billing?notice=subscription-canceled"
    );
    let status: String = app
        .sql()
        .await
        .query_one("SELECT status FROM subscriptions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "canceled");
    // Admin pages are admins' only.
    for path in [
        "/admin/plans",
        "/admin/subscriptions",
        &format!("/admin/plans/{plan}"),
    ] {
        assert_eq!(app.get(&user, path).await.0, 403, "{path}");
    }
    let audit: Vec<String> = app
        .sql()
        .await
        .query("SELECT action || ' ' || entity FROM audit_logs WHERE entity IN ('subscription_plans', 'subscriptions') ORDER BY created_at, id", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        audit,
        [
            "CREATE subscription_plans",
            "CREATE subscriptions",
            "UPDATE subscription_plans",
            "UPDATE subscriptions"
        ]
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_billing_post_route_refuses_a_missing_token() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    for route in &sample_paths(
        soloist::billing::pages::ROUTES,
        "post",
        &[
            soloist::web::routes::Access::Member,
            soloist::web::routes::Access::Admin,
        ],
    ) {
        let response = admin
            .post(format!("{}{route}", app.url))
            .form(&[("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{route}");
    }
    app.soloist.stop().await.unwrap();
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
    assert_eq!(count(&app, "SELECT count(*) FROM payments").await, 1);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_let_a_browser_follow_checkout_and_the_portal_to_stripe_and_nowhere_else() {
    let (app, stripe) = app_with_stripe().await;
    let (pro, _) = plans(&app).await;
    let browser = app
        .signed_in_as("follow@example.com", "Fay Follower", false)
        .await;
    let pricing = browser
        .get(format!("{}/pricing", app.url))
        .send()
        .await
        .unwrap();
    let policy = pricing.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let form_action = policy
        .split(';')
        .map(str::trim)
        .find_map(|directive| directive.strip_prefix("form-action "))
        .unwrap_or_else(|| panic!("no form-action in {policy}"));
    let allowed: Vec<&str> = form_action.split(' ').collect();
    // A browser blocks a form's redirect to an origin form-action lacks.
    let token = app.csrf(&browser, "/pricing").await;
    let response = browser
        .post(format!("{}/billing/checkout", app.url))
        .form(&[("plan_id", pro.as_str()), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let target = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let origin = target.origin().ascii_serialization();
    assert!(
        allowed.contains(&origin.as_str()),
        "checkout goes to {origin}, which {form_action:?} blocks"
    );
    assert_eq!(
        allowed,
        [
            "'self'",
            "https://checkout.stripe.com",
            "https://billing.stripe.com",
            stripe.url.as_str()
        ],
        "forms go nowhere else"
    );
    app.soloist.stop().await.unwrap();

    // Without Stripe, forms stay on the site.
    let plain = spawn_app().await;
    let response = plain.http.get(&plain.url).send().await.unwrap();
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("form-action 'self'; "),
        "{:?}",
        response.headers()["content-security-policy"]
    );
    plain.soloist.stop().await.unwrap();
}
