//! The SQL of the monitoring pages: PostgreSQL's own statistics views.

use deadpool_postgres::GenericClient;

use crate::db::StoreError;

const DATABASE_SIZE: &str = "SELECT pg_database_size(current_database())";
/// Tables with their indexes and TOAST; a partitioned table counts its
/// partitions, which are not listed on their own.
const TABLE_SIZES: &str = "SELECT CASE WHEN n.nspname = 'public' THEN c.relname::text \
            ELSE n.nspname || '.' || c.relname END AS name, \
       CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_total_relation_size(t.relid)), 0) \
            FROM pg_partition_tree(c.oid) t)::bigint ELSE pg_total_relation_size(c.oid) END AS total_bytes, \
       CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_indexes_size(t.relid)), 0) \
            FROM pg_partition_tree(c.oid) t)::bigint ELSE pg_indexes_size(c.oid) END AS index_bytes, \
       CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(greatest(p.reltuples, 0)), 0) \
            FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid)::bigint \
            ELSE greatest(c.reltuples, 0)::bigint END AS estimated_rows, \
       CASE WHEN c.relkind = 'p' THEN (SELECT count(*) - 1 FROM pg_partition_tree(c.oid)) ELSE 0 END AS partitions \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition \
       AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' \
     ORDER BY total_bytes DESC, name LIMIT 100";
const CONNECTIONS: &str = "SELECT coalesce(state, 'unknown') AS state, count(*) AS connections \
     FROM pg_stat_activity \
     WHERE datname = current_database() AND backend_type = 'client backend' \
     GROUP BY 1 ORDER BY 1";
const SERVER_CONNECTIONS: &str = "SELECT \
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections, \
       current_setting('max_connections')::bigint AS max_connections";
const CACHE: &str = "SELECT blks_hit, blks_read, xact_commit, xact_rollback, deadlocks, \
       stats_reset \
     FROM pg_stat_database WHERE datname = current_database()";
const SLOWEST_BY_TOTAL: &str = "SELECT query, calls, total_exec_time, mean_exec_time, rows \
     FROM pg_stat_statements \
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
     ORDER BY total_exec_time DESC LIMIT 25";
const SLOWEST_BY_MEAN: &str = "SELECT query, calls, total_exec_time, mean_exec_time, rows \
     FROM pg_stat_statements \
     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) \
     ORDER BY mean_exec_time DESC LIMIT 25";

/// Every statement of this store, for the test that prepares them all
/// (the embedded database has pg_stat_statements).
pub const STATEMENTS: &[&str] = &[
    DATABASE_SIZE,
    TABLE_SIZES,
    CONNECTIONS,
    SERVER_CONNECTIONS,
    CACHE,
    SLOWEST_BY_TOTAL,
    SLOWEST_BY_MEAN,
];

/// The size of Soloist's database on disk.
pub async fn database_size(client: &impl GenericClient) -> Result<i64, StoreError> {
    let statement = client.prepare_cached(DATABASE_SIZE).await?;
    Ok(client.query_one(&statement, &[]).await?.try_get(0)?)
}

/// A table's size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSize {
    /// Its name (schema-qualified outside `public`).
    pub name: String,
    /// Bytes with indexes and TOAST.
    pub total_bytes: i64,
    /// Bytes of its indexes.
    pub index_bytes: i64,
    /// PostgreSQL's estimate of its rows (from the last ANALYZE).
    pub estimated_rows: i64,
    /// Partitions, for a partitioned table.
    pub partitions: i64,
}

/// Tables, largest first.
pub async fn table_sizes(client: &impl GenericClient) -> Result<Vec<TableSize>, StoreError> {
    let statement = client.prepare_cached(TABLE_SIZES).await?;
    client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| {
            Ok(TableSize {
                name: row.try_get("name")?,
                total_bytes: row.try_get("total_bytes")?,
                index_bytes: row.try_get("index_bytes")?,
                estimated_rows: row.try_get("estimated_rows")?,
                partitions: row.try_get("partitions")?,
            })
        })
        .collect()
}

