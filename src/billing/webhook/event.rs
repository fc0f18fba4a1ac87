//! The parts of a Stripe event Soloist reads, what handling one came to,
//! and small readers of Stripe objects.

use serde_json::Value;
use time::OffsetDateTime;

use crate::accounts::model::UserId;
use crate::audit::{self, Actor};
use crate::billing::event_log::Fate;

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
        action: audit::AuditAction,
        entity: audit::AuditEntity,
        entity_id: uuid::Uuid,
        changes: audit::Change,
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
