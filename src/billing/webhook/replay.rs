//! An admin's Replay of a stored event.

use super::{Event, run};
use crate::audit::{self, Actor};
use crate::audit::{AuditAction, AuditEntity, Change};
use crate::billing::event_log::{self, EventOutcome, Fate};
use crate::web::AppState;
use crate::web::page_error::PageError;

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
        AuditAction::Update,
        AuditEntity::StripeEvents,
        None,
        Change::none().field("outcome", before.as_str(), fate.outcome.as_str()),
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
