//! One way to describe what a writer did to a row, for `audit_logs.changes`.
//!
//! A row type says which of its fields the trail shows ([`Audited`]); a
//! writer then records [`created`] (every field's `after`), [`changed`] (the
//! fields that differ, `before` and `after`) or [`deleted`] (every field's
//! `before`). Secrets are never written: [`Change::secret`] records that one
//! was set, replaced or removed as `"[hidden]"`.
//!
//! ```text
//! {"title": {"before": "Draft", "after": "Launch day"}, "status": {"after": "published"}}
//! ```

use serde::Serialize;
use serde_json::{Map, Value};

use super::model::AuditAction;

/// What the trail writes instead of a secret.
pub const HIDDEN: &str = "[hidden]";

/// A row whose fields the audit trail describes.
pub trait Audited {
    /// The fields, by column name, as the trail shows them.
    fn audited(&self) -> Fields;
}

/// Named values of a row, in the order the trail lists them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Fields(Vec<(&'static str, Value)>);

impl Fields {
    /// No fields yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// These fields and `name` = `value`.
    pub fn with(mut self, name: &'static str, value: impl Serialize) -> Self {
        self.0
            .push((name, serde_json::to_value(value).unwrap_or(Value::Null)));
        self
    }

    /// These fields and the moment `name`, written as RFC 3339.
    pub fn with_time(self, name: &'static str, moment: Option<time::OffsetDateTime>) -> Self {
        let text = moment.and_then(|moment| {
            moment
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
        self.with(name, text)
    }

    /// One field.
    pub fn of(name: &'static str, value: impl Serialize) -> Self {
        Self::new().with(name, value)
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.0
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, value)| value)
    }
}

impl Audited for Fields {
    fn audited(&self) -> Fields {
        self.clone()
    }
}

/// What a change did to each field it touched.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Change(Map<String, Value>);

/// A secret's part in a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Secret {
    /// There was none; now there is one.
    Set,
    /// One replaced another.
    Replaced,
    /// There was one; now there is none.
    Removed,
}

impl Change {
    /// Nothing changed.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether the change touched no field.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// This change and the secret `name` set, replaced or removed, shown as
    /// [`HIDDEN`].
    pub fn secret(mut self, name: &str, how: Secret) -> Self {
        let hidden = || Value::String(HIDDEN.to_owned());
        let side = match how {
            Secret::Set => serde_json::json!({ "after": hidden() }),
            Secret::Replaced => serde_json::json!({ "before": hidden(), "after": hidden() }),
            Secret::Removed => serde_json::json!({ "before": hidden(), "after": null }),
        };
        self.0.insert(name.to_owned(), side);
        self
    }

    /// This change and `name` going from `before` to `after`, written even
    /// when the two are equal (a replayed event records its outcome either
    /// way).
    pub fn field(mut self, name: &str, before: impl Serialize, after: impl Serialize) -> Self {
        let before = serde_json::to_value(before).unwrap_or(Value::Null);
        let after = serde_json::to_value(after).unwrap_or(Value::Null);
        self.0.insert(
            name.to_owned(),
            serde_json::json!({ "before": before, "after": after }),
        );
        self
    }

    /// This change and everything `other` touched.
    pub fn and(mut self, other: Change) -> Self {
        self.0.extend(other.0);
        self
    }

    /// The JSON for `audit_logs.changes`: none when nothing changed.
    pub fn into_json(self) -> Option<Value> {
        (!self.0.is_empty()).then_some(Value::Object(self.0))
    }
}

/// A row was made: every field's `after`.
pub fn created(after: &impl Audited) -> Change {
    one_side(after, "after")
}

/// A row was removed: every field's `before`.
pub fn deleted(before: &impl Audited) -> Change {
    one_side(before, "before")
}

/// A row went from `before` to `after`: the fields whose values differ, with
/// both sides. A field that only one side has counts as changed.
pub fn changed(before: &impl Audited, after: &impl Audited) -> Change {
    let (before, after) = (before.audited(), after.audited());
    let mut change = Map::new();
    for (name, new) in &after.0 {
        let old = before.value(name).cloned().unwrap_or(Value::Null);
        if old != *new {
            change.insert(
                (*name).to_owned(),
                serde_json::json!({ "before": old, "after": new }),
            );
        }
    }
    for (name, old) in &before.0 {
        if after.value(name).is_none() && !old.is_null() {
            change.insert(
                (*name).to_owned(),
                serde_json::json!({ "before": old, "after": null }),
            );
        }
    }
    Change(change)
}

/// A row an upsert wrote: a create when there was none `before`, else the
/// change from it.
pub fn upserted(before: Option<&impl Audited>, after: &impl Audited) -> (AuditAction, Change) {
    match before {
        Some(before) => (AuditAction::Update, changed(before, after)),
        None => (AuditAction::Create, created(after)),
    }
}

fn one_side(row: &impl Audited, side: &str) -> Change {
    Change(
        row.audited()
            .0
            .into_iter()
            .map(|(name, value)| (name.to_owned(), serde_json::json!({ side: value })))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Post {
        title: &'static str,
        draft: bool,
    }

    impl Audited for Post {
        fn audited(&self) -> Fields {
            Fields::new()
                .with("title", self.title)
                .with("draft", self.draft)
        }
    }

    #[test]
    fn a_change_lists_only_the_fields_that_differ() {
        let before = Post {
            title: "Hello",
            draft: true,
        };
        let after = Post {
            title: "Hello",
            draft: false,
        };
        assert_eq!(
            changed(&before, &after).into_json(),
            Some(serde_json::json!({ "draft": { "before": true, "after": false } }))
        );
        assert_eq!(changed(&before, &before).into_json(), None);
    }

    #[test]
    fn creates_and_deletes_show_one_side_of_every_field() {
        let post = Post {
            title: "Hello",
            draft: true,
        };
        assert_eq!(
            created(&post).into_json(),
            Some(serde_json::json!({ "title": { "after": "Hello" }, "draft": { "after": true } }))
        );
        assert_eq!(
            deleted(&post).into_json(),
            Some(
                serde_json::json!({ "title": { "before": "Hello" }, "draft": { "before": true } })
            )
        );
    }

    #[test]
    fn secrets_are_recorded_without_their_value() {
        let change = created(&Fields::of("role", "admin")).secret("password_hash", Secret::Set);
        assert_eq!(
            change.into_json(),
            Some(serde_json::json!({
                "role": { "after": "admin" },
                "password_hash": { "after": "[hidden]" },
            }))
        );
        let replaced = Change::none().secret("password_hash", Secret::Replaced);
        assert_eq!(
            replaced.into_json(),
            Some(
                serde_json::json!({ "password_hash": { "before": "[hidden]", "after": "[hidden]" } })
            )
        );
    }

    #[test]
    fn a_field_one_side_lacks_counts_as_changed() {
        let before = Fields::of("email", "old@example.com");
        let after = Fields::new();
        assert_eq!(
            changed(&before, &after).into_json(),
            Some(serde_json::json!({ "email": { "before": "old@example.com", "after": null } }))
        );
    }
}
