//! The settings the embedded server runs with, and its log.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use super::PostgresError;
use super::bundle::Installation;

/// The server settings passed on its command line. Values go through `sh`
/// unquoted: no spaces.
pub(super) fn server_configuration(max_connections: usize, major: u32) -> HashMap<String, String> {
    let max_connections = max_connections.to_string();
    [
        // postgresql_embedded passes -F (fsync off); these come after it and win.
        ("fsync", "on"),
        ("full_page_writes", "on"),
        ("synchronous_commit", "on"),
        // Unix socket only: no TCP listener at all.
        ("listen_addresses", "''"),
        ("unix_socket_permissions", "0700"),
        // Small-machine process set: synchronous I/O instead of three I/O
        // worker processes (PostgreSQL 18's default), no logical replication
        // launcher (an embedded server is never a publisher's subscriber),
        // and no logging collector: the server's stderr goes to
        // pgdata/start.log, which `rotate_server_log` keeps bounded.
        ("io_method", "sync"),
        ("max_logical_replication_workers", "0"),
        ("logging_collector", "off"),
        ("max_connections", max_connections.as_str()),
        // WAL buffers are flushed at every commit; 1 MB holds many web
        // transactions, and the walwriter touches all of it (the default,
        // 1/32 of shared_buffers, is 4 MB of resident memory).
        ("wal_buffers", "1MB"),
        // Before crash recovery the server flushes the whole cluster: one
        // syncfs instead of an fsync per file (2.4 s on this project's
        // disk after a kill under load, against 0.1 s).
        ("recovery_init_sync_method", "syncfs"),
    ]
    .into_iter()
    // io_method is new in PostgreSQL 18; older servers refuse to start on
    // a setting they do not know. syncfs is Linux's, and PostgreSQL 14's.
    .filter(|(key, _)| major >= 18 || *key != "io_method")
    .filter(|(key, _)| {
        (cfg!(target_os = "linux") && major >= 14) || *key != "recovery_init_sync_method"
    })
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect()
}

/// Preloads pg_stat_statements (the admin "Database" page's slowest
/// statements) when the installation has it: the bundle always does, a
/// `postgres_dir` installation may not, and a server told to preload a
/// library it lacks would not start.
pub(super) fn with_statement_statistics(
    mut configuration: HashMap<String, String>,
    installation: &Installation,
) -> HashMap<String, String> {
    if installation
        .dir
        .join("lib")
        .join("pg_stat_statements.so")
        .is_file()
    {
        configuration.insert(
            "shared_preload_libraries".to_owned(),
            "pg_stat_statements".to_owned(),
        );
        // Soloist runs a few hundred distinct statements; 1,000 entries
        // keep them with room for an operator's own queries, in less shared
        // memory than the default 5,000.
        configuration.insert("pg_stat_statements.max".to_owned(), "1000".to_owned());
    }
    configuration
}

/// The server's log grows only with warnings, errors and checkpoints; at
/// each start a log past `SERVER_LOG_LIMIT` becomes `start.log.1` (replacing
/// the previous one), so the two together stay under twice that.
const SERVER_LOG_LIMIT: u64 = 16 * 1024 * 1024;

pub(super) fn rotate_server_log(pgdata: &Path) -> Result<(), PostgresError> {
    let log = pgdata.join("start.log");
    match fs::metadata(&log) {
        Ok(metadata) if metadata.len() > SERVER_LOG_LIMIT => {
            fs::rename(&log, pgdata.join("start.log.1"))?;
            Ok(())
        }
        _ => Ok(()),
    }
}
