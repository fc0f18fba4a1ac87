//! Monitoring: readiness (`/readyz`), Prometheus metrics (`/metrics`) and
//! the admin "Database" page. Liveness (`/healthz`) stays in [`crate::web`].

pub mod metrics;
pub mod pages;
pub mod store;

use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use deadpool_postgres::Pool;
use ipnet::IpNet;
use subtle::ConstantTimeEq;

/// How long a database size read for /metrics is reused: scrapes stay
/// cheap however often they come.
const DATABASE_SIZE_TTL: Duration = Duration::from_secs(15);

/// Who may read /metrics besides loopback.
#[derive(Clone, Debug, Default)]
pub struct MetricsAccess {
    /// Peers in these networks.
    pub allow: Vec<IpNet>,
    /// Anyone sending `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl MetricsAccess {
    /// True when a request from `peer` (the TCP peer, not a forwarded
    /// address) with these headers may read the metrics. A request that
    /// came through a reverse proxy (it carries `X-Forwarded-For` or
    /// `Forwarded`) is not let in by its peer address: behind a proxy on
    /// the same machine every visitor's peer is loopback.
    pub fn allows(
        &self,
        peer: Option<IpAddr>,
        forwarded: bool,
        authorization: Option<&str>,
    ) -> bool {
        if let (Some(token), Some(given)) = (
            &self.token,
            authorization.and_then(|value| value.strip_prefix("Bearer ")),
        ) && bool::from(token.as_bytes().ct_eq(given.trim().as_bytes()))
        {
            return true;
        }
        let Some(peer) = peer.map(|peer| peer.to_canonical()) else {
            return false;
        };
        !forwarded && (peer.is_loopback() || self.allow.iter().any(|net| net.contains(&peer)))
    }
}

/// The monitoring state of one running Soloist.
#[derive(Debug)]
pub struct Monitoring {
    /// Request counters and latencies.
    pub http: metrics::HttpMetrics,
    /// Who may read /metrics.
    pub access: MetricsAccess,
    started: SystemTime,
    database_size: Mutex<Option<(Instant, i64)>>,
}

impl Default for Monitoring {
    fn default() -> Self {
        Self::new(MetricsAccess::default())
    }
}

impl Monitoring {
    /// Fresh counters, with this access to /metrics.
    pub fn new(access: MetricsAccess) -> Self {
        Self {
            http: metrics::HttpMetrics::default(),
            access,
            started: SystemTime::now(),
            database_size: Mutex::new(None),
        }
    }

    /// When this Soloist started, in seconds since the epoch.
    pub fn started_seconds(&self) -> f64 {
        self.started
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0.0, |since| since.as_secs_f64())
    }

    /// The database's size, read at most every [`DATABASE_SIZE_TTL`];
    /// none when the database does not answer within a second.
    pub async fn database_size(&self, pool: &Pool) -> Option<i64> {
        let cached = *self
            .database_size
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((read_at, bytes)) = cached
            && read_at.elapsed() < DATABASE_SIZE_TTL
        {
            return Some(bytes);
        }
        let read = async {
            let client = pool.get().await.ok()?;
            store::database_size(&client).await.ok()
        };
        let bytes = tokio::time::timeout(Duration::from_secs(1), read)
            .await
            .ok()
            .flatten()?;
        *self
            .database_size
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((Instant::now(), bytes));
        Some(bytes)
    }
}

/// Readiness.
pub const READYZ: &str = "/readyz";
/// Prometheus metrics (for the configured token or this machine).
pub const METRICS: &str = "/metrics";
/// The admins' database page.
pub const DATABASE: &str = "/admin/database";

crate::web::routes::route_table! {
    pub fn routes, pub const ROUTES = [
        READYZ, Public => { get: pages::readyz },
        METRICS, Public => { get: pages::metrics },
        DATABASE, Admin => { get: pages::database },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn metrics_open_to_loopback_and_allowed_networks_when_not_forwarded() {
        let access = MetricsAccess {
            allow: vec!["10.8.0.0/16".parse().unwrap()],
            token: None,
        };
        assert!(access.allows(ip("127.0.0.1"), false, None));
        assert!(access.allows(ip("::1"), false, None));
        assert!(access.allows(ip("::ffff:10.8.3.4"), false, None));
        assert!(!access.allows(ip("10.9.0.1"), false, None));
        assert!(!access.allows(ip("203.0.113.5"), false, None));
        assert!(!access.allows(ip("127.0.0.1"), true, None));
        assert!(!access.allows(None, false, None));
    }

    #[test]
    fn the_bearer_token_opens_metrics_from_anywhere_and_nothing_else_does() {
        let access = MetricsAccess {
            allow: Vec::new(),
            token: Some("token-1".to_owned()),
        };
        assert!(access.allows(ip("203.0.113.5"), true, Some("Bearer token-1")));
        assert!(!access.allows(ip("203.0.113.5"), false, Some("Bearer token-2")));
        assert!(!access.allows(ip("203.0.113.5"), false, Some("token-1")));
        assert!(!access.allows(ip("203.0.113.5"), false, Some("Bearer ")));
        let without = MetricsAccess::default();
        assert!(!without.allows(ip("203.0.113.5"), false, Some("Bearer ")));
    }
}
