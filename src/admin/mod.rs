//! The admin area: the overview, users, and the audit trail (plans,
//! subscriptions and categories live with their domains). Every handler
//! checks the admin role itself.

mod overview;
pub mod store;
mod users;

use actix_web::web;

/// The admin area's own routes.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/admin").get(overview::overview))
        .service(web::resource("/admin/users").get(users::list))
        .service(web::resource("/admin/users/{id}").get(users::detail))
        .service(web::resource("/admin/users/{id}/role").post(users::change_role))
        .service(web::resource("/admin/users/{id}/active").post(users::change_active))
        .service(web::resource("/admin/users/{id}/verification").post(users::resend_verification))
        .service(web::resource("/admin/audit").get(crate::audit::pages::list))
        .service(web::resource("/admin/audit.csv").get(crate::audit::pages::export))
        .service(web::resource("/admin/audit/{id}").get(crate::audit::pages::detail));
}

/// Every admin page (GET), for the tests that check nobody else gets in.
pub const GET_ROUTES: &[&str] = &[
    "/admin",
    "/admin/users",
    "/admin/users/00000000-0000-0000-0000-000000000000",
    "/admin/audit",
    "/admin/audit.csv",
    "/admin/audit/00000000-0000-0000-0000-000000000000",
    "/admin/plans",
    "/admin/plans/00000000-0000-0000-0000-000000000000",
    "/admin/subscriptions",
    "/admin/categories",
    "/admin/categories/00000000-0000-0000-0000-000000000000",
    "/admin/outbox",
    "/admin/database",
    "/admin/backups",
    "/admin/backups/soloist-20000101-000000.dump",
];

/// Every admin form (POST).
pub const POST_ROUTES: &[&str] = &[
    "/admin/users/00000000-0000-0000-0000-000000000000/role",
    "/admin/users/00000000-0000-0000-0000-000000000000/active",
    "/admin/users/00000000-0000-0000-0000-000000000000/verification",
    "/admin/plans",
    "/admin/plans/00000000-0000-0000-0000-000000000000",
    "/admin/plans/00000000-0000-0000-0000-000000000000/delete",
    "/admin/subscriptions/grant",
    "/admin/categories",
    "/admin/categories/00000000-0000-0000-0000-000000000000",
    "/admin/categories/00000000-0000-0000-0000-000000000000/delete",
    "/admin/backups",
];
