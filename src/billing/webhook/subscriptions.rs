//! Stripe subscriptions into the user's row: Checkout completions,
//! subscription events, state read from the API, and the audit diff.

use serde_json::Value;
use time::OffsetDateTime;

use super::{Event, Handled, id_of, user_in};
use crate::accounts::model::UserId;
use crate::audit::{self, AuditEntity};
use crate::billing::event_log::Fate;
use crate::billing::invoices;
use crate::billing::model::{PlanId, Subscription, SubscriptionStatus};
use crate::billing::store::{self, StripeState};
use crate::billing::stripe::StripeClient;
use crate::db::StoreError;
use crate::web::page_error::PageError;

fn timestamp(value: &Value) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(value.as_i64()?).ok()
}

/// Stripe's subscription statuses in the seed's terms (trialing is active
/// with a `trial_end`).
pub fn map_status(stripe: &str) -> SubscriptionStatus {
    match stripe {
        "active" | "trialing" => SubscriptionStatus::Active,
        "past_due" => SubscriptionStatus::PastDue,
        "unpaid" => SubscriptionStatus::Unpaid,
        "canceled" | "incomplete_expired" => SubscriptionStatus::Canceled,
        _ => SubscriptionStatus::Inactive,
    }
}

pub(super) async fn checkout_completed(
    transaction: &deadpool_postgres::Transaction<'_>,
    stripe: Option<&StripeClient>,
    event: &Event<'_>,
) -> Result<Handled, PageError> {
    let session = event.object;
    if session["mode"].as_str() != Some("subscription") {
        return Ok(Handled::from(Fate::ignored(
            "a Checkout session that is not for a subscription",
        )));
    }
    let user = session["client_reference_id"]
        .as_str()
        .and_then(|id| uuid::Uuid::try_parse(id).ok())
        .map(UserId)
        .or_else(|| user_in(&session["metadata"]));
    let Some(user) = user else {
        return Ok(Handled::from(Fate::ignored(
            "a Checkout session without a Soloist user",
        )));
    };
    if !store::user_exists(transaction, user).await? {
        return Ok(Handled::from(Fate::ignored(
            "a Checkout session of a user who no longer exists",
        )));
    }
    store::close_checkouts(transaction, user).await?;
    let Some(subscription_id) = id_of(&session["subscription"]) else {
        return Ok(Handled::from(Fate::ignored(
            "a Checkout session without a subscription",
        )));
    };
    let subscription = match (&session["subscription"], stripe) {
        (expanded @ Value::Object(_), _) => expanded.clone(),
        (_, Some(stripe)) => stripe
            .subscription(subscription_id)
            .await
            .map_err(|error| PageError::Upstream(error.to_string()))?,
        (_, None) => {
            let mut fate = Fate::applied(Some(user), None);
            fate.reason = Some(
                "no Stripe key to read the new subscription: its own events will bring it"
                    .to_owned(),
            );
            return Ok(Handled::from(fate));
        }
    };
    // The session's time is not the subscription's version: keep whatever
    // the row has, so the subscription's own events still apply.
    apply_subscription(transaction, stripe, event, &subscription, None, Some(user)).await
}

/// Applies a Stripe subscription object to its user's row. `version` is the
/// event's creation time (none: a state read from Stripe just now, which
/// does not move the row's version).
pub(super) async fn apply_subscription(
    transaction: &deadpool_postgres::Transaction<'_>,
    stripe: Option<&StripeClient>,
    event: &Event<'_>,
    subscription: &Value,
    version: Option<OffsetDateTime>,
    user_hint: Option<UserId>,
) -> Result<Handled, PageError> {
    let Some(subscription_id) = subscription["id"].as_str() else {
        return Ok(Handled::from(Fate::ignored("the subscription has no id")));
    };
    let deleted_event = event.kind == "customer.subscription.deleted";
    if !deleted_event
        && store::subscription_was_deleted(transaction, subscription_id, event.id).await?
    {
        return Ok(Handled::from(Fate::ignored(
            "the subscription was deleted: a deleted subscription never comes back",
        )));
    }
    let customer = id_of(&subscription["customer"]);
    let mut user = user_in(&subscription["metadata"]).or(user_hint);
    if let Some(named) = user
        && !store::user_exists(transaction, named).await?
    {
        user = None;
    }
    if user.is_none() {
        user = store::subscription_by_stripe_id(transaction, subscription_id)
            .await?
            .map(|row| row.user_id);
    }
    if user.is_none()
        && let Some(customer) = &customer
    {
        user = store::subscription_by_customer(transaction, customer)
            .await?
            .map(|row| row.user_id);
    }
    let Some(user) = user else {
        return Ok(Handled::from(Fate::ignored(format!(
            "subscription {subscription_id} belongs to no Soloist user"
        ))));
    };
    let before = store::subscription_for_update(transaction, user).await?;
    let mut object = subscription.clone();
    if let (Some(row), Some(version)) = (&before, version)
        && let Some(synced) = row.stripe_synced_at
    {
        if synced > version {
            let mut fate = Fate::applied(Some(user), None);
            fate.reason = Some("older than the state the subscription has: no change".to_owned());
            return Ok(Handled::from(fate));
        }
        let same_subscription = row.stripe_subscription_id.as_deref() == Some(subscription_id);
        if synced == version && same_subscription && !deleted_event {
            // Two events of one second: only Stripe knows which came last.
            if let Some(stripe) = stripe {
                object = stripe
                    .subscription(subscription_id)
                    .await
                    .map_err(|error| PageError::Upstream(error.to_string()))?;
            }
        }
    }
    let Some(plan_id) = plan_of(transaction, &object, before.as_ref()).await? else {
        return Ok(Handled::from(Fate::ignored(format!(
            "subscription {subscription_id} is at a price no plan has"
        ))));
    };
    let state = state_of(
        &object,
        user,
        plan_id,
        before.as_ref(),
        version,
        deleted_event.then_some(event.created),
    );
    let after = store::upsert_from_stripe(transaction, &state).await?;
    let (action, changes) = audit::upserted(before.as_ref(), &after);
    if !changes.is_empty() {
        audit::store::record(
            transaction,
            &event.actor_entry(action, AuditEntity::Subscriptions, after.id.0, changes),
        )
        .await?;
    }
    invoices::link_payments(transaction, event, user, subscription_id, after.id).await?;
    let wrote = [Some(subscription_id), customer]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .collect();
    Ok(Handled {
        fate: Fate::applied(Some(user), None),
        wrote,
    })
}

