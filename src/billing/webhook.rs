//! `POST /webhooks/stripe`: Stripe's events, verified on the raw body before
//! anything is parsed, applied in one transaction with the event's record
//! in `stripe_events` (so a redelivery, also a concurrent one, has exactly
//! one effect), and answered 2xx only after that transaction commits.
//!
//! Each event is read in the shape of its API version (`versions`) and
//! its fate is logged for the admins (`event_log`): applied, ignored (and
//! why), parked until what it refers to arrives, or unsupported (a newer
//! API version: answered 400 so that Stripe retries it, and kept for a
//! retry or a Replay after an upgrade).
//!
//! Events arrive out of order. A subscription's row remembers the creation
//! time of the newest event applied (`stripe_synced_at`); an older event
//! changes nothing, an event of the same second is settled by reading the
//! subscription from Stripe, and a deleted subscription never comes back.
//! Payments only move forward (`invoices`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use time::OffsetDateTime;

use super::event_log::{self, EventOutcome, Fate, Recorded};
use super::invoices;
use super::model::{PaymentStatus, PlanId, Subscription, SubscriptionStatus};
use super::store::{self, StripeState};
use super::stripe::{SIGNATURE_TOLERANCE_SECONDS, StripeClient, verify_signature};
use super::versions::{self, Shape};
use crate::accounts::model::UserId;
use crate::audit::{self, Actor};
use crate::web::AppState;
use crate::web::failure::PageError;

/// The largest event body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

/// How many rounds of parked events one write may set going (each round
/// applies the events waiting for the ids the previous one wrote).
const WAKE_ROUNDS: usize = 8;

fn plain(status: actix_web::http::StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(format!("{text}\n"))
}

/// `POST /webhooks/stripe`.
pub async fn receive(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let Some(secret) = state
        .stripe
        .as_ref()
        .and_then(|stripe| stripe.webhook_secret.as_deref())
    else {
        return Ok(plain(
            actix_web::http::StatusCode::NOT_FOUND,
            "Stripe webhooks are not set up",
        ));
    };
    let header = request
        .headers()
        .get("Stripe-Signature")
        .and_then(|value| value.to_str().ok());
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if let Err(error) = verify_signature(secret, header, &body, now, SIGNATURE_TOLERANCE_SECONDS) {
        tracing::warn!(%error, "refused a Stripe webhook");
        return Ok(plain(
            actix_web::http::StatusCode::BAD_REQUEST,
            &error.to_string(),
        ));
    }
    let payload: Value = serde_json::from_slice(&body)
        .map_err(|_| PageError::BadRequest("the event is not JSON".to_owned()))?;
    let event = Event::parse(&payload).ok_or_else(|| {
        PageError::BadRequest("the event lacks id, type, created or data.object".to_owned())
    })?;
    let delivery = apply(&state, &event, &payload).await?;
    let answer = |outcome: EventOutcome, duplicate: bool| {
        HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(serde_json::json!({
                "received": true,
                "duplicate": duplicate,
                "outcome": outcome.as_str(),
            }))
    };
    match delivery {
        Delivery::Duplicate(outcome) => {
            tracing::info!(event = %event.id, kind = %event.kind, "Stripe event delivered again");
            Ok(answer(outcome, true))
        }
        Delivery::Done(fate) if fate.outcome == EventOutcome::Unsupported => {
            let reason = fate.reason.unwrap_or_default();
            tracing::error!(
                event = %event.id,
                kind = %event.kind,
                api_version = event.api_version.unwrap_or_default(),
                "a Stripe event in an API version Soloist does not know was kept, not applied \
                 (Stripe retries it): {reason}"
            );
            Ok(plain(actix_web::http::StatusCode::BAD_REQUEST, &reason))
        }
        Delivery::Done(fate) => {
            let reason = fate.reason.as_deref().unwrap_or_default();
            tracing::info!(
                event = %event.id,
                kind = %event.kind,
                outcome = fate.outcome.as_str(),
                reason,
                "Stripe event"
            );
            Ok(answer(fate.outcome, false))
        }
    }
}

