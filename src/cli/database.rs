//! Opening Soloist's database for a one-off command, and closing it again.

use std::future::Future;
use std::path::PathBuf;

use anyhow::Context;

use super::progress::OneOffProgress;
use crate::app::Database;
use crate::config::Config;
use crate::postgres::process::DataDirLock;
use crate::postgres::{Credentials, DATABASE_NAME, DataDir};

pub(super) fn runner() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("cannot find the soloist executable")
}

/// Connects to Soloist's database for a one-off command: the running
/// `serve`'s server if there is one, else an embedded server started just
/// for the command (returned so the caller stops it), or the external one.
async fn open_for_command(
    config: &Config,
) -> anyhow::Result<(tokio_postgres::Config, Option<Database>)> {
    if config.database_url.is_none() && DataDirLock::is_held(&config.data_dir) {
        let data_dir = DataDir {
            root: std::fs::canonicalize(&config.data_dir)?,
        };
        let credentials =
            Credentials::load(&data_dir)?.context("the data directory has no credentials yet")?;
        return Ok((credentials.connect_config(&data_dir, DATABASE_NAME), None));
    }
    let database = Database::open(config, runner()?, &OneOffProgress::new()).await?;
    Ok((database.connect_config(), Some(database)))
}

/// Runs `command` with the connection settings of Soloist's database,
/// opened for it ([`open_for_command`]) and closed afterwards: an embedded
/// server started for the command is stopped whether the command succeeded
/// or not (a failed stop is then the command's error).
pub(super) async fn with_database<T, F, Fut>(config: &Config, command: F) -> anyhow::Result<T>
where
    F: FnOnce(tokio_postgres::Config) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let (connect, database) = open_for_command(config).await?;
    let result = command(connect).await;
    if let Some(database) = database {
        database.close().await?;
    }
    result
}

/// A client on the database, migrated first: a command may run before
/// `serve` ever did.
pub(super) async fn migrated(
    connect: &tokio_postgres::Config,
) -> anyhow::Result<tokio_postgres::Client> {
    let mut client = crate::db::connect(connect).await?;
    crate::db::migrate(&mut client).await?;
    Ok(client)
}
