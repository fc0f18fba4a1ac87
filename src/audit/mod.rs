//! The audit trail (the seed's audit.ts).

pub mod model;
pub mod pages;
pub mod store;

use crate::accounts::model::UserId;
use model::NewAuditLog;

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

    /// The same actor, acting in the request `request_id`.
    pub fn in_request(self, request_id: Option<&str>) -> Self {
        Self {
            request_id: request_id.map(|id| printable(id, 64)),
            ..self
        }
    }

    /// An audit row by this actor.
    pub fn entry(
        &self,
        action: &str,
        entity: &str,
        entity_id: Option<uuid::Uuid>,
        changes: Option<serde_json::Value>,
    ) -> NewAuditLog {
        NewAuditLog {
            user_id: self.user_id,
            action: action.to_owned(),
            entity: entity.to_owned(),
            entity_id,
            changes,
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

/// `{"field": {"before": .., "after": ..}}` for the fields that differ.
pub fn diff(fields: &[(&str, serde_json::Value, serde_json::Value)]) -> Option<serde_json::Value> {
    let changed: serde_json::Map<String, serde_json::Value> = fields
        .iter()
        .filter(|(_, before, after)| before != after)
        .map(|(name, before, after)| {
            (
                (*name).to_owned(),
                serde_json::json!({ "before": before, "after": after }),
            )
        })
        .collect();
    (!changed.is_empty()).then_some(serde_json::Value::Object(changed))
}
