//! Without Stripe: the pages say so; admins manage plans and grant them;
//! the CSRF check on every billing form.

use reqwest::StatusCode;

use crate::support::{sample_paths, spawn_app};

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
