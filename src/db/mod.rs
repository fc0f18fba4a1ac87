//! The connection pool, migrations and database health.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// An arbitrary, fixed key for the advisory lock that serialises migrations
/// between Soloist instances sharing one database.
pub const MIGRATION_LOCK_KEY: i64 = 0x736f_6c6f_6973_7401;

/// Database errors outside a request.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The server answered with an error or the connection failed.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection could be taken from the pool.
    #[error("no database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// Building the pool failed.
    #[error("database pool: {0}")]
    Build(#[from] deadpool_postgres::BuildError),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(#[from] refinery::Error),
    /// Deleting old rate-limit windows failed.
    #[error("pruning rate limits: {0}")]
    Pruning(String),
}

/// A store function's failure: the database's error, or a row whose JSON
/// did not have the expected shape.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or the connection failed.
    #[error(transparent)]
    Postgres(#[from] tokio_postgres::Error),
    /// A JSON column did not decode.
    #[error("column {column} did not decode: {message}")]
    Decode {
        /// The column.
        column: String,
        /// Why.
        message: String,
    },
}

impl StoreError {
    /// The name of the constraint a write violated, if that is what failed.
    pub fn constraint(&self) -> Option<&str> {
        match self {
            Self::Postgres(error) => error.as_db_error()?.constraint(),
            Self::Decode { .. } => None,
        }
    }
}

/// Decodes the jsonb column `column` of `row` into `T`.
pub fn from_json<T: serde::de::DeserializeOwned>(
    row: &tokio_postgres::Row,
    column: &str,
) -> Result<Option<T>, StoreError> {
    let value: Option<serde_json::Value> = row.try_get(column)?;
    value
        .map(serde_json::from_value)
        .transpose()
        .map_err(|error| StoreError::Decode {
            column: column.to_owned(),
            message: error.to_string(),
        })
}

