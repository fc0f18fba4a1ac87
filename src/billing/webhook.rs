//! `POST /webhooks/stripe`: Stripe's events, verified on the raw body before
//! anything is parsed, applied in one transaction with the event's id (so a
//! redelivery, also a concurrent one, has exactly one effect), and answered
//! 2xx only after that transaction commits.
//!
//! Events arrive out of order. A subscription's row remembers the creation
//! time of the newest event applied (`stripe_synced_at`); an older event
//! changes nothing, an event of the same second is settled by reading the
//! subscription from Stripe, and a deleted subscription never comes back.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use time::OffsetDateTime;

use super::model::{PaymentStatus, PlanId, Subscription, SubscriptionStatus};
use super::store::{self, InvoicePayment, StripeState};
use super::stripe::{SIGNATURE_TOLERANCE_SECONDS, StripeClient, verify_signature};
use crate::accounts::model::UserId;
use crate::audit::{self, Actor};
use crate::web::AppState;
use crate::web::failure::PageError;

/// The largest event body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

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
    let event: Value = serde_json::from_slice(&body)
        .map_err(|_| PageError::BadRequest("the event is not JSON".to_owned()))?;
    let event = Event::parse(&event).ok_or_else(|| {
        PageError::BadRequest("the event lacks id, type, created or data.object".to_owned())
    })?;
    let applied = apply(&state, &event).await?;
    tracing::info!(event = %event.id, kind = %event.kind, applied, "Stripe event");
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(serde_json::json!({ "received": true, "duplicate": !applied })))
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
        })
    }

    fn actor_entry(
        &self,
        action: &str,
        entity: &str,
        entity_id: uuid::Uuid,
        changes: Option<Value>,
    ) -> audit::model::NewAuditLog {
        let mut entry = Actor::system().entry(action, entity, Some(entity_id), changes);
        entry.metadata = Some(serde_json::json!({
            "stripe_event_id": self.id,
            "stripe_event_type": self.kind,
        }));
        entry
    }
}

