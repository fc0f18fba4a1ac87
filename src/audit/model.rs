//! Audit types: rows of `audit_logs`.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::accounts::model::UserId;
use crate::ids::{id_type, text_enum};

id_type!(
    /// `audit_logs.id`.
    AuditLogId
);

text_enum!(
    /// What an audit row says happened (`audit_logs.action`).
    AuditAction {
        /// A row was made.
        Create = "CREATE",
        /// A row changed.
        Update = "UPDATE",
        /// A row was removed.
        Delete = "DELETE",
        /// Someone signed in.
        Login = "LOGIN",
        /// A sign-in was refused.
        LoginFailed = "LOGIN_FAILED",
        /// Someone signed out, or a session was ended.
        Logout = "LOGOUT",
    }
);

text_enum!(
    /// The table an audit row is about (`audit_logs.entity`).
    AuditEntity {
        /// `users`.
        Users = "users",
        /// `user_profiles`.
        UserProfiles = "user_profiles",
        /// `accounts`: sign-in methods.
        Accounts = "accounts",
        /// `sessions`.
        Sessions = "sessions",
        /// `verification_tokens`.
        VerificationTokens = "verification_tokens",
        /// `posts`.
        Posts = "posts",
        /// `categories`.
        Categories = "categories",
        /// `tags`.
        Tags = "tags",
        /// `subscription_plans`.
        SubscriptionPlans = "subscription_plans",
        /// `subscriptions`.
        Subscriptions = "subscriptions",
        /// `payments`.
        Payments = "payments",
        /// `stripe_events`.
        StripeEvents = "stripe_events",
        /// `site_settings`: the site's name, colour and time zone.
        SiteSettings = "site_settings",
        /// Backups of the database (files, not a table).
        Backups = "backups",
    }
);

/// A row of `audit_logs`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct AuditLog {
    /// Its id.
    pub id: AuditLogId,
    /// Who acted (none for the system).
    pub user_id: Option<UserId>,
    /// CREATE, UPDATE, DELETE, LOGIN, ...
    pub action: String,
    /// The table changed.
    pub entity: String,
    /// The row changed.
    pub entity_id: Option<uuid::Uuid>,
    /// Before/after of the changed fields.
    pub changes: Option<serde_json::Value>,
    /// The client address.
    pub ip_address: Option<String>,
    /// The client's browser.
    pub user_agent: Option<String>,
    /// Extra context (request id, ...).
    pub metadata: Option<serde_json::Value>,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What recording an audit row needs.
#[derive(Clone, Debug, Default)]
pub struct NewAuditLog {
    /// Who acted (none for the system).
    pub user_id: Option<UserId>,
    /// CREATE, UPDATE, DELETE, LOGIN, ...
    pub action: String,
    /// The table changed.
    pub entity: String,
    /// The row changed.
    pub entity_id: Option<uuid::Uuid>,
    /// Before/after of the changed fields.
    pub changes: Option<serde_json::Value>,
    /// The client address.
    pub ip_address: Option<String>,
    /// The client's browser.
    pub user_agent: Option<String>,
    /// Extra context.
    pub metadata: Option<serde_json::Value>,
    /// The request that made the change: stored as `metadata.request_id`
    /// beside whatever else the metadata says.
    pub request_id: Option<String>,
}