/// Unwraps a value a statement always returns.
pub fn required<T>(value: Option<T>) -> Result<T, StoreError> {
    value.ok_or_else(|| StoreError::Decode {
        column: "row".to_owned(),
        message: "a value the statement always returns was missing".to_owned(),
    })
}

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
pub fn pool_with_timeout(
    config: tokio_postgres::Config,
    size: usize,
    wait: Duration,
) -> Result<Pool, DbError> {
    let manager = Manager::from_connect(
        config,
        ConnectOnRuntime {
            runtime: tokio::runtime::Handle::try_current().ok(),
        },
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

/// Opens the pool's connections on the runtime that built the pool.
///
/// A connection's socket and the task that drives it belong to the runtime
/// they were made on, and die with it. A pool built on the main runtime
/// (background work, maintenance) keeps its connections there even when a
/// task on another runtime opens one; a worker's pool ([`WorkerPools`]) is
/// built on, and used by, that worker alone.
struct ConnectOnRuntime {
    runtime: Option<tokio::runtime::Handle>,
}

type Connected = (tokio_postgres::Client, tokio::task::JoinHandle<()>);

impl deadpool_postgres::Connect for ConnectOnRuntime {
    fn connect(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Connected, tokio_postgres::Error>> + Send + '_>,
    > {
        let pg_config = pg_config.clone();
        Box::pin(async move {
            if let Some(runtime) = &self.runtime {
                let (sender, receiver) = tokio::sync::oneshot::channel();
                let config = pg_config.clone();
                let task = runtime.spawn(async move {
                    match config.connect(NoTls).await {
                        Ok((client, connection)) => {
                            // Nobody waits any more (the pool timed out):
                            // dropping the connection closes it.
                            if sender.send(Ok(client)).is_ok() {
                                drive(connection).await;
                            }
                        }
                        Err(error) => {
                            sender.send(Err(error)).ok();
                        }
                    }
                });
                if let Ok(connected) = receiver.await {
                    return connected.map(|client| (client, task));
                }
                // The main runtime is shutting down: connect right here.
            }
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

/// The HTTP workers' pools: each worker gets one of its own, made on its
/// own runtime and used by it alone. Its connections live as long as the
/// worker, and a query never crosses threads. One pool shared by all the
/// workers would not do: at a graceful stop each worker's runtime ends with
/// its own last request, and the connections it had opened with it, under a
/// request another worker may still be answering.
#[derive(Clone)]
pub struct WorkerPools {
    config: tokio_postgres::Config,
    each: usize,
    wait: Duration,
    pools: std::sync::Arc<std::sync::Mutex<Vec<Pool>>>,
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

impl WorkerPools {
    /// Pools for `workers` workers that together hold at most about `total`
    /// connections (each worker's share rounded up), waiting at most `wait`
    /// for a free one.
    pub fn new(
        config: tokio_postgres::Config,
        total: usize,
        workers: usize,
        wait: Duration,
    ) -> Self {
        Self {
            config,
            each: total.div_ceil(workers.max(1)).max(1),
            wait,
            pools: std::sync::Arc::default(),
        }
    }

    /// A new pool, for the worker this is called on.
    pub fn open(&self) -> Result<Pool, DbError> {
        let pool = pool_with_timeout(self.config.clone(), self.each, self.wait)?;
        self.pools
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(pool.clone());
        Ok(pool)
    }

    /// Every pool opened so far.
    pub fn all(&self) -> Vec<Pool> {
        self.pools
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
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

/// Closes idle connections of `pool` and of the workers' pools every
/// quarter of [`CONNECTION_IDLE_LIMIT`].
pub async fn close_idle_connections_periodically(pool: Pool, workers: Option<WorkerPools>) {
    let mut interval = tokio::time::interval(CONNECTION_IDLE_LIMIT / 4);
    loop {
        interval.tick().await;
        let mut pools = workers.as_ref().map(WorkerPools::all).unwrap_or_default();
        pools.push(pool.clone());
        let closed: usize = pools
            .iter()
            .map(|pool| close_idle_connections(pool, CONNECTION_IDLE_LIMIT))
            .sum();
        if closed > 0 {
            tracing::debug!(closed, "closed idle database connections");
        }
    }
}

/// What migrating did.
#[derive(Clone, Debug, Default)]
pub struct MigrationReport {
    /// Migrations applied by this call, as `V<n>__<name>`.
    pub applied: Vec<String>,
    /// The schema version afterwards.
    pub version: i32,
}

/// Applies the embedded migrations and creates upcoming audit partitions,
/// under an advisory lock so that several instances starting at once
/// against one database take turns.
pub async fn migrate(client: &mut tokio_postgres::Client) -> Result<MigrationReport, DbError> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let result = migrate_locked(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await;
    let report = result?;
    unlocked?;
    Ok(report)
}

async fn migrate_locked(client: &mut tokio_postgres::Client) -> Result<MigrationReport, DbError> {
    let report = embedded::migrations::runner()
        .set_abort_divergent(true)
        .set_abort_missing(true)
        .run_async(client)
        .await?;
    let applied = report
        .applied_migrations()
        .iter()
        .map(|migration| migration.to_string())
        .collect();
    client
        .query_one("SELECT audit_logs_create_partitions(3)", &[])
        .await?;
    let version = schema_version(client).await?;
    Ok(MigrationReport { applied, version })
}

/// The newest applied migration's version (0 on an empty database).
pub async fn schema_version(client: &tokio_postgres::Client) -> Result<i32, DbError> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    let row = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM refinery_schema_history",
            &[],
        )
        .await?;
    Ok(row.get(0))
}

/// The newest migration embedded in this binary.
pub fn latest_embedded_version() -> i32 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|migration| migration.version())
        .max()
        .unwrap_or(0)
}

/// Answers within `limit` whether the database can run a query.
pub async fn is_healthy(pool: &Pool, limit: Duration) -> bool {
    let check = async {
        let client = pool.get().await.ok()?;
        client.simple_query("SELECT 1").await.ok()
    };
    matches!(tokio::time::timeout(limit, check).await, Ok(Some(_)))
}

/// Connects one client outside the pool (CLI commands, migrations).
pub async fn connect(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client, DbError> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!(%error, "database connection closed");
        }
    });
    Ok(client)
}

/// `SELECT version()`-style one-line description of the server.
pub async fn server_version(client: &tokio_postgres::Client) -> Result<String, DbError> {
    let row = client.query_one("SHOW server_version", &[]).await?;
    let version: String = row.get(0);
    Ok(version
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned())
}
