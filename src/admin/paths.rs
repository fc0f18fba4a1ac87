//! The admin area's own paths (users and the audit trail): registered in
//! [`super::ROUTES`], and used by redirects, templates and tests.

use crate::accounts::model::UserId;
use crate::audit::model::AuditLogId;
use crate::web::routes::one;

/// The overview.
pub const OVERVIEW: &str = "/admin";
/// Every user.
pub const USERS: &str = "/admin/users";
/// One user.
pub const USER: &str = "/admin/users/{id}";
/// Changing a user's role (POST).
pub const USER_ROLE: &str = "/admin/users/{id}/role";
/// Deactivating or reactivating a user (POST).
pub const USER_ACTIVE: &str = "/admin/users/{id}/active";
/// Mailing a user a new confirmation link (POST).
pub const USER_VERIFICATION: &str = "/admin/users/{id}/verification";
/// The audit trail.
pub const AUDIT: &str = "/admin/audit";
/// The audit trail as CSV.
pub const AUDIT_CSV: &str = "/admin/audit.csv";
/// One audit row.
pub const AUDIT_ENTRY: &str = "/admin/audit/{id}";
/// The site's settings.
pub const SETTINGS: &str = "/admin/settings";

/// User `id`'s page.
pub fn user(id: UserId) -> String {
    one(USER, id)
}

/// Where user `id`'s role changes.
pub fn user_role(id: UserId) -> String {
    one(USER_ROLE, id)
}

/// Where user `id` is deactivated or reactivated.
pub fn user_active(id: UserId) -> String {
    one(USER_ACTIVE, id)
}

/// Where user `id` gets a new confirmation link.
pub fn user_verification(id: UserId) -> String {
    one(USER_VERIFICATION, id)
}

/// Audit row `id`.
pub fn audit_entry(id: AuditLogId) -> String {
    one(AUDIT_ENTRY, id)
}
