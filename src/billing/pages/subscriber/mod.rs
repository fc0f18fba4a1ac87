//! What subscribers see: pricing, their billing page, and the actions that
//! go through Stripe (Checkout, the Customer Portal, cancel, resume,
//! change plan). Without Stripe, the pages still work and say so.

mod account;
mod changes;
mod checkout;
mod pricing;

pub use account::billing;
pub use changes::{cancel, change, resume};
pub use checkout::{checkout, portal, success};
pub use pricing::pricing;

use serde::Deserialize;

use crate::billing::model::{Plan, PlanId};
use crate::billing::store;
use crate::billing::stripe::{StripeClient, StripeError};
use crate::web::AppState;
use crate::web::page_error::PageError;

/// The plan form.
#[derive(Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    plan_id: String,
}

/// The Stripe client, or why payments can't be taken.
fn stripe(state: &AppState) -> Result<&StripeClient, PageError> {
    state.stripe_client.as_ref().ok_or_else(|| {
        PageError::BadRequest("Payments are not set up on this site yet.".to_owned())
    })
}

/// The plan the form chose, if offered and sold through Stripe, with its
/// Stripe Price.
async fn chosen_plan(
    client: &impl deadpool_postgres::GenericClient,
    form: &PlanForm,
) -> Result<(Plan, String), PageError> {
    let id = uuid::Uuid::try_parse(form.plan_id.trim())
        .map_err(|_| PageError::BadRequest("Choose a plan on the pricing page.".to_owned()))?;
    let plan = store::plan_by_id(client, PlanId(id))
        .await?
        .filter(|plan| plan.is_active)
        .ok_or_else(|| PageError::BadRequest("That plan is not offered any more.".to_owned()))?;
    let price = plan
        .stripe_price_id
        .clone()
        .ok_or_else(|| PageError::BadRequest("That plan can't be bought online yet.".to_owned()))?;
    Ok((plan, price))
}

/// Stripe's failure as the page's.
fn upstream(error: StripeError) -> PageError {
    PageError::Upstream(error.to_string())
}
