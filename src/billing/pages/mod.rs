//! Billing pages: pricing, the subscriber's billing page and its Stripe
//! actions, the admins' plans and subscriptions, and Stripe's webhook.

mod admin;
mod subscriber;

use actix_web::web;

/// Every billing route.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/pricing", web::get().to(subscriber::pricing))
        .route("/account/billing", web::get().to(subscriber::billing))
        .route("/billing/checkout", web::post().to(subscriber::checkout))
        .route("/billing/portal", web::post().to(subscriber::portal))
        .route("/billing/cancel", web::post().to(subscriber::cancel))
        .route("/billing/resume", web::post().to(subscriber::resume))
        .route("/billing/change", web::post().to(subscriber::change))
        .route("/billing/success", web::get().to(subscriber::success))
        .service(
            web::resource("/webhooks/stripe")
                .app_data(web::PayloadConfig::new(super::webhook::MAX_BODY))
                .route(web::post().to(super::webhook::receive)),
        )
        .route("/admin/plans", web::get().to(admin::plans))
        .route("/admin/plans", web::post().to(admin::create_plan))
        .route("/admin/plans/{id}", web::get().to(admin::plan_page))
        .route("/admin/plans/{id}", web::post().to(admin::update_plan))
        .route(
            "/admin/plans/{id}/delete",
            web::post().to(admin::delete_plan),
        )
        .route("/admin/subscriptions", web::get().to(admin::subscriptions))
        .route("/admin/subscriptions/grant", web::post().to(admin::grant));
}

/// Every POST route of this module behind a form (the CSRF tests enumerate
/// them; the webhook is verified by its signature instead).
pub const POST_ROUTES: &[&str] = &[
    "/billing/checkout",
    "/billing/portal",
    "/billing/cancel",
    "/billing/resume",
    "/billing/change",
    "/admin/plans",
    "/admin/plans/00000000-0000-0000-0000-000000000000",
    "/admin/plans/00000000-0000-0000-0000-000000000000/delete",
    "/admin/subscriptions/grant",
];

/// A plan as the pages show it.
#[derive(Clone, Debug)]
pub struct PlanView {
    /// Its id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// "$12.00 / month".
    pub price: String,
    /// Features.
    pub features: Vec<String>,
}

impl PlanView {
    /// The view of `plan`.
    pub fn of(plan: &super::model::Plan) -> Self {
        Self {
            id: plan.id.to_string(),
            name: plan.name.clone(),
            description: plan.description.clone().unwrap_or_default(),
            price: super::money::per_interval(
                i64::from(plan.price_cents),
                &plan.currency,
                plan.interval.as_str(),
            ),
            features: plan.features.clone().unwrap_or_default(),
        }
    }
}
