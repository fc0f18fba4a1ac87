//! `soloist restore`: replaces the embedded database with a backup.
//!
//! The restore never touches the current database until the backup has
//! fully landed: it takes a safety backup of the current data, restores the
//! file into a new database (`soloist_restore`) in one transaction, migrates
//! that to this Soloist's schema, and only then swaps the two names in one
//! transaction and drops the old database. Any failure before the swap
//! drops the new database and leaves the current one as it was.
//!
//! It refuses while a Soloist serves the data directory (the data directory
//! lock tells): the running server's connections and caches would be left
//! pointing at replaced data. The restore itself holds that lock, so no
//! `serve` can start half-way.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::files::{BEFORE_RESTORE, create_dir, unique_path};
use super::run::{check_archive, dump, restore_into};
use super::{BackupError, BackupFile, Tools, backups_dir};
use crate::app::Database;
use crate::config::Config;
use crate::postgres::process::DataDirLock;
use crate::postgres::{DATABASE_NAME, EmbeddedPostgres, PostgresError, Quiet};

/// The database a backup is restored into before it replaces Soloist's.
const STAGING: &str = "soloist_restore";
/// The name Soloist's database has between the swap and its drop.
const REPLACED: &str = "soloist_replaced";

/// What a restore did.
#[derive(Debug)]
pub struct RestoreReport {
    /// The backup of the data the restore replaced.
    pub safety_backup: BackupFile,
    /// The schema version of the restored database (after migrating).
    pub schema_version: i32,
}

/// Checks that `file` is a backup and that nothing serves the data
/// directory, before anything else happens (or is asked).
pub fn preflight(config: &Config, file: &Path) -> Result<(), BackupError> {
    if config.database_url.is_some() {
        return Err(BackupError::Refused(
            "soloist restore replaces the embedded database; for an external PostgreSQL, \
             stop every Soloist and run pg_restore --clean --if-exists --no-owner --single-transaction -d <url> FILE"
                .to_owned(),
        ));
    }
    super::run::open_archive(file)?;
    refuse_if_served(&config.data_dir)
}

fn refuse_if_served(data_dir: &Path) -> Result<(), BackupError> {
    if DataDirLock::is_held(data_dir) {
        let pid = std::fs::read_to_string(data_dir.join("soloist.lock"))
            .ok()
            .and_then(|text| text.trim().parse::<u32>().ok());
        return Err(running(data_dir, pid));
    }
    Ok(())
}

fn running(data_dir: &Path, pid: Option<u32>) -> BackupError {
    BackupError::Refused(format!(
        "a Soloist{} is serving {}; stop it first (a restore replaces the database under it), \
         then run the restore again. `soloist backup` works while it serves.",
        pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default(),
        data_dir.display()
    ))
}

/// Restores `file` into the data directory's database. `on_safety_backup`
/// hears of the safety backup as soon as it is written.
pub async fn restore(
    config: &Config,
    file: &Path,
    runner: PathBuf,
    on_safety_backup: impl FnOnce(&BackupFile),
) -> Result<RestoreReport, BackupError> {
    preflight(config, file)?;
    let database = match Database::open(config, runner, &Quiet).await {
        Ok(database) => database,
        Err(crate::app::StartError::Postgres(PostgresError::AlreadyRunning { data_dir, pid })) => {
            return Err(running(&data_dir, pid));
        }
        Err(error) => return Err(error.into()),
    };
    let result = match &database {
        Database::Embedded(server) => restore_on(server, config, file, on_safety_backup).await,
        Database::External(_) => Err(BackupError::Refused(
            "soloist restore replaces the embedded database only".to_owned(),
        )),
    };
    let closed = database.close().await;
    let report = result?;
    closed?;
    Ok(report)
}

async fn restore_on(
    server: &EmbeddedPostgres,
    config: &Config,
    file: &Path,
    on_safety_backup: impl FnOnce(&BackupFile),
) -> Result<RestoreReport, BackupError> {
    let data_dir = server.data_dir();
    let tools = Tools::new(
        server.installation().dir.clone(),
        &data_dir.root,
        &config.system_user,
    )?;
    check_archive(&tools, file).await?;

    let dir = backups_dir(&data_dir.root);
    create_dir(&dir, &tools)?;
    let safety_path = unique_path(&dir, time::OffsetDateTime::now_utc(), Some(BEFORE_RESTORE));
    let safety_backup = dump(
        &tools,
        &server.connect_config(DATABASE_NAME),
        &safety_path,
        None,
    )
    .await?;
    on_safety_backup(&safety_backup);

    let admin = crate::db::connect(&server.connect_config("postgres")).await?;
    // Leftovers of a restore that was interrupted (one statement a call:
    // DROP DATABASE cannot run in the implicit transaction of several).
    for database in [STAGING, REPLACED] {
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
            .await?;
    }
    admin
        .batch_execute(&format!("CREATE DATABASE {STAGING}"))
        .await?;
    let staged = async {
        restore_into(&tools, &server.connect_config(STAGING), file).await?;
        let mut client = crate::db::connect(&server.connect_config(STAGING)).await?;
        let report = crate::db::migrate(&mut client).await?;
        Ok::<_, BackupError>(report.version)
    }
    .await;
    let schema_version = match staged {
        Ok(version) => version,
        Err(error) => {
            if let Err(drop_error) = admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {STAGING} WITH (FORCE)"))
                .await
            {
                tracing::warn!(%drop_error, "dropping the partly restored database");
            }
            return Err(error);
        }
    };
    swap(&admin).await?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {REPLACED} WITH (FORCE)"))
        .await?;
    Ok(RestoreReport {
        safety_backup,
        schema_version,
    })
}

/// Renames the restored database into place in one transaction. Sessions
/// still closing on either database would block the rename: they are ended
/// and the swap is retried for a few seconds.
async fn swap(admin: &tokio_postgres::Client) -> Result<(), BackupError> {
    let mut attempts = 0;
    loop {
        admin
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = ANY($1) AND pid <> pg_backend_pid()",
                &[&vec![DATABASE_NAME, STAGING]],
            )
            .await?;
        let swapped = admin
            .batch_execute(&format!(
                "BEGIN; ALTER DATABASE {DATABASE_NAME} RENAME TO {REPLACED}; \
                 ALTER DATABASE {STAGING} RENAME TO {DATABASE_NAME}; COMMIT"
            ))
            .await;
        match swapped {
            Ok(()) => return Ok(()),
            Err(error) if attempts < 50 => {
                admin.batch_execute("ROLLBACK").await.ok();
                tracing::debug!(%error, "retrying the database swap");
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => {
                admin.batch_execute("ROLLBACK").await.ok();
                return Err(error.into());
            }
        }
    }
}
