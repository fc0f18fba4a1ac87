//! `soloist migrate`.

use std::process::ExitCode;

use super::database::with_database;
use crate::config::Config;

pub(super) async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let report = with_database(config, |connect| async move {
        let mut client = crate::db::connect(&connect).await?;
        Ok(crate::db::migrate(&mut client).await?)
    })
    .await?;
    if report.applied.is_empty() {
        println!(
            "The database is up to date (schema version {}).",
            report.version
        );
    } else {
        for migration in &report.applied {
            println!("Applied {migration}");
        }
        println!("Schema version {}.", report.version);
    }
    Ok(ExitCode::SUCCESS)
}
