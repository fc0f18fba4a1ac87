//! `GET /pricing`: the plans on sale, each with what its button does for
//! this visitor.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::super::PlanView;
use crate::billing::store;
use crate::web::AppState;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::visitor::Visitor;

/// A plan on the pricing page with what its button does.
#[derive(Clone, Debug)]
pub struct PricingPlan {
    /// The plan.
    pub plan: PlanView,
    /// sign-up, choose, current, switch or unavailable.
    pub action: String,
}

/// `GET /pricing`.
#[derive(Template)]
#[template(path = "billing/pricing.html")]
pub struct PricingPage {
    /// The layout.
    pub layout: Layout,
    /// Active plans in order.
    pub plans: Vec<PricingPlan>,
    /// Whether Stripe takes payments.
    pub payments_ready: bool,
}

/// `GET /pricing`.
pub async fn pricing(
    state: web::Data<AppState>,
    visitor: Visitor,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let plans = store::active_plans(&client).await?;
    let current = match &visitor.signed_in {
        Some(signed_in) => store::subscription_of(&client, signed_in.user.id).await?,
        None => None,
    };
    drop(client);
    let payments_ready = state.stripe_client.is_some();
    let live = current
        .as_ref()
        .filter(|current| current.subscription.is_live());
    let plans = plans
        .iter()
        .map(|plan| PricingPlan {
            plan: PlanView::of(plan),
            action: match (&visitor.signed_in, live) {
                (None, _) => "sign-up",
                (Some(_), Some(live)) if live.plan.id == plan.id => "current",
                (Some(_), Some(live))
                    if payments_ready
                        && live.subscription.stripe_subscription_id.is_some()
                        && plan.stripe_price_id.is_some() =>
                {
                    "switch"
                }
                (Some(_), None) if payments_ready && plan.stripe_price_id.is_some() => "choose",
                _ => "unavailable",
            }
            .to_owned(),
        })
        .collect();
    let page = PricingPage {
        layout: Layout::for_visitor(
            &visitor,
            "Pricing",
            format!("Plans and prices of {}.", state.site_name()),
        )
        .with_notice(&request),
        plans,
        payments_ready,
    };
    Ok(render(&page, StatusCode::OK))
}
