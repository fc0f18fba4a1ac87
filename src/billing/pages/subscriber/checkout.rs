//! Checkout and the Customer Portal: the ways to Stripe's own pages.

use actix_web::{HttpResponse, web};
use time::OffsetDateTime;

use super::{PlanForm, chosen_plan, stripe, upstream};
use crate::billing::model::Subscription;
use crate::billing::paths;
use crate::billing::store;
use crate::billing::stripe::Checkout;
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::page_error::PageError;
use crate::web::respond::see_other;
use crate::web::respond::{Notice, see_other_with};

/// A Stripe URL to send the browser to: only http(s).
fn external(url: &str) -> Result<HttpResponse, PageError> {
    if url.starts_with("https://") || url.starts_with("http://") {
        Ok(see_other(url))
    } else {
        Err(PageError::Upstream(format!(
            "Stripe returned an unusable URL {url:?}"
        )))
    }
}

/// `POST /billing/checkout`: a Checkout session for the plan. One user
/// gets one open session at a time (a second click reuses it), under a
/// per-user lock, so two clicks never start two subscriptions.
pub async fn checkout(
    state: web::Data<AppState>,
    request: CsrfForm<PlanForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let CsrfForm { form, .. } = request;
    let stripe = stripe(&state)?;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    transaction
        .execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7))",
            &[&signed_in.user.id.0.to_string()],
        )
        .await?;
    let (plan, price) = chosen_plan(&transaction, &form).await?;
    let current = store::subscription_for_update(&transaction, signed_in.user.id).await?;
    if current
        .as_ref()
        .is_some_and(Subscription::pays_through_stripe)
    {
        return Ok(see_other_with(paths::BILLING, Notice::AlreadySubscribed));
    }
    if let Some((open_id, url, open_plan)) =
        store::open_checkout(&transaction, signed_in.user.id).await?
    {
        if open_plan == plan.id {
            return external(&url);
        }
        // Another plan's session stays payable until Stripe expires it.
        stripe.expire_checkout(&open_id).await.map_err(upstream)?;
    }
    let expires_at = OffsetDateTime::now_utc() + time::Duration::minutes(30);
    let user_id = signed_in.user.id.to_string();
    let plan_id = plan.id.to_string();
    let success_url = format!(
        "{}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
        state.base_url
    );
    let cancel_url = format!(
        "{}{}",
        state.base_url,
        Notice::CheckoutCanceled.on(paths::PRICING)
    );
    let (id, url) = stripe
        .checkout(&Checkout {
            price: &price,
            user_id: &user_id,
            plan_id: &plan_id,
            email: &signed_in.user.email,
            customer: current
                .as_ref()
                .and_then(|current| current.stripe_customer_id.as_deref()),
            success_url: &success_url,
            cancel_url: &cancel_url,
            expires_at: expires_at.unix_timestamp(),
        })
        .await
        .map_err(|error| PageError::Upstream(error.to_string()))?;
    store::close_checkouts(&transaction, signed_in.user.id).await?;
    store::record_checkout(
        &transaction,
        &id,
        signed_in.user.id,
        plan.id,
        &url,
        expires_at,
    )
    .await?;
    transaction.commit().await?;
    external(&url)
}

/// `GET /billing/success`: back from Checkout.
pub async fn success(_member: Member) -> Result<HttpResponse, PageError> {
    Ok(see_other_with(paths::BILLING, Notice::CheckoutComplete))
}

/// `POST /billing/portal`: Stripe's Customer Portal (cards, invoices).
pub async fn portal(
    state: web::Data<AppState>,
    request: CsrfForm<EmptyForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let stripe = stripe(&state)?;
    let client = state.pool.get().await?;
    let customer = store::subscription_of(&client, signed_in.user.id)
        .await?
        .and_then(|current| current.subscription.stripe_customer_id)
        .ok_or_else(|| {
            PageError::BadRequest(
                "You have no billing account yet: choose a plan first.".to_owned(),
            )
        })?;
    drop(client);
    let url = stripe
        .portal(&customer, &format!("{}/account/billing", state.base_url))
        .await
        .map_err(|error| PageError::Upstream(error.to_string()))?;
    external(&url)
}