/// The parts of a Stripe event Soloist reads.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    /// `evt_...`.
    pub id: &'a str,
    /// e.g. `invoice.paid`.
    pub kind: &'a str,
    /// When Stripe created it.
    pub created: OffsetDateTime,
    /// `data.object`.
    pub object: &'a Value,
    /// The API version that shaped it, when it says.
    pub api_version: Option<&'a str>,
    /// Who applies it: the system for a delivery, an admin for a Replay.
    pub actor: Actor,
}

impl<'a> Event<'a> {
    /// The event, when it has the fields every event has.
    pub fn parse(event: &'a Value) -> Option<Self> {
        Some(Self {
            id: event["id"]
                .as_str()
                .filter(|id| !id.is_empty() && id.len() <= 255)?,
            kind: event["type"].as_str().filter(|kind| kind.len() <= 100)?,
            created: OffsetDateTime::from_unix_timestamp(event["created"].as_i64()?).ok()?,
            object: event
                .get("data")?
                .get("object")
                .filter(|object| object.is_object())?,
            api_version: event["api_version"]
                .as_str()
                .filter(|version| version.len() <= 64),
            actor: Actor::system(),
        })
    }

    /// An audit row of this event's effect.
    pub fn actor_entry(
        &self,
        action: &str,
        entity: &str,
        entity_id: uuid::Uuid,
        changes: Option<Value>,
    ) -> audit::model::NewAuditLog {
        let mut entry = self.actor.entry(action, entity, Some(entity_id), changes);
        entry.metadata = Some(serde_json::json!({
            "stripe_event_id": self.id,
            "stripe_event_type": self.kind,
        }));
        entry
    }
}

/// What one event did, and the ids it wrote (parked events waiting for
/// them are applied next).
#[derive(Clone, Debug)]
pub struct Handled {
    /// Its fate.
    pub fate: Fate,
    /// Ids of payments and subscriptions written.
    pub wrote: Vec<String>,
}

impl From<Fate> for Handled {
    fn from(fate: Fate) -> Self {
        Self {
            fate,
            wrote: Vec::new(),
        }
    }
}

/// What a delivery came to.
#[derive(Clone, Debug)]
pub enum Delivery {
    /// Delivered before (its outcome then); no effect.
    Duplicate(EventOutcome),
    /// Handled now.
    Done(Fate),
}

/// Records and applies `event` (whose whole body is `payload`) in one
/// transaction.
pub async fn apply(
    state: &AppState,
    event: &Event<'_>,
    payload: &Value,
) -> Result<Delivery, PageError> {
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let recorded = event_log::claim(&transaction, event).await?;
    if let Recorded::Again(outcome) = recorded
        && outcome != EventOutcome::Unsupported
    {
        // A duplicate only counted its delivery: that count need not wait
        // for the disk (one lost in a crash is harmless), so Stripe's
        // retries stay cheap.
        transaction
            .batch_execute("SET LOCAL synchronous_commit = off")
            .await?;
        transaction.commit().await?;
        return Ok(Delivery::Duplicate(outcome));
    }
    let (first, parked) = match recorded {
        Recorded::New { parked } => (Some(payload), parked),
        Recorded::Again(_) => (None, true),
    };
    let fate = run(
        &transaction,
        state.stripe_client.as_ref(),
        event,
        first,
        parked,
    )
    .await?;
    transaction.commit().await?;
    Ok(Delivery::Done(fate))
}

