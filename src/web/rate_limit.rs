//! Rate limits kept in PostgreSQL (table `rate_limits`), so they hold across
//! every Soloist instance on one database. Fixed windows: a bucket counts
//! hits per window of `window` seconds.

use std::time::Duration;

use deadpool_postgres::GenericClient;

use crate::db::StoreError;

const HIT: &str = "INSERT INTO rate_limits (bucket, window_start, hits) \
     VALUES ($1, to_timestamp(floor(extract(epoch FROM now())::float8 / $2::float8) * $2::float8), 1) \
     ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 \
     RETURNING hits";
const PEEK: &str = "SELECT coalesce(max(hits), 0) FROM rate_limits \
     WHERE bucket = $1 AND window_start = to_timestamp(floor(extract(epoch FROM now())::float8 / $2::float8) * $2::float8)";
const PRUNE: &str = "DELETE FROM rate_limits WHERE window_start < now() - interval '2 days'";

/// Statements of this store, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[HIT, PEEK, PRUNE];

/// A limit: at most `max` hits per `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// The bucket's prefix, e.g. "sign-in:ip".
    pub name: &'static str,
    /// Hits allowed per window.
    pub max: i32,
    /// The window.
    pub window: Duration,
}

/// Sign-in attempts per client address.
pub const SIGN_IN_PER_IP: Limit = Limit {
    name: "sign-in:ip",
    max: 30,
    window: Duration::from_secs(300),
};
/// Failed sign-ins per account: at most 100 an hour, and the window passes,
/// so an attacker cannot lock the owner out for good (and magic links
/// still work meanwhile).
pub const SIGN_IN_FAILURES_PER_ACCOUNT: Limit = Limit {
    name: "sign-in-failures:account",
    max: 100,
    window: Duration::from_secs(3600),
};
/// Sign-ups per client address.
pub const SIGN_UP_PER_IP: Limit = Limit {
    name: "sign-up:ip",
    max: 10,
    window: Duration::from_secs(3600),
};
/// Sign-ups per address (each one mails the owner).
pub const SIGN_UP_PER_ACCOUNT: Limit = Limit {
    name: "sign-up:account",
    max: 5,
    window: Duration::from_secs(3600),
};
/// Reset and magic-link requests per client address.
pub const EMAIL_LINK_PER_IP: Limit = Limit {
    name: "email-link:ip",
    max: 20,
    window: Duration::from_secs(3600),
};
/// Reset and magic-link requests per account.
pub const EMAIL_LINK_PER_ACCOUNT: Limit = Limit {
    name: "email-link:account",
    max: 5,
    window: Duration::from_secs(3600),
};

fn bucket(limit: &Limit, key: &str) -> String {
    format!("{}:{}", limit.name, key)
}

fn seconds(limit: &Limit) -> f64 {
    limit.window.as_secs_f64()
}

/// Counts a hit; true while the bucket is within its limit.
pub async fn allow(
    client: &impl GenericClient,
    limit: &Limit,
    key: &str,
) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(HIT).await?;
    let hits: i32 = client
        .query_one(&statement, &[&bucket(limit, key), &seconds(limit)])
        .await?
        .get(0);
    Ok(hits <= limit.max)
}

/// True while the bucket is within its limit, without counting a hit.
pub async fn within(
    client: &impl GenericClient,
    limit: &Limit,
    key: &str,
) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(PEEK).await?;
    let hits: i32 = client
        .query_one(&statement, &[&bucket(limit, key), &seconds(limit)])
        .await?
        .get(0);
    Ok(hits < limit.max)
}

/// Deletes windows older than two days.
pub async fn prune(client: &impl GenericClient) -> Result<u64, StoreError> {
    let statement = client.prepare_cached(PRUNE).await?;
    Ok(client.execute(&statement, &[]).await?)
}
