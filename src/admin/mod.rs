//! The admin area: the overview, users, and the audit trail (plans,
//! subscriptions and categories live with their domains). Every handler
//! takes [`crate::web::access::Admin`].

pub mod first_steps;
mod overview;
pub mod paths;
pub mod store;
mod user;
mod users;

/// The admin sidebar, in order: (path, label).
pub const MENU: &[(&str, &str)] = &[
    (paths::OVERVIEW, "Overview"),
    (paths::USERS, "Users"),
    (paths::AUDIT, "Audit trail"),
    (crate::billing::paths::PLANS, "Plans"),
    (crate::billing::paths::SUBSCRIPTIONS, "Subscriptions"),
    (crate::billing::paths::STRIPE_EVENTS, "Stripe events"),
    (crate::content::paths::ADMIN_CATEGORIES, "Categories"),
    (crate::accounts::paths::OUTBOX, "Outbox"),
    (crate::monitoring::DATABASE, "Database"),
    (crate::backup::pages::PATH, "Backups"),
    (paths::SETTINGS, "Settings"),
];

crate::web::routes::route_table! {
    pub fn routes, pub const ROUTES = [
        paths::OVERVIEW, Admin => { get: overview::overview },
        paths::USERS, Admin => { get: users::list },
        paths::USER, Admin => { get: user::detail },
        paths::USER_ROLE, Admin => { post: user::change_role },
        paths::USER_ACTIVE, Admin => { post: user::change_active },
        paths::USER_VERIFICATION, Admin => { post: user::resend_verification },
        paths::AUDIT, Admin => { get: crate::audit::pages::list },
        paths::AUDIT_CSV, Admin => { get: crate::audit::export::export },
        paths::AUDIT_ENTRY, Admin => { get: crate::audit::pages::detail },
    ]
}
