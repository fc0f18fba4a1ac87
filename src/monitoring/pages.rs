//! `/readyz`, `/metrics` and `GET /admin/database`.

use std::fmt::Write;
use std::time::Duration;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::store::{self, Cache, Connections, StatementOrder, StatementStats, TableSize};
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};

fn plain(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(body)
}

/// Whether the schema is the one this binary was built for.
async fn readiness(state: &AppState) -> Result<(), String> {
    let expected = crate::db::latest_embedded_version();
    let check = async {
        let client = state
            .pool
            .get()
            .await
            .map_err(|error| format!("database unavailable: {error}"))?;
        crate::db::schema_version(&client)
            .await
            .map_err(|error| format!("database unavailable: {error}"))
    };
    match tokio::time::timeout(Duration::from_secs(2), check).await {
        Err(_) => Err("database unavailable: no answer within 2 s".to_owned()),
        Ok(Err(reason)) => Err(reason),
        Ok(Ok(version)) if version == expected => Ok(()),
        Ok(Ok(version)) if version < expected => Err(format!(
            "schema version {version}, this binary needs {expected}: migrations are pending (soloist migrate)"
        )),
        Ok(Ok(version)) => Err(format!(
            "schema version {version} is newer than this binary's {expected}: a newer Soloist migrated this database"
        )),
    }
}

/// `GET /readyz`: 200 when the database answers and its schema is the
/// newest this binary embeds; 503 with the reason otherwise.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match readiness(&state).await {
        Ok(()) => plain(StatusCode::OK, "ready\n".to_owned()),
        Err(reason) => {
            let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n"));
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            response
        }
    }
}

/// `GET /metrics`: Prometheus' text format, for loopback peers, peers in
/// `metrics_allow`, or the bearer token `metrics_token`.
pub async fn metrics(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let headers = request.headers();
    let forwarded =
        headers.contains_key("x-forwarded-for") || headers.contains_key(header::FORWARDED);
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let peer = request.peer_addr().map(|addr| addr.ip());
    if !state
        .monitoring
        .access
        .allows(peer, forwarded, authorization)
    {
        return plain(
            StatusCode::FORBIDDEN,
            "metrics are served to loopback, to the metrics_allow networks, or with the metrics_token bearer token\n"
                .to_owned(),
        );
    }
    let mut out = String::with_capacity(16 * 1024);
    out.push_str(
        "# HELP soloist_up 1 while this Soloist serves.\n# TYPE soloist_up gauge\nsoloist_up 1\n",
    );
    writeln!(
        out,
        "# HELP soloist_build_info The running build.\n# TYPE soloist_build_info gauge\n\
         soloist_build_info{{version=\"{}\",schema_version=\"{}\"}} 1",
        super::metrics::escape_label(env!("CARGO_PKG_VERSION")),
        crate::db::latest_embedded_version()
    )
    .ok();
    writeln!(
        out,
        "# HELP soloist_start_time_seconds When this Soloist started (seconds since the epoch).\n\
         # TYPE soloist_start_time_seconds gauge\nsoloist_start_time_seconds {}",
        state.monitoring.started_seconds()
    )
    .ok();
    state.monitoring.http.write(&mut out);
    let pool = state.request_pools();
    let in_use = pool.size.saturating_sub(pool.available);
    for (name, help, value) in [
        (
            "soloist_db_pool_max_size",
            "Connections the HTTP workers' pools may open.",
            pool.max_size,
        ),
        (
            "soloist_db_pool_size",
            "Connections those pools hold now.",
            pool.size,
        ),
        (
            "soloist_db_pool_available",
            "Idle connections ready in those pools.",
            pool.available,
        ),
        (
            "soloist_db_pool_in_use",
            "Connections lent to requests.",
            in_use,
        ),
        (
            "soloist_db_pool_waiting",
            "Requests waiting for a connection.",
            pool.waiting,
        ),
    ] {
        writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        )
        .ok();
    }
    let size = state.monitoring.database_size(&state.pool).await;
    writeln!(
        out,
        "# HELP soloist_database_up 1 when the database answered the last size query.\n\
         # TYPE soloist_database_up gauge\nsoloist_database_up {}",
        u8::from(size.is_some())
    )
    .ok();
    if let Some(bytes) = size {
        writeln!(
            out,
            "# HELP soloist_database_size_bytes The database's size on disk (read at most every 15 s).\n\
             # TYPE soloist_database_size_bytes gauge\nsoloist_database_size_bytes {bytes}"
        )
        .ok();
    }
    // Absent until a backup exists: "never backed up" must not look like
    // a backup made at the epoch.
    if let Some(last) = crate::backup::last_success(&state) {
        writeln!(
            out,
            "# HELP soloist_backup_last_success_timestamp_seconds When the last successful backup finished (seconds since the epoch).\n\
             # TYPE soloist_backup_last_success_timestamp_seconds gauge\n\
             soloist_backup_last_success_timestamp_seconds {}",
            last.at.unix_timestamp()
        )
        .ok();
    }
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out)
}

