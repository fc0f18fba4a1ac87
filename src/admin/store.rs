//! The overview's figures: counts across domains, in one round trip.

use deadpool_postgres::GenericClient;

use crate::db::StoreError;

const OVERVIEW: &str = "SELECT \
       (SELECT count(*) FROM users) AS users, \
       (SELECT count(*) FROM users WHERE created_at > now() - interval '7 days') AS new_users, \
       (SELECT count(*) FROM subscriptions WHERE status = 'active') AS active_subscriptions, \
       (SELECT count(*) FROM posts WHERE status = 'published') AS published_posts, \
       (SELECT coalesce(jsonb_agg(jsonb_build_array(currency, cents) ORDER BY currency), '[]'::jsonb) FROM ( \
           SELECT p.currency, round(sum(CASE p.interval WHEN 'year' THEN p.price_cents / 12.0 ELSE p.price_cents END))::bigint AS cents \
           FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id \
           WHERE s.status = 'active' GROUP BY p.currency) mrr) AS mrr";

const ANY_POST: &str = "SELECT EXISTS (SELECT 1 FROM posts)";

/// Every statement of this store, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[OVERVIEW, ANY_POST];

/// Whether anyone has written a post (a draft counts).
pub async fn any_post(client: &impl GenericClient) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(ANY_POST).await?;
    Ok(client.query_one(&statement, &[]).await?.try_get(0)?)
}

/// The overview's figures.
#[derive(Clone, Debug, Default)]
pub struct Overview {
    /// Accounts.
    pub users: i64,
    /// Accounts made in the last 7 days.
    pub new_users: i64,
    /// Active subscriptions.
    pub active_subscriptions: i64,
    /// Published posts.
    pub published_posts: i64,
    /// Monthly recurring revenue of active plans, by currency (cents).
    pub mrr: Vec<(String, i64)>,
}

/// Reads the overview's figures.
pub async fn overview(client: &impl GenericClient) -> Result<Overview, StoreError> {
    let statement = client.prepare_cached(OVERVIEW).await?;
    let row = client.query_one(&statement, &[]).await?;
    let mrr: serde_json::Value = row.try_get("mrr")?;
    Ok(Overview {
        users: row.try_get("users")?,
        new_users: row.try_get("new_users")?,
        active_subscriptions: row.try_get("active_subscriptions")?,
        published_posts: row.try_get("published_posts")?,
        mrr: mrr
            .as_array()
            .map(|pairs| {
                pairs
                    .iter()
                    .filter_map(|pair| Some((pair[0].as_str()?.to_owned(), pair[1].as_i64()?)))
                    .collect()
            })
            .unwrap_or_default(),
    })
}
