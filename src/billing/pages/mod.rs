//! Billing pages: pricing, the subscriber's billing page and its Stripe
//! actions, the admins' plans and subscriptions, and Stripe's webhook.

mod admin;
mod events;
mod subscriber;

use actix_web::web;

/// Every billing route.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/pricing").get(subscriber::pricing))
        .service(web::resource("/account/billing").get(subscriber::billing))
        .service(web::resource("/billing/checkout").post(subscriber::checkout))
        .service(web::resource("/billing/portal").post(subscriber::portal))
        .service(web::resource("/billing/cancel").post(subscriber::cancel))
        .service(web::resource("/billing/resume").post(subscriber::resume))
        .service(web::resource("/billing/change").post(subscriber::change))
        .service(web::resource("/billing/success").get(subscriber::success))
        .service(
            web::resource("/webhooks/stripe")
                .app_data(web::PayloadConfig::new(super::webhook::MAX_BODY))
                .route(web::post().to(super::webhook::receive)),
        )
        .service(
            web::resource("/admin/plans")
                .get(admin::plans)
                .post(admin::create_plan),
        )
        .service(
            web::resource("/admin/plans/{id}")
                .get(admin::plan_page)
                .post(admin::update_plan),
        )
        .service(web::resource("/admin/plans/{id}/delete").post(admin::delete_plan))
        .service(web::resource("/admin/subscriptions").get(admin::subscriptions))
        .service(web::resource("/admin/subscriptions/grant").post(admin::grant))
        .service(web::resource("/admin/stripe-events").get(events::list))
        .service(web::resource("/admin/stripe-events/{id}/replay").post(events::replay));
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
