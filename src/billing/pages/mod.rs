//! Billing pages: pricing, the subscriber's billing page and its Stripe
//! actions, the admins' plans and subscriptions, and Stripe's webhook.

mod admin;
mod events;
mod subscriber;

use actix_web::web;

use super::paths;

crate::web::routes::route_table! {
    pub fn routes, pub const ROUTES = [
        paths::PRICING, Public => { get: subscriber::pricing },
        paths::BILLING, Member => { get: subscriber::billing },
        paths::CHECKOUT, Member => { post: subscriber::checkout },
        paths::PORTAL, Member => { post: subscriber::portal },
        paths::CANCEL, Member => { post: subscriber::cancel },
        paths::RESUME, Member => { post: subscriber::resume },
        paths::CHANGE, Member => { post: subscriber::change },
        paths::SUCCESS, Member => { get: subscriber::success },
        paths::WEBHOOK, Signed, data(web::PayloadConfig::new(super::webhook::MAX_BODY)) => {
            post: super::webhook::receive,
        },
        paths::PLANS, Admin => { get: admin::plans, post: admin::create_plan },
        paths::PLAN, Admin => { get: admin::plan_page, post: admin::update_plan },
        paths::DELETE_PLAN, Admin => { post: admin::delete_plan },
        paths::SUBSCRIPTIONS, Admin => { get: admin::subscriptions },
        paths::GRANT, Admin => { post: admin::grant },
        paths::STRIPE_EVENTS, Admin => { get: events::list },
        paths::REPLAY_EVENT, Admin => { post: events::replay },
    ]
}

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