/// The row's new state from a Stripe subscription object. `deleted` is the
/// time of a deletion event; `version` none keeps the row's version.
pub fn state_of(
    object: &Value,
    user: UserId,
    plan_id: PlanId,
    before: Option<&Subscription>,
    version: Option<OffsetDateTime>,
    deleted: Option<OffsetDateTime>,
) -> StripeState {
    let item = &object["items"]["data"][0];
    let period = |field: &str| timestamp(&object[field]).or_else(|| timestamp(&item[field]));
    let status = if deleted.is_some() {
        SubscriptionStatus::Canceled
    } else {
        map_status(object["status"].as_str().unwrap_or_default())
    };
    StripeState {
        user_id: user,
        plan_id,
        status,
        customer: id_of(&object["customer"])
            .map(str::to_owned)
            .or_else(|| before.and_then(|row| row.stripe_customer_id.clone())),
        subscription: object["id"].as_str().unwrap_or_default().to_owned(),
        current_period_start: period("current_period_start"),
        current_period_end: period("current_period_end"),
        cancel_at_period_end: deleted.is_none()
            && object["cancel_at_period_end"].as_bool().unwrap_or(false),
        canceled_at: timestamp(&object["canceled_at"])
            .or_else(|| timestamp(&object["ended_at"]))
            .or(deleted),
        trial_end: timestamp(&object["trial_end"]).filter(|_| object["status"] == "trialing"),
        version: match (version, before.and_then(|row| row.stripe_synced_at)) {
            (Some(version), _) => version,
            (None, Some(kept)) => kept,
            (None, None) => OffsetDateTime::UNIX_EPOCH,
        },
    }
}

/// Writes a subscription object read from Stripe just now (after an API
/// call) into the user's row, keeping the row's event version so Stripe's
/// own events about the change still apply. Returns the row after.
pub async fn sync_from_api(
    transaction: &deadpool_postgres::Transaction<'_>,
    object: &Value,
    user: UserId,
    before: Option<&Subscription>,
) -> Result<Subscription, PageError> {
    let plan_id = plan_of(transaction, object, before)
        .await?
        .ok_or_else(|| PageError::internal("a Stripe price no plan has"))?;
    let state = state_of(object, user, plan_id, before, None, None);
    Ok(store::upsert_from_stripe(transaction, &state).await?)
}

/// The plan of a subscription object: by its price, its metadata, or the
/// row's plan.
pub async fn plan_of(
    transaction: &deadpool_postgres::Transaction<'_>,
    object: &Value,
    before: Option<&Subscription>,
) -> Result<Option<PlanId>, StoreError> {
    if let Some(price) = id_of(&object["items"]["data"][0]["price"])
        && let Some(plan) = store::plan_by_price(transaction, price).await?
    {
        return Ok(Some(plan.id));
    }
    if let Some(id) = object["metadata"]["plan_id"]
        .as_str()
        .and_then(|id| uuid::Uuid::try_parse(id).ok())
        && let Some(plan) = store::plan_by_id(transaction, PlanId(id)).await?
    {
        return Ok(Some(plan.id));
    }
    Ok(before.map(|row| row.plan_id))
}
