//! Changing a live subscription: cancel, resume, another plan.

use actix_web::{HttpResponse, web};

use super::{PlanForm, chosen_plan, stripe, upstream};
use crate::audit::{self, Actor, AuditAction, AuditEntity};
use crate::billing::model::{Subscription, SubscriptionStatus};
use crate::billing::paths;
use crate::billing::store;
use crate::billing::stripe::StripeClient;
use crate::billing::webhook::sync_from_api;
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::page_error::PageError;
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::{SignedIn, Visitor};

/// Runs a change of the user's Stripe subscription and saves Stripe's
/// answer with its audit row; a subscription granted by an admin is
/// changed here directly (canceling it ends it now).
async fn change_subscription<F, Fut>(
    state: &AppState,
    visitor: &Visitor,
    signed_in: &SignedIn,
    local: Option<SubscriptionStatus>,
    call: F,
) -> Result<(), PageError>
where
    F: FnOnce(StripeClient, String) -> Fut,
    Fut: std::future::Future<Output = Result<serde_json::Value, PageError>>,
{
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let before = store::subscription_for_update(&transaction, signed_in.user.id)
        .await?
        .filter(Subscription::is_live)
        .ok_or_else(|| PageError::BadRequest("You have no active plan.".to_owned()))?;
    let after = match (&before.stripe_subscription_id, local) {
        (Some(id), _) => {
            let stripe = stripe(state)?.clone();
            let object = call(stripe, id.clone()).await?;
            sync_from_api(&transaction, &object, signed_in.user.id, Some(&before)).await?
        }
        (None, Some(status)) => {
            let row = transaction
                .query_one(
                    "UPDATE subscriptions SET status = $2, canceled_at = now() WHERE id = $1 \
                     RETURNING to_jsonb(subscriptions.*) AS subscription",
                    &[&before.id, &status],
                )
                .await?;
            crate::db::required(crate::db::from_json(&row, "subscription")?)?
        }
        (None, None) => {
            return Err(PageError::BadRequest(
                "Your plan was given by an administrator: ask them to change it.".to_owned(),
            ));
        }
    };
    let changes = audit::changed(&before, &after);
    if !changes.is_empty() {
        audit::store::record(
            &transaction,
            &Actor::from(visitor).entry(
                AuditAction::Update,
                AuditEntity::Subscriptions,
                Some(after.id.0),
                changes,
            ),
        )
        .await?;
    }
    transaction.commit().await?;
    Ok(())
}

/// `POST /billing/cancel`: cancel at the end of the paid period.
pub async fn cancel(
    state: web::Data<AppState>,
    request: CsrfForm<EmptyForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let visitor = request.visitor;
    change_subscription(
        &state,
        &visitor,
        &signed_in,
        Some(SubscriptionStatus::Canceled),
        |stripe, id| async move {
            stripe
                .set_cancel_at_period_end(&id, true)
                .await
                .map_err(upstream)
        },
    )
    .await?;
    Ok(see_other_with(paths::BILLING, Notice::SubscriptionCanceled))
}

/// `POST /billing/resume`: keep a subscription that was going to end.
pub async fn resume(
    state: web::Data<AppState>,
    request: CsrfForm<EmptyForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let visitor = request.visitor;
    change_subscription(
        &state,
        &visitor,
        &signed_in,
        None,
        |stripe, id| async move {
            stripe
                .set_cancel_at_period_end(&id, false)
                .await
                .map_err(upstream)
        },
    )
    .await?;
    Ok(see_other_with(paths::BILLING, Notice::SubscriptionResumed))
}

/// `POST /billing/change`: move to another plan (prorated by Stripe).
pub async fn change(
    state: web::Data<AppState>,
    request: CsrfForm<PlanForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let CsrfForm { form, visitor, .. } = request;
    let (_, price) = {
        let client = state.pool.get().await?;
        chosen_plan(&client, &form).await?
    };
    change_subscription(
        &state,
        &visitor,
        &signed_in,
        None,
        |stripe, id| async move {
            let current = stripe.subscription(&id).await.map_err(upstream)?;
            let item = current["items"]["data"][0]["id"]
                .as_str()
                .ok_or_else(|| PageError::Upstream("a subscription without items".to_owned()))?
                .to_owned();
            stripe
                .change_price(&id, &item, &price)
                .await
                .map_err(upstream)
        },
    )
    .await?;
    Ok(see_other_with(paths::BILLING, Notice::PlanChanged))
}