/// A table row of the page.
#[derive(Clone, Debug)]
pub struct TableRow {
    /// The table.
    pub name: String,
    /// Size with indexes, formatted.
    pub total: String,
    /// Of which indexes, formatted.
    pub indexes: String,
    /// Estimated rows.
    pub rows: i64,
    /// "12 partitions" or empty.
    pub partitions: String,
}

/// A statement row of the page.
#[derive(Clone, Debug)]
pub struct StatementRow {
    /// The normalised SQL (escaped by the template).
    pub query: String,
    /// Calls.
    pub calls: i64,
    /// Total time, formatted.
    pub total: String,
    /// Time per call, formatted.
    pub mean: String,
    /// Rows.
    pub rows: i64,
}

/// `GET /admin/database`.
#[derive(Template)]
#[template(path = "admin/database.html")]
pub struct DatabasePage {
    /// The layout.
    pub layout: Layout,
    /// "Embedded PostgreSQL 18.6 (bundled)" or the external server.
    pub server: String,
    /// The whole database, formatted.
    pub size: String,
    /// Tables, largest first.
    pub tables: Vec<TableRow>,
    /// Connections by state.
    pub connections: Connections,
    /// The cache hit ratio as a percentage, or "no reads yet".
    pub hit_ratio: String,
    /// Counters since the last reset.
    pub cache: Cache,
    /// When the counters were last reset, in the reader's zone.
    pub since: Option<String>,
    /// The slowest statements, or none when pg_stat_statements is missing.
    pub statements: Option<Vec<StatementRow>>,
    /// True when ranked by time per call.
    pub by_mean: bool,
}

/// `?by=total|mean`.
#[derive(Debug, serde::Deserialize)]
pub struct DatabaseQuery {
    by: Option<String>,
}

/// `GET /admin/database`: table sizes, connections, cache hits and the
/// slowest statements.
pub async fn database(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    query: web::Query<DatabaseQuery>,
) -> Result<HttpResponse, PageError> {
    let order = match query.by.as_deref() {
        None | Some("" | "total") => StatementOrder::Total,
        Some("mean") => StatementOrder::Mean,
        Some(_) => {
            return Err(PageError::BadRequest(
                "Rank statements by \"total\" or \"mean\" time.".to_owned(),
            ));
        }
    };
    let client = state.pool.get().await?;
    let size = store::database_size(&client).await?;
    let tables = store::table_sizes(&client).await?;
    let connections = store::connections(&client).await?;
    let cache = store::cache(&client).await?;
    let times =
        crate::web::local_time::LocalTimes::load(&client, visitor.time_zone(), cache.since).await?;
    let statements = match store::slowest_statements(&client, order).await {
        Ok(statements) => Some(statements),
        Err(error) => {
            tracing::debug!(%error, "pg_stat_statements is not available");
            None
        }
    };
    drop(client);
    let page = DatabasePage {
        layout: Layout::for_visitor(
            &visitor,
            "Database",
            "PostgreSQL's size, connections and slowest statements.",
        ),
        server: state.site.database.clone(),
        size: format_bytes(size),
        tables: tables.iter().map(table_row).collect(),
        connections,
        hit_ratio: cache.hit_ratio().map_or_else(
            || "no reads yet".to_owned(),
            |ratio| format!("{:.2} %", ratio * 100.0),
        ),
        since: cache.since.map(|moment| times.show(moment)),
        cache,
        statements: statements.map(|statements| statements.iter().map(statement_row).collect()),
        by_mean: order == StatementOrder::Mean,
    };
    Ok(render(&page, StatusCode::OK))
}

fn table_row(table: &TableSize) -> TableRow {
    TableRow {
        name: table.name.clone(),
        total: format_bytes(table.total_bytes),
        indexes: format_bytes(table.index_bytes),
        rows: table.estimated_rows,
        partitions: match table.partitions {
            0 => String::new(),
            1 => "1 partition".to_owned(),
            count => format!("{count} partitions"),
        },
    }
}

/// Statement texts longer than this are cut (a page of multi-kilobyte
/// statements is not readable anyway).
const QUERY_LIMIT: usize = 2000;

fn statement_row(statement: &StatementStats) -> StatementRow {
    let mut query: String = statement.query.chars().take(QUERY_LIMIT).collect();
    if statement.query.chars().nth(QUERY_LIMIT).is_some() {
        query.push('…');
    }
    StatementRow {
        query,
        calls: statement.calls,
        total: format_millis(statement.total_ms),
        mean: format_millis(statement.mean_ms),
        rows: statement.rows,
    }
}

/// `8.0 kB`, `12.3 MB`, ... (powers of 1024, as PostgreSQL's pg_size_pretty).
pub fn format_bytes(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn format_millis(millis: f64) -> String {
    if millis >= 1000.0 {
        format!("{:.2} s", millis / 1000.0)
    } else {
        format!("{millis:.2} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_pg_size_pretty() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(8192), "8.0 kB");
        assert_eq!(format_bytes(5 * 1024 * 1024 + 512 * 1024), "5.5 MB");
    }
}
