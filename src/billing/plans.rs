//! The rules of managing plans: names and Stripe Prices no other plan has,
//! deleting only a plan nobody ever subscribed to, and an audit row for
//! every change, in the caller's transaction. A refusal is an outcome; the
//! caller drops the transaction after one (after a violated constraint
//! PostgreSQL has aborted it anyway).

use deadpool_postgres::Transaction;

use crate::audit::{self, Actor, AuditAction, AuditEntity};
use crate::billing::model::{NewPlan, Plan, PlanId};
use crate::billing::store;
use crate::db::StoreError;

/// What saving a plan came to.
#[derive(Clone, Debug)]
pub enum PlanSaved {
    /// Saved with its audit row (none when nothing changed).
    Saved(Plan),
    /// Another plan has this name.
    NameTaken,
    /// Another plan is sold at this Stripe Price.
    PriceTaken,
    /// The plan is gone.
    NotFound,
}

/// What deleting a plan came to.
#[derive(Clone, Debug)]
pub enum PlanDeleted {
    /// Deleted with its audit row: the plan as it was.
    Deleted(Plan),
    /// It has subscriptions, so it stays (deactivating it is the way).
    HasSubscriptions(Plan),
    /// There is no such plan.
    NotFound,
}

/// The outcome of a unique violation, if `error` is one of the two.
fn taken(error: StoreError) -> Result<PlanSaved, StoreError> {
    match error.constraint() {
        Some("plans_name_idx") => Ok(PlanSaved::NameTaken),
        Some("subscription_plans_stripe_price_id_idx") => Ok(PlanSaved::PriceTaken),
        _ => Err(error),
    }
}

/// Creates `plan`, offered to new subscribers when `active`.
pub async fn create_plan(
    transaction: &Transaction<'_>,
    actor: &Actor,
    plan: &NewPlan,
    active: bool,
) -> Result<PlanSaved, StoreError> {
    let created = match store::create_plan(transaction, plan).await {
        Ok(created) => created,
        Err(error) => return taken(error),
    };
    let created = if active {
        created
    } else {
        match store::update_plan(transaction, created.id, plan, false).await? {
            Some(created) => created,
            None => return Ok(PlanSaved::NotFound),
        }
    };
    audit::store::record(
        transaction,
        &actor.entry(
            AuditAction::Create,
            AuditEntity::SubscriptionPlans,
            Some(created.id.0),
            audit::created(&created),
        ),
    )
    .await?;
    Ok(PlanSaved::Saved(created))
}

/// Saves `plan` over `before`, (de)activating it as `active` says.
pub async fn update_plan(
    transaction: &Transaction<'_>,
    actor: &Actor,
    before: &Plan,
    plan: &NewPlan,
    active: bool,
) -> Result<PlanSaved, StoreError> {
    let after = match store::update_plan(transaction, before.id, plan, active).await {
        Ok(Some(after)) => after,
        Ok(None) => return Ok(PlanSaved::NotFound),
        Err(error) => return taken(error),
    };
    let changes = audit::changed(before, &after);
    if !changes.is_empty() {
        audit::store::record(
            transaction,
            &actor.entry(
                AuditAction::Update,
                AuditEntity::SubscriptionPlans,
                Some(before.id.0),
                changes,
            ),
        )
        .await?;
    }
    Ok(PlanSaved::Saved(after))
}

/// Deletes the plan `id`, unless it has subscriptions.
pub async fn delete_plan(
    transaction: &Transaction<'_>,
    actor: &Actor,
    id: PlanId,
) -> Result<PlanDeleted, StoreError> {
    let Some(before) = store::plan_by_id(transaction, id).await? else {
        return Ok(PlanDeleted::NotFound);
    };
    match store::delete_plan(transaction, id).await {
        Ok(()) => {}
        Err(error) if error.constraint() == Some("subscriptions_plan_id_fkey") => {
            return Ok(PlanDeleted::HasSubscriptions(before));
        }
        Err(error) => return Err(error),
    }
    audit::store::record(
        transaction,
        &actor.entry(
            AuditAction::Delete,
            AuditEntity::SubscriptionPlans,
            Some(id.0),
            audit::deleted(&before),
        ),
    )
    .await?;
    Ok(PlanDeleted::Deleted(before))
}
