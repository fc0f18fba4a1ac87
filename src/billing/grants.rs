//! The rules of granting a plan by hand: to an existing account, only a
//! plan still offered, and never over a subscription Stripe bills, with an
//! audit row in the caller's transaction. A refusal is an outcome; the
//! caller drops the transaction after one.

use deadpool_postgres::Transaction;

use crate::accounts::model::Email;
use crate::audit::{self, Actor, AuditEntity};
use crate::billing::model::{PlanId, Subscription};
use crate::billing::store;
use crate::db::StoreError;

/// What granting a plan came to.
#[derive(Clone, Debug)]
pub enum Grant {
    /// Granted, with its audit row (none when the user had it already).
    Granted(Box<Subscription>),
    /// No account has this email address.
    NoSuchAccount,
    /// The plan is gone or no longer offered.
    PlanNotOffered,
    /// The user pays through Stripe: only Stripe changes their plan.
    PaysThroughStripe,
}

/// Puts the account `email` on `plan` without Stripe.
pub async fn grant_plan(
    transaction: &Transaction<'_>,
    actor: &Actor,
    email: &Email,
    plan: PlanId,
) -> Result<Grant, StoreError> {
    let Some(user) = crate::accounts::store::user_by_email(transaction, email.as_str()).await?
    else {
        return Ok(Grant::NoSuchAccount);
    };
    if store::plan_by_id(transaction, plan)
        .await?
        .is_none_or(|plan| !plan.is_active)
    {
        return Ok(Grant::PlanNotOffered);
    }
    let before = store::subscription_for_update(transaction, user.id).await?;
    if before
        .as_ref()
        .is_some_and(Subscription::pays_through_stripe)
    {
        return Ok(Grant::PaysThroughStripe);
    }
    let after = store::grant(transaction, user.id, plan).await?;
    let (action, changes) = audit::upserted(before.as_ref(), &after);
    if !changes.is_empty() {
        let mut entry = actor.entry(
            action,
            AuditEntity::Subscriptions,
            Some(after.id.0),
            changes,
        );
        entry.metadata = Some(serde_json::json!({ "granted_to": email.as_str() }));
        audit::store::record(transaction, &entry).await?;
    }
    Ok(Grant::Granted(Box::new(after)))
}
