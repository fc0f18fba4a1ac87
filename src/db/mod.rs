//! The connection pools, migrations and database health. Which pool
//! serves what, and why each HTTP worker has its own: [`runtime`].

pub mod runtime;

use std::time::Duration;

use deadpool_postgres::Pool;
use tokio_postgres::NoTls;

pub use runtime::{
    CONNECTION_IDLE_LIMIT, DEFAULT_POOL_TIMEOUT, PoolTotals, WorkerPools, close_idle_connections,
    close_idle_connections_periodically, pool, pool_with_timeout,
};

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
    let applied: Vec<String> = report
        .applied_migrations()
        .iter()
        .map(|migration| migration.to_string())
        .collect();
    // Data that SQL cannot rewrite, rewritten once, when the migration that
    // needs it is applied (under the same lock).
    if applied
        .iter()
        .any(|name| name == crate::content::excerpts::DERIVED_ANEW_AFTER)
    {
        let transaction = client.transaction().await?;
        let changed = crate::content::excerpts::derive_old_excerpts_anew(&transaction).await?;
        transaction.commit().await?;
        tracing::info!(changed, "derived excerpts made anew from prose paragraphs");
    }
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

/// How many migrations the binary carries (versions may have gaps).
pub fn embedded_migration_count() -> usize {
    embedded::migrations::runner().get_migrations().len()
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
