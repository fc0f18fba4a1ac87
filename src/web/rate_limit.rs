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
/// Failed sign-ins of one account from one network (an IPv4 address or
/// an IPv6 /64): an attacker at one place gets 10 guesses in 15 minutes,
/// and cannot use them up for anyone elsewhere.
pub const SIGN_IN_FAILURES_PER_ACCOUNT_AND_NETWORK: Limit = Limit {
    name: "sign-in-failures:account-network",
    max: 10,
    window: Duration::from_secs(900),
};
/// Failed sign-ins of one account from browsers it never signed in from,
/// whatever their addresses: brute force stays at 100 guesses an hour. A
/// browser the owner signed in from before (its known-device cookie) is
/// not held by it, so an attacker cannot lock the owner out.
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

/// The network a client address counts for: the address itself for IPv4,
/// its /64 for IPv6 (one subscriber's whole allocation), so hopping
/// between the addresses of one network does not get more attempts.
pub fn network_of(ip: Option<&str>) -> String {
    match ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        Some(std::net::IpAddr::V6(address)) => {
            let segments = address.segments();
            format!(
                "{:x}:{:x}:{:x}:{:x}::/64",
                segments[0], segments[1], segments[2], segments[3]
            )
        }
        Some(std::net::IpAddr::V4(address)) => address.to_string(),
        None => ip.unwrap_or_default().to_owned(),
    }
}

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

#[cfg(test)]
mod tests {
    use super::network_of;

    #[test]
    fn ipv6_addresses_count_by_their_64_and_ipv4_by_the_address() {
        assert_eq!(
            network_of(Some("2001:db8:1:2:aaaa::1")),
            network_of(Some("2001:db8:1:2:bbbb:cccc:dddd:eeee"))
        );
        assert_ne!(
            network_of(Some("2001:db8:1:2::1")),
            network_of(Some("2001:db8:1:3::1"))
        );
        assert_eq!(network_of(Some("203.0.113.7")), "203.0.113.7");
        assert_ne!(
            network_of(Some("203.0.113.7")),
            network_of(Some("203.0.113.8"))
        );
        assert_eq!(network_of(None), "");
    }
}