/// Connections to the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Connections {
    /// Soloist's database's client connections by state (active, idle, ...).
    pub by_state: Vec<(String, i64)>,
    /// Client connections to the whole server.
    pub server: i64,
    /// The server's `max_connections`.
    pub max: i64,
}

/// Connections by state.
pub async fn connections(client: &impl GenericClient) -> Result<Connections, StoreError> {
    let statement = client.prepare_cached(CONNECTIONS).await?;
    let by_state = client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| Ok((row.try_get("state")?, row.try_get("connections")?)))
        .collect::<Result<_, StoreError>>()?;
    let statement = client.prepare_cached(SERVER_CONNECTIONS).await?;
    let row = client.query_one(&statement, &[]).await?;
    Ok(Connections {
        by_state,
        server: row.try_get("connections")?,
        max: row.try_get("max_connections")?,
    })
}

/// The database's block cache and transaction counters since the last reset.
#[derive(Clone, Debug, PartialEq)]
pub struct Cache {
    /// Blocks found in shared buffers.
    pub hits: i64,
    /// Blocks read from the disk (or the OS cache).
    pub reads: i64,
    /// Committed transactions.
    pub commits: i64,
    /// Rolled back transactions.
    pub rollbacks: i64,
    /// Deadlocks detected.
    pub deadlocks: i64,
    /// When the counters were last reset, if ever.
    pub since: Option<time::OffsetDateTime>,
}

impl Cache {
    /// The share of blocks found in the cache, none before any was read.
    pub fn hit_ratio(&self) -> Option<f64> {
        let total = self.hits.saturating_add(self.reads);
        (total > 0).then(|| self.hits as f64 / total as f64)
    }
}

/// The cache counters of Soloist's database.
pub async fn cache(client: &impl GenericClient) -> Result<Cache, StoreError> {
    let statement = client.prepare_cached(CACHE).await?;
    let row = client.query_one(&statement, &[]).await?;
    Ok(Cache {
        hits: row.try_get("blks_hit")?,
        reads: row.try_get("blks_read")?,
        commits: row.try_get("xact_commit")?,
        rollbacks: row.try_get("xact_rollback")?,
        deadlocks: row.try_get("deadlocks")?,
        since: row.try_get("stats_reset")?,
    })
}

/// How the slowest statements are ranked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatementOrder {
    /// By the time spent in them altogether: what costs the server most.
    #[default]
    Total,
    /// By the time of one call.
    Mean,
}

/// A statement's statistics from pg_stat_statements.
#[derive(Clone, Debug, PartialEq)]
pub struct StatementStats {
    /// The normalised text (constants as $1, ...).
    pub query: String,
    /// Times it ran.
    pub calls: i64,
    /// Milliseconds spent, summed.
    pub total_ms: f64,
    /// Milliseconds per call.
    pub mean_ms: f64,
    /// Rows returned or changed, summed.
    pub rows: i64,
}

/// The slowest statements run on Soloist's database. Fails when
/// pg_stat_statements is not installed or not preloaded.
pub async fn slowest_statements(
    client: &impl GenericClient,
    order: StatementOrder,
) -> Result<Vec<StatementStats>, StoreError> {
    let sql = match order {
        StatementOrder::Total => SLOWEST_BY_TOTAL,
        StatementOrder::Mean => SLOWEST_BY_MEAN,
    };
    let statement = client.prepare_cached(sql).await?;
    client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| {
            Ok(StatementStats {
                query: row
                    .try_get::<_, Option<String>>("query")?
                    .unwrap_or_default(),
                calls: row.try_get("calls")?,
                total_ms: row.try_get("total_exec_time")?,
                mean_ms: row.try_get("mean_exec_time")?,
                rows: row.try_get("rows")?,
            })
        })
        .collect()
}