/// Applies a claimed event, logs its fate (a first delivery, whose body is
/// `first`, is recorded with it), and applies the parked events its writes
/// set going (`parked`: whether any may wait for the ids it names; the
/// ids it writes are those, or ids no event can be parked on).
async fn run(
    transaction: &deadpool_postgres::Transaction<'_>,
    stripe: Option<&StripeClient>,
    event: &Event<'_>,
    first: Option<&Value>,
    parked: bool,
) -> Result<Fate, PageError> {
    let shape = match versions::shape_of(event.api_version, event.object) {
        Ok(shape) => shape,
        Err(unsupported) => {
            let fate = Fate {
                outcome: EventOutcome::Unsupported,
                reason: Some(unsupported.to_string()),
                waiting_for: Vec::new(),
                user: None,
                payment: None,
            };
            log_fate(transaction, event, first, &fate).await?;
            return Ok(fate);
        }
    };
    let handled = dispatch(transaction, stripe, event, shape).await?;
    log_fate(transaction, event, first, &handled.fate).await?;
    if parked {
        wake(transaction, stripe, &event.actor, handled.wrote).await?;
    }
    Ok(handled.fate)
}

async fn log_fate(
    transaction: &deadpool_postgres::Transaction<'_>,
    event: &Event<'_>,
    first: Option<&Value>,
    fate: &Fate,
) -> Result<(), PageError> {
    match first {
        Some(payload) => event_log::insert(transaction, event, payload, fate).await?,
        None => event_log::set_fate(transaction, event.id, fate).await?,
    }
    Ok(())
}

async fn dispatch(
    transaction: &deadpool_postgres::Transaction<'_>,
    stripe: Option<&StripeClient>,
    event: &Event<'_>,
    shape: Shape,
) -> Result<Handled, PageError> {
    match event.kind {
        "checkout.session.completed" => checkout_completed(transaction, stripe, event).await,
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted" => {
            apply_subscription(
                transaction,
                stripe,
                event,
                event.object,
                Some(event.created),
                None,
            )
            .await
        }
        "invoice.paid" | "invoice.payment_succeeded" => {
            invoices::invoice(transaction, event, shape, PaymentStatus::Succeeded).await
        }
        "invoice.payment_failed" => {
            invoices::invoice(transaction, event, shape, PaymentStatus::Failed).await
        }
        "invoice_payment.paid" => invoices::invoice_payment(transaction, event).await,
        "charge.refunded" => invoices::refund(transaction, event, shape).await,
        other => Ok(Handled::from(Fate::ignored(format!(
            "Soloist does not follow {other} events"
        )))),
    }
}

/// Applies the parked events waiting for `ids`, then those waiting for
/// what they wrote, in the caller's transaction.
async fn wake(
    transaction: &deadpool_postgres::Transaction<'_>,
    stripe: Option<&StripeClient>,
    actor: &Actor,
    mut ids: Vec<String>,
) -> Result<(), PageError> {
    for _ in 0..WAKE_ROUNDS {
        if ids.is_empty() {
            return Ok(());
        }
        let parked = event_log::parked_for(transaction, &ids).await?;
        ids.clear();
        for (id, payload) in parked {
            let Some(mut event) = Event::parse(&payload) else {
                continue;
            };
            event.actor = actor.clone();
            let Ok(shape) = versions::shape_of(event.api_version, event.object) else {
                continue;
            };
            event_log::lock_ids(transaction, &event_log::ids_of(&event)).await?;
            let mut handled = dispatch(transaction, stripe, &event, shape).await?;
            if handled.fate.outcome == EventOutcome::Applied {
                handled.fate.reason =
                    Some("was parked; applied when what it waited for arrived".to_owned());
            }
            tracing::info!(event = %id, outcome = handled.fate.outcome.as_str(), "a parked Stripe event");
            event_log::set_fate(transaction, &id, &handled.fate).await?;
            ids.extend(handled.wrote);
        }
    }
    Ok(())
}

/// What a Replay came to.
#[derive(Clone, Debug)]
pub enum Replayed {
    /// No such event.
    Missing,
    /// Its body is no longer kept.
    Forgotten,
    /// Applied again: its outcome before and now.
    Done(EventOutcome, Fate),
}

