//! What subscribers see: pricing, their billing page, and the actions that
//! go through Stripe (Checkout, the Customer Portal, cancel, resume,
//! change plan). Without Stripe, the pages still work and say so.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use time::OffsetDateTime;

use super::PlanView;

use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity};
use crate::billing::model::{Plan, PlanId, Subscription, SubscriptionStatus};
use crate::billing::money;
use crate::billing::paths;
use crate::billing::store;
use crate::billing::stripe::{Checkout, StripeClient};
use crate::billing::webhook::sync_from_api;
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::see_other;
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::{SignedIn, Visitor};

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

/// Whether a subscription still gives its plan (and blocks a second one).
fn is_live(subscription: &Subscription) -> bool {
    matches!(
        subscription.status,
        SubscriptionStatus::Active | SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid
    )
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
        .filter(|current| is_live(&current.subscription));
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
            format!("Plans and prices of {}.", state.site_name),
        )
        .with_notice(&request),
        plans,
        payments_ready,
    };
    Ok(render(&page, StatusCode::OK))
}

/// The subscription part of the billing page.
#[derive(Clone, Debug)]
pub struct SubscriptionView {
    /// The plan.
    pub plan: PlanView,
    /// Seed status.
    pub status: String,
    /// For people: "Active", "Trial", "Payment overdue"...
    pub status_label: String,
    /// Period end, local time.
    pub period_end: Option<String>,
    /// When a canceled subscription ended, local time.
    pub ended_on: Option<String>,
    /// Trial end, local time.
    pub trial_end: Option<String>,
    /// Cancels at period end.
    pub cancel_at_period_end: bool,
    /// Billed through Stripe (else granted by an admin).
    pub stripe_managed: bool,
    /// Still gives its plan.
    pub live: bool,
}

/// A line of the payment history.
#[derive(Clone, Debug)]
pub struct PaymentView {
    /// When.
    pub date: String,
    /// "$12.00".
    pub amount: String,
    /// Status.
    pub status: String,
    /// For people: "succeeded", "refunded", "partly refunded ($3.00)".
    pub status_label: String,
    /// What for.
    pub description: String,
}

/// `GET /account/billing`.
#[derive(Template)]
#[template(path = "billing/account.html")]
pub struct BillingPage {
    /// The layout.
    pub layout: Layout,
    /// Whether Stripe takes payments.
    pub payments_ready: bool,
    /// The subscription.
    pub subscription: Option<SubscriptionView>,
    /// Plans to switch to.
    pub other_plans: Vec<PlanView>,
    /// Payment history, newest first.
    pub payments: Vec<PaymentView>,
    /// Whether the Customer Portal is available.
    pub can_portal: bool,
}

/// `GET /account/billing`.
pub async fn billing(
    Member { visitor, signed_in }: Member,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let current = store::subscription_of(&client, signed_in.user.id).await?;
    let payments = store::payments_of(&client, signed_in.user.id).await?;
    let plans = store::active_plans(&client).await?;
    let moments = current
        .iter()
        .flat_map(|current| {
            [
                current.subscription.current_period_end,
                current.subscription.trial_end,
                current.subscription.canceled_at,
            ]
        })
        .flatten()
        .chain(payments.iter().map(|payment| payment.created_at));
    let times = LocalTimes::load(&client, &signed_in.timezone, moments).await?;
    drop(client);
    let payments_ready = state.stripe_client.is_some();
    let subscription = current.as_ref().map(|current| {
        let row = &current.subscription;
        let trialing = row
            .trial_end
            .is_some_and(|end| end > OffsetDateTime::now_utc())
            && row.status == SubscriptionStatus::Active;
        SubscriptionView {
            plan: PlanView::of(&current.plan),
            status: row.status.as_str().to_owned(),
            status_label: match row.status {
                SubscriptionStatus::Active if trialing => "Trial",
                SubscriptionStatus::Active => "Active",
                SubscriptionStatus::PastDue => "Payment overdue",
                SubscriptionStatus::Unpaid => "Unpaid",
                SubscriptionStatus::Canceled => "Canceled",
                SubscriptionStatus::Inactive => "Not active",
            }
            .to_owned(),
            period_end: row
                .current_period_end
                .filter(|_| row.status != SubscriptionStatus::Canceled)
                .map(|moment| times.show(moment)),
            ended_on: (row.status == SubscriptionStatus::Canceled)
                .then(|| row.canceled_at.or(row.current_period_end))
                .flatten()
                .map(|moment| times.show(moment)),
            trial_end: row
                .trial_end
                .filter(|_| trialing)
                .map(|moment| times.show(moment)),
            cancel_at_period_end: row.cancel_at_period_end.unwrap_or(false),
            stripe_managed: row.stripe_subscription_id.is_some(),
            live: is_live(row),
        }
    });
    let current_plan = current.as_ref().map(|current| current.plan.id);
    let page = BillingPage {
        layout: Layout::for_visitor(&visitor, "Billing", "Your plan and payments.")
            .with_notice(&request),
        payments_ready,
        can_portal: payments_ready
            && current
                .as_ref()
                .is_some_and(|current| current.subscription.stripe_customer_id.is_some()),
        other_plans: plans
            .iter()
            .filter(|plan| Some(plan.id) != current_plan && plan.stripe_price_id.is_some())
            .map(PlanView::of)
            .collect(),
        subscription,
        payments: payments
            .iter()
            .map(|payment| PaymentView {
                date: times.show(payment.created_at),
                amount: money::format(i64::from(payment.amount_cents), &payment.currency),
                status: payment.status.as_str().to_owned(),
                status_label: payment_label(payment),
                description: payment.description.clone().unwrap_or_default(),
            })
            .collect(),
    };
    Ok(render(&page, StatusCode::OK))
}

/// A payment's status for people: a partial refund is shown with its
/// amount.
fn payment_label(payment: &crate::billing::model::Payment) -> String {
    let refunded = payment
        .metadata
        .as_ref()
        .and_then(|metadata| metadata["amount_refunded"].as_i64())
        .unwrap_or(0);
    match payment.status {
        crate::billing::model::PaymentStatus::Succeeded if refunded > 0 => format!(
            "partly refunded ({})",
            money::format(refunded, &payment.currency)
        ),
        status => status.as_str().to_owned(),
    }
}

/// The plan form.
#[derive(Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    plan_id: String,
}

fn stripe(state: &AppState) -> Result<&StripeClient, PageError> {
    state.stripe_client.as_ref().ok_or_else(|| {
        PageError::BadRequest("Payments are not set up on this site yet.".to_owned())
    })
}

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
        .is_some_and(|current| is_live(current) && current.stripe_subscription_id.is_some())
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
    _request: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = Member::of(_request.visitor.clone())?;
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
        .filter(is_live)
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

fn upstream(error: crate::billing::stripe::StripeError) -> PageError {
    PageError::Upstream(error.to_string())
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
