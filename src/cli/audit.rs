//! `soloist audit ...`: the audit trail.

use std::process::ExitCode;

use clap::Subcommand;

use super::database::{migrated, with_database};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub(super) enum AuditCommand {
    /// Drop whole monthly partitions older than the retention.
    Prune {
        /// Months to keep (default: the audit_retention_months setting, 24).
        #[arg(long)]
        keep_months: Option<u32>,
    },
}

pub(super) async fn audit_prune(
    config: &Config,
    keep_months: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let months = keep_months.unwrap_or(config.audit_retention_months);
    if months == 0 {
        println!("The retention is 0 (keep everything): nothing to drop.");
        return Ok(ExitCode::SUCCESS);
    }
    let months =
        i32::try_from(months).map_err(|_| anyhow::anyhow!("--keep-months is too large"))?;
    let dropped = with_database(config, |connect| async move {
        let client = migrated(&connect).await?;
        let dropped: i32 = client
            .query_one("SELECT audit_logs_drop_partitions($1)", &[&months])
            .await?
            .get(0);
        anyhow::Ok(dropped)
    })
    .await?;
    println!("Dropped {dropped} monthly audit partition(s) older than {months} months.");
    Ok(ExitCode::SUCCESS)
}