/// Applies the stored event `id` again, as `actor` (an admin), with an
/// audit row of the replay. Its effects are idempotent: payments only move
/// forward and a subscription takes an event only if it is not older than
/// the row.
pub async fn replay(state: &AppState, id: &str, actor: &Actor) -> Result<Replayed, PageError> {
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let Some((before, payload)) = event_log::for_replay(&transaction, id).await? else {
        return Ok(Replayed::Missing);
    };
    let Some(payload) = payload else {
        return Ok(Replayed::Forgotten);
    };
    let Some(mut event) = Event::parse(&payload) else {
        return Ok(Replayed::Forgotten);
    };
    event.actor = actor.clone();
    event_log::lock_ids(&transaction, &event_log::ids_of(&event)).await?;
    let fate = run(
        &transaction,
        state.stripe_client.as_ref(),
        &event,
        None,
        true,
    )
    .await?;
    let mut entry = actor.entry(
        "UPDATE",
        "stripe_events",
        None,
        Some(serde_json::json!({
            "outcome": { "before": before.as_str(), "after": fate.outcome.as_str() },
        })),
    );
    entry.metadata = Some(serde_json::json!({
        "stripe_event_id": event.id,
        "stripe_event_type": event.kind,
        "replayed": true,
    }));
    audit::store::record(&transaction, &entry).await?;
    transaction.commit().await?;
    Ok(Replayed::Done(before, fate))
}

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

/// An id field that may be a string or an expanded object.
pub fn id_of(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value["id"].as_str())
}

/// The Soloist user named in Stripe `metadata`.
pub fn user_in(metadata: &Value) -> Option<UserId> {
    metadata["user_id"]
        .as_str()
        .and_then(|id| uuid::Uuid::try_parse(id).ok())
        .map(UserId)
}

async fn checkout_completed(
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
async fn apply_subscription(
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
    if let Some(changes) = subscription_changes(before.as_ref(), &after) {
        let action = if before.is_some() { "UPDATE" } else { "CREATE" };
        audit::store::record(
            transaction,
            &event.actor_entry(action, "subscriptions", after.id.0, Some(changes)),
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
        .ok_or_else(|| PageError::Internal("a Stripe price no plan has".to_owned()))?;
    let state = state_of(object, user, plan_id, before, None, None);
    Ok(store::upsert_from_stripe(transaction, &state).await?)
}

/// The plan of a subscription object: by its price, its metadata, or the
/// row's plan.
pub async fn plan_of(
    transaction: &deadpool_postgres::Transaction<'_>,
    object: &Value,
    before: Option<&Subscription>,
) -> Result<Option<PlanId>, PageError> {
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

/// The before/after of what a person sees of a subscription; none when
/// nothing of it changed.
pub fn subscription_changes(before: Option<&Subscription>, after: &Subscription) -> Option<Value> {
    let iso = |moment: Option<OffsetDateTime>| {
        moment.and_then(|moment| {
            moment
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
    };
    let fields = |row: Option<&Subscription>| -> Vec<Value> {
        vec![
            serde_json::json!(row.map(|row| row.status.as_str())),
            serde_json::json!(row.map(|row| row.plan_id)),
            serde_json::json!(row.and_then(|row| row.stripe_subscription_id.clone())),
            serde_json::json!(iso(row.and_then(|row| row.current_period_end))),
            serde_json::json!(row.and_then(|row| row.cancel_at_period_end)),
            serde_json::json!(iso(row.and_then(|row| row.trial_end))),
            serde_json::json!(iso(row.and_then(|row| row.canceled_at))),
        ]
    };
    let names = [
        "status",
        "plan_id",
        "stripe_subscription_id",
        "current_period_end",
        "cancel_at_period_end",
        "trial_end",
        "canceled_at",
    ];
    let changes: Vec<(&str, Value, Value)> = names
        .iter()
        .zip(fields(before).into_iter().zip(fields(Some(after))))
        .map(|(name, (old, new))| (*name, old, new))
        .collect();
    audit::diff(&changes)
}
