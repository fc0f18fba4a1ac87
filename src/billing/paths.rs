//! The billing pages' paths: registered in [`super::pages::ROUTES`], and
//! used by redirects, templates, Stripe's return URLs and tests.

use crate::billing::model::PlanId;
use crate::web::routes::one;

/// The plans on offer.
pub const PRICING: &str = "/pricing";
/// The subscriber's billing page.
pub const BILLING: &str = "/account/billing";
/// Starting Stripe Checkout (POST).
pub const CHECKOUT: &str = "/billing/checkout";
/// Opening Stripe's customer portal (POST).
pub const PORTAL: &str = "/billing/portal";
/// Canceling at the period's end (POST).
pub const CANCEL: &str = "/billing/cancel";
/// Undoing a cancelation (POST).
pub const RESUME: &str = "/billing/resume";
/// Changing plan (POST).
pub const CHANGE: &str = "/billing/change";
/// Where Checkout returns.
pub const SUCCESS: &str = "/billing/success";
/// Stripe's webhook.
pub const WEBHOOK: &str = "/webhooks/stripe";
/// The admins' plans (GET) and a new one (POST).
pub const PLANS: &str = "/admin/plans";
/// A plan's form (GET) and saving it (POST).
pub const PLAN: &str = "/admin/plans/{id}";
/// Deleting a plan (POST).
pub const DELETE_PLAN: &str = "/admin/plans/{id}/delete";
/// Every subscription.
pub const SUBSCRIPTIONS: &str = "/admin/subscriptions";
/// Granting a plan without payment (POST).
pub const GRANT: &str = "/admin/subscriptions/grant";
/// Stripe's events as received.
pub const STRIPE_EVENTS: &str = "/admin/stripe-events";
/// Applying a kept event again (POST).
pub const REPLAY_EVENT: &str = "/admin/stripe-events/{id}/replay";

/// Plan `id`'s form.
pub fn plan(id: PlanId) -> String {
    one(PLAN, id)
}

/// Deleting plan `id`.
pub fn delete_plan(id: PlanId) -> String {
    one(DELETE_PLAN, id)
}

/// Replaying the Stripe event `id`.
pub fn replay_event(id: &str) -> String {
    one(REPLAY_EVENT, id)
}
