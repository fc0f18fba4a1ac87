//! `soloist billing ...`: billing with Stripe.

use std::process::ExitCode;

use clap::Subcommand;

use super::database::{migrated, with_database};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub(super) enum BillingCommand {
    /// Read every subscription from the Stripe API and correct drift in
    /// Soloist's rows (each correction is written to the audit trail).
    /// `serve` does the same once a day.
    Sync,
}

pub(super) async fn billing_sync(config: &Config) -> anyhow::Result<ExitCode> {
    let Some(stripe) = config.stripe.as_ref() else {
        anyhow::bail!(
            "Stripe is not configured: set stripe_secret_key (SOLOIST_STRIPE_SECRET_KEY)"
        );
    };
    let Some(client) = crate::billing::stripe::StripeClient::new(stripe)? else {
        anyhow::bail!(
            "Stripe has no secret key: set stripe_secret_key (SOLOIST_STRIPE_SECRET_KEY)"
        );
    };
    let report = with_database(config, |connect| async move {
        migrated(&connect).await?;
        let pool = crate::db::pool(connect.clone(), 2)?;
        anyhow::Ok(crate::billing::sync::run(&pool, &client).await?)
    })
    .await?;
    println!(
        "Stripe lists {} subscription(s); {} row(s) corrected{}.",
        report.listed,
        report.corrected.len(),
        if report.corrected.is_empty() {
            String::new()
        } else {
            format!(" ({})", report.corrected.join(", "))
        }
    );
    if !report.unmatched.is_empty() {
        println!(
            "Not matched to a Soloist user or plan: {}.",
            report.unmatched.join(", ")
        );
    }
    if !report.superseded.is_empty() {
        println!(
            "Older subscriptions of users who have a newer one: {}.",
            report.superseded.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
