//! `soloist backup` and `soloist restore`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;

use super::database::{runner, with_database};
use super::progress::human;
use crate::config::Config;

pub(super) async fn backup(
    config: &Config,
    out: Option<PathBuf>,
    snapshot: Option<String>,
) -> anyhow::Result<ExitCode> {
    let file = with_database(config, |connect| async move {
        let tools = crate::backup::Tools::for_config(config)?;
        let path = match out {
            Some(dir) if dir.is_dir() => {
                crate::backup::unique_path(&dir, time::OffsetDateTime::now_utc(), None)
            }
            Some(path) => path,
            None => {
                let root = std::fs::canonicalize(&config.data_dir)?;
                let dir = crate::backup::backups_dir(&root);
                crate::backup::create_dir(&dir, &tools)?;
                crate::backup::unique_path(&dir, time::OffsetDateTime::now_utc(), None)
            }
        };
        anyhow::Ok(crate::backup::dump(&tools, &connect, &path, snapshot.as_deref()).await?)
    })
    .await?;
    println!(
        "Backup written: {} ({})",
        file.path.display(),
        crate::backup::pages::human_size(file.bytes)
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn restore(
    config: &Config,
    file: &std::path::Path,
    yes: bool,
) -> anyhow::Result<ExitCode> {
    use std::io::{BufRead, IsTerminal, Write};
    crate::backup::restore::preflight(config, file)?;
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "a restore replaces all data in {} with {}; pass --yes to confirm \
                 (standard input is not a terminal, so there is no one to ask)",
                config.data_dir.display(),
                file.display()
            );
        }
        print!(
            "This replaces all data in {} with {}.\n\
             A backup of the current data is taken first. Type yes to continue: ",
            config.data_dir.display(),
            file.display()
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            println!("Nothing was changed.");
            return Ok(ExitCode::FAILURE);
        }
    }
    let started = Instant::now();
    let report = crate::backup::restore::restore(config, file, runner()?, |safety| {
        println!(
            "Backup of the current data: {} ({})",
            safety.path.display(),
            crate::backup::pages::human_size(safety.bytes)
        );
    })
    .await?;
    println!(
        "Restored {} in {} (schema version {}).",
        file.display(),
        human(started.elapsed()),
        report.schema_version
    );
    Ok(ExitCode::SUCCESS)
}
