//! `soloist billing sync` (and the daily job when Stripe is configured):
//! reads every subscription from the Stripe API and corrects drift in
//! `subscriptions`, for instance after events that never arrived (an
//! endpoint that was down longer than Stripe retries, a deleted endpoint,
//! a restored backup). Each correction writes its audit row.

use serde_json::Value;
use time::OffsetDateTime;

use super::stripe::StripeClient;
use super::webhook::{id_of, plan_of, state_of, user_in};
use super::{BillingError, store};
use crate::audit::AuditEntity;
use crate::audit::{self, Actor};
use crate::error_chain::Chain;

/// What a sync found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Subscriptions Stripe listed.
    pub listed: usize,
    /// Rows corrected (each with an audit row): the Stripe ids.
    pub corrected: Vec<String>,
    /// Stripe subscriptions of no Soloist user, or at a price no plan has.
    pub unmatched: Vec<String>,
    /// Stripe subscriptions not followed because the user's row follows a
    /// newer one.
    pub superseded: Vec<String>,
}

/// Compares every Stripe subscription with its row and corrects drift.
pub async fn run(
    pool: &deadpool_postgres::Pool,
    stripe: &StripeClient,
) -> Result<SyncReport, BillingError> {
    let mut report = SyncReport::default();
    let mut after: Option<String> = None;
    loop {
        let page = stripe.subscriptions_page(after.as_deref()).await?;
        let data = page["data"].as_array().cloned().unwrap_or_default();
        for subscription in &data {
            report.listed += 1;
            correct(pool, subscription, &mut report).await?;
        }
        after = data
            .last()
            .and_then(|last| last["id"].as_str())
            .map(str::to_owned);
        if page["has_more"].as_bool() != Some(true) || after.is_none() {
            return Ok(report);
        }
    }
}

async fn correct(
    pool: &deadpool_postgres::Pool,
    subscription: &Value,
    report: &mut SyncReport,
) -> Result<(), BillingError> {
    let Some(id) = subscription["id"].as_str() else {
        return Ok(());
    };
    let read_at = OffsetDateTime::now_utc();
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    let mut user = None;
    if let Some(named) = user_in(&subscription["metadata"])
        && store::user_exists(&transaction, named).await?
    {
        user = Some(named);
    }
    if user.is_none() {
        user = store::subscription_by_stripe_id(&transaction, id)
            .await?
            .map(|row| row.user_id);
    }
    if user.is_none()
        && let Some(customer) = id_of(&subscription["customer"])
    {
        user = store::subscription_by_customer(&transaction, customer)
            .await?
            .map(|row| row.user_id);
    }
    let Some(user) = user else {
        report.unmatched.push(id.to_owned());
        return Ok(());
    };
    let before = store::subscription_for_update(&transaction, user).await?;
    if let Some(row) = &before
        && let Some(followed) = row.stripe_subscription_id.as_deref()
        && followed != id
    {
        report.superseded.push(id.to_owned());
        return Ok(());
    }
    let Some(plan_id) = plan_of(&transaction, subscription, before.as_ref()).await? else {
        report.unmatched.push(id.to_owned());
        return Ok(());
    };
    let state = state_of(
        subscription,
        user,
        plan_id,
        before.as_ref(),
        Some(read_at),
        None,
    );
    let after = store::upsert_from_stripe(&transaction, &state).await?;
    let (action, changes) = audit::upserted(before.as_ref(), &after);
    if !changes.is_empty() {
        let mut entry = Actor::system().entry(
            action,
            AuditEntity::Subscriptions,
            Some(after.id.0),
            changes,
        );
        entry.metadata = Some(serde_json::json!({
            "source": "billing sync",
            "stripe_subscription_id": id,
        }));
        audit::store::record(&transaction, &entry).await?;
        report.corrected.push(id.to_owned());
    }
    transaction.commit().await?;
    Ok(())
}

/// The daily upkeep of billing: a sync, and the bodies of old applied
/// events dropped (parked and unsupported ones are kept).
pub async fn daily(pool: &deadpool_postgres::Pool, stripe: Option<&StripeClient>) {
    if let Some(stripe) = stripe {
        match run(pool, stripe).await {
            Ok(report) => tracing::info!(
                listed = report.listed,
                corrected = report.corrected.len(),
                unmatched = report.unmatched.len(),
                "billing sync with Stripe"
            ),
            Err(error) => {
                tracing::warn!(
                    error = %Chain(&error),
                    "billing sync with Stripe failed; retrying tomorrow"
                )
            }
        }
    }
    let forgotten = async {
        let client = pool.get().await?;
        Ok::<_, BillingError>(
            super::event_log::forget_payloads(&client, KEEP_EVENT_BODIES_DAYS).await?,
        )
    }
    .await;
    if let Err(error) = forgotten {
        tracing::warn!(
            error = %Chain(&error),
            "dropping old Stripe event bodies failed; retrying tomorrow"
        );
    }
}

/// Days the body of an applied or ignored Stripe event is kept for Replay.
pub const KEEP_EVENT_BODIES_DAYS: i32 = 90;
