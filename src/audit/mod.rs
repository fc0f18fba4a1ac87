//! The audit trail (the seed's audit.ts).

pub mod change;
pub mod export;
pub mod labels;
pub mod model;
pub mod pages;
pub mod store;

use crate::accounts::model::UserId;
pub use change::{Audited, Change, Fields, Secret, changed, created, deleted, upserted};
use model::NewAuditLog;
pub use model::{AuditAction, AuditEntity};

/// Who made a change, and from where: every audit row carries it.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    /// The user, or none for the system.
    pub user_id: Option<UserId>,
    /// The client address.
    pub ip: Option<String>,
    /// The client's browser.
    pub user_agent: Option<String>,
    /// The request that made the change; written into each row's metadata.
    pub request_id: Option<String>,
}

impl Actor {
    /// The system (CLI, background work).
    pub fn system() -> Self {
        Self::default()
    }

    /// The actor of a client at `ip` with `user_agent`: both are written to
    /// the trail with control characters escaped, so a crafted header can't
    /// forge a line in a log or a CSV.
    pub fn client(user_id: Option<UserId>, ip: Option<&str>, user_agent: Option<&str>) -> Self {
        Self {
            user_id,
            ip: ip.map(|ip| printable(ip, 64)),
            user_agent: user_agent.map(|agent| printable(agent, 512)),
            request_id: None,
        }
    }

    /// The same client, acting as `user_id` (the user a sign-up, a
    /// sign-in or a mailed link is about, before a session says so).
    pub fn as_user(&self, user_id: UserId) -> Self {
        Self {
            user_id: Some(user_id),
            ..self.clone()
        }
    }

    /// The same actor, acting in the request `request_id`.
    pub fn in_request(self, request_id: Option<&str>) -> Self {
        Self {
            request_id: request_id.map(|id| printable(id, 64)),
            ..self
        }
    }

    /// An audit row by this actor: `action` on the row `entity_id` of
    /// `entity`, which `change` describes.
    pub fn entry(
        &self,
        action: AuditAction,
        entity: AuditEntity,
        entity_id: Option<uuid::Uuid>,
        change: Change,
    ) -> NewAuditLog {
        NewAuditLog {
            user_id: self.user_id,
            action: action.as_str().to_owned(),
            entity: entity.as_str().to_owned(),
            entity_id,
            changes: change.into_json(),
            ip_address: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            metadata: None,
            request_id: self.request_id.clone(),
        }
    }
}

/// `text` with control characters (CR, LF, ESC, ...) written as `\u{..}`
/// escapes, cut to `limit` characters.
pub fn printable(text: &str, limit: usize) -> String {
    let mut out = String::with_capacity(text.len().min(limit));
    for character in text.chars().take(limit) {
        if character.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(character)));
        } else {
            out.push(character);
        }
    }
    out
}
