//! The words the trail's pages use for its stored values: "Failed sign-in"
//! for `LOGIN_FAILED`, "Plan" for `subscription_plans`. Only the pages: the
//! CSV export and the filters' query strings keep the stored values.

use super::model::{AuditAction, AuditEntity};

const ACTIONS: &[(AuditAction, &str)] = &[
    (AuditAction::Create, "Created"),
    (AuditAction::Update, "Changed"),
    (AuditAction::Delete, "Deleted"),
    (AuditAction::Login, "Signed in"),
    (AuditAction::LoginFailed, "Failed sign-in"),
    (AuditAction::Logout, "Signed out"),
];

const ENTITIES: &[(AuditEntity, &str)] = &[
    (AuditEntity::Users, "User"),
    (AuditEntity::UserProfiles, "Profile"),
    (AuditEntity::Accounts, "Sign-in method"),
    (AuditEntity::Sessions, "Session"),
    (AuditEntity::VerificationTokens, "Email link"),
    (AuditEntity::Posts, "Post"),
    (AuditEntity::Categories, "Category"),
    (AuditEntity::Tags, "Tag"),
    (AuditEntity::SubscriptionPlans, "Plan"),
    (AuditEntity::Subscriptions, "Subscription"),
    (AuditEntity::Payments, "Payment"),
    (AuditEntity::StripeEvents, "Stripe event"),
    (AuditEntity::SiteSettings, "Site settings"),
    (AuditEntity::Backups, "Backup"),
];

/// `LOGIN_FAILED` -> "Login failed", for a value without a label of its own
/// (rows written by an older or newer Soloist).
fn spelled_out(raw: &str) -> String {
    let words = raw.replace('_', " ").to_lowercase();
    let mut letters = words.chars();
    match letters.next() {
        Some(first) => first.to_uppercase().chain(letters).collect(),
        None => String::new(),
    }
}

/// The label of a stored action.
pub fn action(raw: &str) -> String {
    ACTIONS
        .iter()
        .find(|(action, _)| action.as_str() == raw)
        .map_or_else(|| spelled_out(raw), |(_, label)| (*label).to_owned())
}

/// The label of a stored entity.
pub fn entity(raw: &str) -> String {
    ENTITIES
        .iter()
        .find(|(entity, _)| entity.as_str() == raw)
        .map_or_else(|| spelled_out(raw), |(_, label)| (*label).to_owned())
}

/// Every action as (stored value, label), for the filter's choices.
pub fn actions() -> Vec<(&'static str, String)> {
    AuditAction::ALL
        .iter()
        .map(|action| (action.as_str(), self::action(action.as_str())))
        .collect()
}

/// Every entity as (stored value, label), for the filter's choices.
pub fn entities() -> Vec<(&'static str, String)> {
    AuditEntity::ALL
        .iter()
        .map(|entity| (entity.as_str(), self::entity(entity.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{action, entity};
    use crate::audit::model::{AuditAction, AuditEntity};

    #[test]
    fn stored_values_read_as_words() {
        assert_eq!(action("LOGIN_FAILED"), "Failed sign-in");
        assert_eq!(action("CREATE"), "Created");
        assert_eq!(entity("users"), "User");
        assert_eq!(entity("subscription_plans"), "Plan");
        assert_eq!(entity("site_settings"), "Site settings");
        assert_eq!(action(""), "");
    }

    #[test]
    fn every_value_has_a_label_of_its_own() {
        for value in AuditAction::ALL {
            assert!(
                super::ACTIONS.iter().any(|(known, _)| known == value),
                "{value}"
            );
        }
        for value in AuditEntity::ALL {
            assert!(
                super::ENTITIES.iter().any(|(known, _)| known == value),
                "{value}"
            );
        }
    }
}
