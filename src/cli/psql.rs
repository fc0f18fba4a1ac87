//! `soloist psql` and `soloist db url`: the database, for a person.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

use super::database::runner;
use crate::app::Database;
use crate::config::Config;
use crate::postgres::process::DataDirLock;
use crate::postgres::user::ServerUser;
use crate::postgres::{Credentials, DATABASE_NAME, DataDir, bundle};

#[derive(Debug, Subcommand)]
pub(super) enum DbCommand {
    /// Print a libpq URL for Soloist's database (psql accepts it).
    Url,
}

pub(super) fn db_url(config: &Config) -> anyhow::Result<ExitCode> {
    if let Some(url) = &config.database_url {
        println!("{url}");
        return Ok(ExitCode::SUCCESS);
    }
    let Ok(root) = std::fs::canonicalize(&config.data_dir) else {
        bail!(
            "{} does not exist yet; run `soloist serve` once to create it",
            config.data_dir.display()
        );
    };
    let data_dir = DataDir { root };
    let credentials = Credentials::load(&data_dir)?.with_context(|| {
        format!(
            "{} has no database yet; run `soloist serve` once",
            data_dir.root.display()
        )
    })?;
    println!("{}", credentials.url(&data_dir, DATABASE_NAME));
    if !DataDirLock::is_held(&data_dir.root) {
        eprintln!(
            "note: Soloist is not running on this data directory; the URL works while `soloist serve` runs."
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `soloist psql`: psql connects by itself, so this only starts the
/// embedded server when no `serve` runs (quietly: psql's own prompt
/// follows) and stops it when psql exits.
pub(super) async fn psql(config: &Config, args: &[String]) -> anyhow::Result<ExitCode> {
    let started_here = if config.database_url.is_none() && !DataDirLock::is_held(&config.data_dir) {
        Some(Database::open(config, runner()?, &crate::postgres::Quiet).await?)
    } else {
        None
    };
    let result = run_psql(config, args);
    if let Some(database) = started_here {
        database.close().await?;
    }
    result
}

fn run_psql(config: &Config, args: &[String]) -> anyhow::Result<ExitCode> {
    let data_dir = || -> anyhow::Result<DataDir> {
        let root = std::fs::canonicalize(&config.data_dir)
            .with_context(|| format!("{} does not exist", config.data_dir.display()))?;
        Ok(DataDir { root })
    };
    let program = match &config.postgres_dir {
        Some(dir) => dir.join("bin/psql"),
        None => bundle::unpacked_dir(&data_dir()?.pg_root())
            .context("the bundled PostgreSQL is not unpacked yet; run `soloist serve` once")?
            .join("bin/psql"),
    };
    let url = match &config.database_url {
        Some(url) => url.clone(),
        None => {
            let data_dir = data_dir()?;
            Credentials::load(&data_dir)?
                .context("the data directory has no credentials yet")?
                .url(&data_dir, DATABASE_NAME)
        }
    };
    // As root, the bundled programs run as the server user: they live in a
    // directory that user owns, and root must not execute what it could alter.
    let mut command = match std::fs::canonicalize(&config.data_dir) {
        Ok(root) => {
            let user = ServerUser::for_data_dir(&root, &config.system_user)?;
            let mut command = user.command(&program);
            if user.switch {
                command.env("PSQL_HISTORY", root.join("run/.psql_history"));
            }
            command
        }
        Err(_) => std::process::Command::new(&program),
    };
    let status = command
        .arg(&url)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {}", program.display()))?;
    Ok(ExitCode::from(
        u8::try_from(status.code().unwrap_or(1)).unwrap_or(1),
    ))
}
