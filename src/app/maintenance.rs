//! The daily upkeep of a running Soloist.

use std::time::Duration;

use deadpool_postgres::Pool;

use crate::db::DbError;

/// Daily upkeep: audit partitions for the coming months, and billing's
/// sync with Stripe.
pub(super) async fn maintain(
    pool: Pool,
    audit_retention_months: u32,
    stripe: Option<crate::billing::stripe::StripeClient>,
) {
    let mut interval = tokio::time::interval(Duration::from_secs(24 * 60 * 60));
    interval.tick().await;
    loop {
        interval.tick().await;
        let result = async {
            let client = pool.get().await?;
            client
                .query_one("SELECT audit_logs_create_partitions(3)", &[])
                .await?;
            if audit_retention_months > 0 {
                let months = i32::try_from(audit_retention_months).unwrap_or(i32::MAX);
                let dropped: i32 = client
                    .query_one("SELECT audit_logs_drop_partitions($1)", &[&months])
                    .await?
                    .get(0);
                if dropped > 0 {
                    tracing::info!(
                        dropped,
                        months,
                        "dropped audit partitions past the retention"
                    );
                }
            }
            Ok::<_, DbError>(())
        }
        .await;
        if let Err(error) = result {
            tracing::warn!(%error, "creating upcoming audit partitions failed; retrying tomorrow");
        }
        crate::billing::sync::daily(&pool, stripe.as_ref()).await;
    }
}
