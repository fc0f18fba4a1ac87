//! `GET /account/billing`: the subscriber's plan and payments.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use time::OffsetDateTime;

use super::super::PlanView;
use crate::billing::model::{Payment, PaymentStatus, SubscriptionStatus};
use crate::billing::money;
use crate::billing::store;
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};

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
            live: row.is_live(),
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
fn payment_label(payment: &Payment) -> String {
    let refunded = payment
        .metadata
        .as_ref()
        .and_then(|metadata| metadata["amount_refunded"].as_i64())
        .unwrap_or(0);
    match payment.status {
        PaymentStatus::Succeeded if refunded > 0 => format!(
            "partly refunded ({})",
            money::format(refunded, &payment.currency)
        ),
        status => status.as_str().to_owned(),
    }
}
