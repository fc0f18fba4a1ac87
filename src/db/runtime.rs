//! Which pool serves what, and on which runtime its connections live.
//!
//! Soloist runs on several tokio runtimes: the main one (built by the
//! command line, or by the test or benchmark that starts Soloist), and one
//! single-threaded runtime for each HTTP worker, made by actix-web. A
//! connection's socket and the task that drives it belong to the runtime
//! they were opened on, and die with it. At a graceful stop each worker's
//! runtime ends as soon as its own requests are answered, while the others
//! may still be answering theirs; the main runtime lives until the stop is
//! complete.
//!
//! So there are two kinds of pool, and each is used on one runtime only:
//!
//! - **A worker's pool** ([`WorkerPools`]): every HTTP worker answers its
//!   requests with a pool of its own (`AppState::pool`). Its connections are
//!   opened by, and live on, that worker alone, so a query never crosses
//!   threads and no worker's stop takes away another's connections. The
//!   pools are all built when Soloist starts, before the HTTP server: one
//!   that cannot be built is a start error, not a worker quietly sharing
//!   another pool.
//! - **The main pool** (`AppState::main_pool`, `Soloist::pool`): work that
//!   runs on the main runtime and outlives a request: mail to the
//!   development outbox (sent in the background, after the response), the
//!   batched view counts, the daily maintenance and the first-run setup
//!   token. It is small (four connections at most). The command-line tools
//!   build small pools of their own, used on the runtime that built them.
//!
//! Because each pool is only used where it is used, a connection is simply
//! opened on the runtime that asks for it ([`pool_with_timeout`]): no
//! connection needs to be sent to another runtime.
//!
//! Measured on 2026-12-02 in alternating runs (BENCHMARKS.md, "Content"),
//! the per-worker pools answered 13% more requests than one shared pool on
//! `/blog` and 31% more on `/blog/{slug}`. The alternatives were worse: one
//! pool shared by the workers, each connection living on the worker that
//! opened it, loses connections at a stop; one shared pool with its
//! connections on the main runtime makes every query cross threads twice,
//! which cost tail latency (p99 at half rate under 10 ms in 4 of 9 runs on
//! `/blog`, 2 of 9 on `/blog/{slug}`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use super::DbError;

/// How long a request waits for a free connection unless configured
/// (`pool_timeout_ms`).
pub const DEFAULT_POOL_TIMEOUT: Duration = Duration::from_secs(2);

/// Builds a pool of at most `size` connections, waiting at most
/// [`DEFAULT_POOL_TIMEOUT`] for a free one.
pub fn pool(config: tokio_postgres::Config, size: usize) -> Result<Pool, DbError> {
    pool_with_timeout(config, size, DEFAULT_POOL_TIMEOUT)
}

/// Builds a pool of at most `size` connections. Waiting for a free
/// connection (`wait`) and opening a new one are both bounded, so a request
/// never hangs on an exhausted pool or a dead server: it gets a 503.
///
/// Connections are opened, and driven, on the runtime that asks the pool for
/// one: use a pool on one runtime only (see the module's documentation).
pub fn pool_with_timeout(
    config: tokio_postgres::Config,
    size: usize,
    wait: Duration,
) -> Result<Pool, DbError> {
    let manager = Manager::from_connect(
        config,
        ConnectHere,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(wait))
        .create_timeout(Some(Duration::from_secs(5)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .build()?)
}

/// Opens a pool's connection on the current runtime, which drives it and
/// logs its failure under Soloist's own name.
struct ConnectHere;

type Connected = (tokio_postgres::Client, tokio::task::JoinHandle<()>);

impl deadpool_postgres::Connect for ConnectHere {
    fn connect(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Connected, tokio_postgres::Error>> + Send + '_>,
    > {
        let pg_config = pg_config.clone();
        Box::pin(async move {
            let (client, connection) = pg_config.connect(NoTls).await?;
            Ok((client, tokio::spawn(drive(connection))))
        })
    }
}

async fn drive(
    connection: tokio_postgres::Connection<
        tokio_postgres::Socket,
        tokio_postgres::tls::NoTlsStream,
    >,
) {
    if let Err(error) = connection.await {
        tracing::warn!(%error, "database connection failed");
    }
}

/// The HTTP workers' pools, one for each worker, built together at the
/// start and handed to the workers as they start.
#[derive(Clone)]
pub struct WorkerPools {
    pools: Arc<[Pool]>,
    handed: Arc<AtomicUsize>,
}

impl WorkerPools {
    /// Pools for `workers` workers that together hold at most about `total`
    /// connections (each worker's share rounded up), waiting at most `wait`
    /// for a free one.
    pub fn new(
        config: &tokio_postgres::Config,
        total: usize,
        workers: usize,
        wait: Duration,
    ) -> Result<Self, DbError> {
        let workers = workers.max(1);
        let each = total.div_ceil(workers).max(1);
        let pools = (0..workers)
            .map(|_| pool_with_timeout(config.clone(), each, wait))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            pools: pools.into(),
            handed: Arc::default(),
        })
    }

    /// The pool of the worker this is called on (once per worker, as it
    /// starts). Each of the workers started with the server gets one of its
    /// own; a worker that actix-web restarts after a fault takes the pools
    /// in turn again, sharing one with a running worker.
    pub fn for_worker(&self) -> Pool {
        let next = self.handed.fetch_add(1, Ordering::Relaxed);
        self.pools[next % self.pools.len()].clone()
    }

    /// Every worker's pool.
    pub fn all(&self) -> &[Pool] {
        &self.pools
    }
}

/// What the pools hold, summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolTotals {
    /// Connections the pools may open.
    pub max_size: usize,
    /// Connections they hold now.
    pub size: usize,
    /// Idle connections among those.
    pub available: usize,
    /// Requests waiting for a connection.
    pub waiting: usize,
}

impl PoolTotals {
    /// The totals of `pools`.
    pub fn of(pools: &[Pool]) -> Self {
        pools.iter().fold(Self::default(), |totals, pool| {
            let status = pool.status();
            Self {
                max_size: totals.max_size + status.max_size,
                size: totals.size + status.size,
                available: totals.available + status.available,
                waiting: totals.waiting + status.waiting,
            }
        })
    }
}

/// How long a pooled connection may sit unused before it is closed: a busy
/// site keeps its connections, an idle one gives its PostgreSQL backends'
/// memory back (each holds several MiB of catalog caches).
pub const CONNECTION_IDLE_LIMIT: Duration = Duration::from_secs(60);

/// Closes the pooled connections unused for longer than `max_idle` and
/// returns how many were closed; the next request opens a new one.
pub fn close_idle_connections(pool: &Pool, max_idle: Duration) -> usize {
    pool.retain(|_, metrics| metrics.last_used() < max_idle)
        .removed
        .len()
}

/// Closes idle connections of the main pool and of the workers' pools every
/// quarter of [`CONNECTION_IDLE_LIMIT`].
pub async fn close_idle_connections_periodically(main_pool: Pool, workers: WorkerPools) {
    let mut interval = tokio::time::interval(CONNECTION_IDLE_LIMIT / 4);
    loop {
        interval.tick().await;
        let closed: usize = workers
            .all()
            .iter()
            .chain(std::iter::once(&main_pool))
            .map(|pool| close_idle_connections(pool, CONNECTION_IDLE_LIMIT))
            .sum();
        if closed > 0 {
            tracing::debug!(closed, "closed idle database connections");
        }
    }
}
