//! Content over HTTP: writers' flows, the public blog, feeds, and the
//! attacks on them.

mod categories;
mod drafts_and_tags;
mod escaping;
mod reading;
mod search;
mod writing;

use reqwest::StatusCode;

use crate::support::{TestApp, location};

async fn audit_rows(app: &TestApp, entity: &str) -> Vec<(String, serde_json::Value)> {
    app.sql()
        .await
        .query(
            "SELECT action, coalesce(changes, 'null'::jsonb) FROM audit_logs WHERE entity = $1 ORDER BY created_at, id",
            &[&entity],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

async fn usage(app: &TestApp, slug: &str) -> i32 {
    app.sql()
        .await
        .query_one("SELECT usage_count FROM tags WHERE slug = $1", &[&slug])
        .await
        .unwrap()
        .get(0)
}

/// Creates a plan with "Featured posts" and gives it to `email` by hand,
/// as an admin does for a customer who pays another way.
pub async fn grant_featuring(app: &TestApp, admin: &reqwest::Client, email: &str) {
    let created = app
        .post_form(
            admin,
            "/admin/plans",
            "/admin/plans",
            &[
                ("name", "Writer"),
                ("price", "9"),
                ("currency", "USD"),
                ("interval", "month"),
                ("features", "Featured posts\nUnlimited posts"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let plan: String = app
        .sql()
        .await
        .query_one(
            "SELECT id::text FROM subscription_plans WHERE name = 'Writer'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let granted = app
        .post_form(
            admin,
            "/admin/subscriptions",
            "/admin/subscriptions/grant",
            &[("email", email), ("plan_id", &plan)],
        )
        .await;
    assert_eq!(
        location(&granted),
        "/admin/subscriptions?notice=plan-granted"
    );
}
