//! The event loop: record and apply an event in one transaction, dispatch
//! it by type, log its fate, and wake the parked events its writes free.

use serde_json::Value;

use super::{Event, Handled, apply_subscription, checkout_completed};
use crate::audit::Actor;
use crate::billing::event_log::{self, EventOutcome, Fate, Recorded};
use crate::billing::invoices;
use crate::billing::model::PaymentStatus;
use crate::billing::stripe::StripeClient;
use crate::billing::versions::{self, Shape};
use crate::web::AppState;
use crate::web::page_error::PageError;

/// How many rounds of parked events one write may set going (each round
/// applies the events waiting for the ids the previous one wrote).
const WAKE_ROUNDS: usize = 8;

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
pub(super) async fn run(
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