/// Records and applies `event` in one transaction; `false` for a
/// redelivery.
pub async fn apply(state: &AppState, event: &Event<'_>) -> Result<bool, PageError> {
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let object_id = event.object["id"].as_str();
    if !store::record_event(&transaction, event.id, event.kind, object_id, event.created).await? {
        return Ok(false);
    }
    let stripe = state.stripe_client.as_ref();
    match event.kind {
        "checkout.session.completed" => checkout_completed(&transaction, stripe, event).await?,
        "customer.subscription.created" | "customer.subscription.updated" => {
            apply_subscription(
                &transaction,
                stripe,
                event,
                event.object,
                Some(event.created),
                None,
            )
            .await?;
        }
        "customer.subscription.deleted" => {
            apply_subscription(
                &transaction,
                stripe,
                event,
                event.object,
                Some(event.created),
                None,
            )
            .await?;
        }
        "invoice.paid" | "invoice.payment_succeeded" => {
            invoice(&transaction, event, PaymentStatus::Succeeded).await?;
        }
        "invoice.payment_failed" => invoice(&transaction, event, PaymentStatus::Failed).await?,
        "charge.refunded" => refund(&transaction, event).await?,
        _ => {}
    }
    transaction.commit().await?;
    Ok(true)
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
fn id_of(value: &Value) -> Option<&str> {
    value.as_str().or_else(|| value["id"].as_str())
}

fn user_in(metadata: &Value) -> Option<UserId> {
    metadata["user_id"]
        .as_str()
        .and_then(|id| uuid::Uuid::try_parse(id).ok())
        .map(UserId)
}

async fn checkout_completed(
    transaction: &deadpool_postgres::Transaction<'_>,
    stripe: Option<&StripeClient>,
    event: &Event<'_>,
) -> Result<(), PageError> {
    let session = event.object;
    if session["mode"].as_str() != Some("subscription") {
        return Ok(());
    }
    let user = session["client_reference_id"]
        .as_str()
        .and_then(|id| uuid::Uuid::try_parse(id).ok())
        .map(UserId)
        .or_else(|| user_in(&session["metadata"]));
    let Some(user) = user else {
        tracing::warn!(
            event = event.id,
            "a Checkout session without a Soloist user"
        );
        return Ok(());
    };
    store::close_checkouts(transaction, user).await?;
    let Some(subscription_id) = id_of(&session["subscription"]) else {
        return Ok(());
    };
    let subscription = match (&session["subscription"], stripe) {
        (expanded @ Value::Object(_), _) => expanded.clone(),
        (_, Some(stripe)) => stripe
            .subscription(subscription_id)
            .await
            .map_err(|error| PageError::Upstream(error.to_string()))?,
        (_, None) => {
            tracing::warn!(
                event = event.id,
                "no Stripe key to read the new subscription; waiting for its own events"
            );
            return Ok(());
        }
    };
    // The session's time is not the subscription's version: keep whatever
    // the row has, so the subscription's own events still apply.
    apply_subscription(transaction, stripe, event, &subscription, None, Some(user)).await?;
    Ok(())
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
) -> Result<(), PageError> {
    let Some(subscription_id) = subscription["id"].as_str() else {
        return Ok(());
    };
    let deleted_event = event.kind == "customer.subscription.deleted";
    if !deleted_event
        && store::subscription_was_deleted(transaction, subscription_id, event.id).await?
    {
        return Ok(());
    }
    let customer = id_of(&subscription["customer"]);
    let mut user = user_in(&subscription["metadata"]).or(user_hint);
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
        tracing::warn!(
            event = event.id,
            subscription = subscription_id,
            "a subscription of no Soloist user"
        );
        return Ok(());
    };
    let before = store::subscription_for_update(transaction, user).await?;
    let mut object = subscription.clone();
    if let (Some(row), Some(version)) = (&before, version)
        && let Some(synced) = row.stripe_synced_at
    {
        if synced > version {
            return Ok(());
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
        tracing::warn!(
            event = event.id,
            subscription = subscription_id,
            "a subscription at a price no plan has"
        );
        return Ok(());
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
    Ok(())
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

async fn plan_of(
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

async fn invoice(
    transaction: &deadpool_postgres::Transaction<'_>,
    event: &Event<'_>,
    status: PaymentStatus,
) -> Result<(), PageError> {
    let invoice = event.object;
    let Some(invoice_id) = invoice["id"].as_str() else {
        return Ok(());
    };
    let subscription_id = id_of(&invoice["subscription"])
        .or_else(|| id_of(&invoice["parent"]["subscription_details"]["subscription"]));
    let mut row = match subscription_id {
        Some(id) => store::subscription_by_stripe_id(transaction, id).await?,
        None => None,
    };
    if row.is_none()
        && let Some(customer) = id_of(&invoice["customer"])
    {
        row = store::subscription_by_customer(transaction, customer).await?;
    }
    let user = row.as_ref().map(|row| row.user_id).or_else(|| {
        user_in(&invoice["subscription_details"]["metadata"])
            .or_else(|| user_in(&invoice["metadata"]))
    });
    let Some(user) = user else {
        tracing::warn!(
            event = event.id,
            invoice = invoice_id,
            "an invoice of no Soloist user"
        );
        return Ok(());
    };
    let amount = match status {
        PaymentStatus::Succeeded => &invoice["amount_paid"],
        _ => &invoice["amount_due"],
    };
    let description = invoice["lines"]["data"][0]["description"]
        .as_str()
        .or_else(|| invoice["description"].as_str())
        .unwrap_or("Subscription")
        .chars()
        .take(500)
        .collect::<String>();
    let payment = InvoicePayment {
        user_id: user,
        subscription_id: row.as_ref().map(|row| row.id),
        amount_cents: amount
            .as_i64()
            .and_then(|amount| i32::try_from(amount).ok())
            .unwrap_or(0)
            .max(0),
        currency: invoice["currency"]
            .as_str()
            .unwrap_or("usd")
            .to_ascii_uppercase(),
        status,
        payment_intent: id_of(&invoice["payment_intent"]).map(str::to_owned),
        charge: id_of(&invoice["charge"]).map(str::to_owned),
        description,
        metadata: serde_json::json!({
            "stripe_invoice_id": invoice_id,
            "invoice_number": invoice["number"],
            "hosted_invoice_url": invoice["hosted_invoice_url"],
        }),
        invoice: invoice_id.to_owned(),
    };
    if payment.currency.len() != 3 || !payment.currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(PageError::BadRequest(
            "the invoice's currency is not a currency".to_owned(),
        ));
    }
    let (saved, inserted) = store::upsert_invoice_payment(transaction, &payment).await?;
    let changes = serde_json::json!({
        "status": { "after": saved.status.as_str() },
        "amount_cents": { "after": saved.amount_cents },
        "currency": { "after": saved.currency },
        "stripe_invoice_id": { "after": invoice_id },
    });
    let action = if inserted { "CREATE" } else { "UPDATE" };
    audit::store::record(
        transaction,
        &event.actor_entry(action, "payments", saved.id.0, Some(changes)),
    )
    .await?;
    Ok(())
}

async fn refund(
    transaction: &deadpool_postgres::Transaction<'_>,
    event: &Event<'_>,
) -> Result<(), PageError> {
    let charge = event.object;
    let Some(charge_id) = charge["id"].as_str() else {
        return Ok(());
    };
    let Some(payment) = store::payment_for_charge(
        transaction,
        charge_id,
        id_of(&charge["payment_intent"]),
        id_of(&charge["invoice"]),
    )
    .await?
    else {
        tracing::warn!(
            event = event.id,
            charge = charge_id,
            "a refund of no recorded payment"
        );
        return Ok(());
    };
    let refunded = charge["amount_refunded"].as_i64().unwrap_or(0);
    let status = if charge["refunded"].as_bool() == Some(true) {
        PaymentStatus::Refunded
    } else {
        payment.status
    };
    let after = store::set_payment_refund(
        transaction,
        payment.id,
        status,
        charge_id,
        &serde_json::json!({ "amount_refunded": refunded }),
    )
    .await?;
    let changes = audit::diff(&[
        (
            "status",
            payment.status.as_str().into(),
            after.status.as_str().into(),
        ),
        (
            "amount_refunded",
            payment
                .metadata
                .as_ref()
                .map_or(Value::Null, |metadata| metadata["amount_refunded"].clone()),
            serde_json::json!(refunded),
        ),
    ]);
    if changes.is_some() {
        audit::store::record(
            transaction,
            &event.actor_entry("UPDATE", "payments", after.id.0, changes),
        )
        .await?;
    }
    Ok(())
}
