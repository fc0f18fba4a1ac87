//! Checkout against the Stripe stand-in, and where its pages lead a browser.

use reqwest::StatusCode;
use serde_json::json;

use super::{app_with_stripe, plans, user_id};
use crate::stripe::{deliver, event, now, subscription};
use crate::support::spawn_app;

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
    assert_eq!(app.count("SELECT count(*) FROM subscriptions").await, 1);
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
