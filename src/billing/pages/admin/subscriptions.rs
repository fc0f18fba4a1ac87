//! `/admin/subscriptions`: subscriptions by status, and granting a plan by
//! hand.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::super::PlanView;
use crate::accounts::model::Email;
use crate::audit::Actor;
use crate::billing::grants::{self, Grant};
use crate::billing::model::{PlanId, SubscriptionStatus};
use crate::billing::paths;
use crate::billing::store;
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

/// A subscription in the admin list.
#[derive(Clone, Debug)]
pub struct SubscriptionRow {
    /// Subscriber.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Plan name.
    pub plan: String,
    /// Status.
    pub status: String,
    /// Through Stripe or granted.
    pub source: String,
    /// Period end (UTC date).
    pub period_end: String,
}

/// `GET /admin/subscriptions`.
#[derive(Template)]
#[template(path = "billing/subscriptions.html")]
pub struct SubscriptionsPage {
    /// The layout.
    pub layout: Layout,
    /// The filter.
    pub status: String,
    /// Count by status.
    pub counts: Vec<(String, i64)>,
    /// The rows.
    pub subscriptions: Vec<SubscriptionRow>,
    /// Active plans for the grant form.
    pub plans: Vec<PlanView>,
    /// The grant form's email.
    pub grant_email: String,
    /// The grant form's message.
    pub grant_error: Option<String>,
    /// Next page.
    pub next_url: Option<String>,
}

/// `?status=&page=`.
#[derive(Deserialize)]
pub struct SubscriptionsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: Option<String>,
}

const SUBSCRIPTIONS_PAGE: i64 = 50;

async fn subscriptions_view(
    state: &AppState,
    visitor: &Visitor,
    status: Option<SubscriptionStatus>,
    page: i64,
    grant: (String, Option<String>),
    request: Option<&HttpRequest>,
    code: StatusCode,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let mut rows = store::subscriptions_by_status(
        &client,
        status,
        SUBSCRIPTIONS_PAGE + 1,
        (page - 1) * SUBSCRIPTIONS_PAGE,
    )
    .await?;
    let counts = store::status_counts(&client).await?;
    let plans = store::active_plans(&client).await?;
    let times = crate::web::local_time::LocalTimes::load(
        &client,
        visitor.time_zone(),
        rows.iter()
            .filter_map(|row| row.subscription.current_period_end),
    )
    .await?;
    drop(client);
    let more = rows.len() > usize::try_from(SUBSCRIPTIONS_PAGE).unwrap_or(50);
    rows.truncate(usize::try_from(SUBSCRIPTIONS_PAGE).unwrap_or(50));
    let mut layout = Layout::for_visitor(visitor, "Subscriptions", "Subscriptions by status.");
    if let Some(request) = request {
        layout = layout.with_notice(request);
    }
    let status_text = status.map(SubscriptionStatus::as_str).unwrap_or_default();
    let page_view = SubscriptionsPage {
        layout,
        status: status_text.to_owned(),
        counts,
        subscriptions: rows
            .iter()
            .map(|row| SubscriptionRow {
                email: row.email.clone(),
                name: row.name.clone(),
                plan: row.plan.name.clone(),
                status: row.subscription.status.as_str().to_owned(),
                source: if row.subscription.stripe_subscription_id.is_some() {
                    "Stripe"
                } else {
                    "Granted"
                }
                .to_owned(),
                period_end: row
                    .subscription
                    .current_period_end
                    .map(|moment| times.day(moment))
                    .unwrap_or_default(),
            })
            .collect(),
        plans: plans.iter().map(PlanView::of).collect(),
        grant_email: grant.0,
        grant_error: grant.1,
        next_url: more.then(|| {
            format!(
                "/admin/subscriptions?status={status_text}&page={}",
                page + 1
            )
        }),
    };
    Ok(render(&page_view, code))
}

/// `GET /admin/subscriptions`.
pub async fn subscriptions(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    query: web::Query<SubscriptionsQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let status = match query.status.as_str() {
        "" | "all" => None,
        other => Some(other.parse::<SubscriptionStatus>().map_err(|_| {
            PageError::BadRequest(
                "Filter by active, inactive, canceled, past_due or unpaid.".to_owned(),
            )
        })?),
    };
    let page = match query.page.as_deref() {
        None | Some("") => 1,
        Some(page) => page
            .parse::<i64>()
            .ok()
            .filter(|page| (1..=10_000).contains(page))
            .ok_or_else(|| PageError::BadRequest("There is no such page.".to_owned()))?,
    };
    subscriptions_view(
        &state,
        &visitor,
        status,
        page,
        (String::new(), None),
        Some(&request),
        StatusCode::OK,
    )
    .await
}

/// The grant form.
#[derive(Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    plan_id: String,
}

/// The subscriptions page again, with the grant form's email and what is
/// wrong with it.
async fn refuse(
    state: &AppState,
    visitor: &Visitor,
    form: &GrantForm,
    message: &str,
) -> Result<HttpResponse, PageError> {
    let grant = (form.email.trim().to_owned(), Some(message.to_owned()));
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    subscriptions_view(state, visitor, None, 1, grant, None, status).await
}

/// `POST /admin/subscriptions/grant`: put a user on a plan without Stripe.
pub async fn grant(
    state: web::Data<AppState>,
    request: CsrfForm<GrantForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let Ok(email) = Email::parse(&form.email) else {
        return refuse(&state, &visitor, &form, "Enter the user's email address.").await;
    };
    let Ok(plan) = uuid::Uuid::try_parse(form.plan_id.trim()).map(PlanId) else {
        return refuse(&state, &visitor, &form, "Choose a plan.").await;
    };
    let granted = {
        let mut client = state.pool.get().await?;
        let transaction = client.transaction().await?;
        let actor = Actor::from(&visitor);
        let granted = grants::grant_plan(&transaction, &actor, &email, plan).await?;
        if let Grant::Granted(_) = granted {
            transaction.commit().await?;
        }
        granted
    };
    let message = match granted {
        Grant::Granted(_) => return Ok(see_other_with(paths::SUBSCRIPTIONS, Notice::PlanGranted)),
        Grant::NoSuchAccount => "No account has this email address.",
        Grant::PlanNotOffered => "That plan is not offered any more.",
        Grant::PaysThroughStripe => {
            "This user pays through Stripe: change their plan in Stripe, or let them change it themselves."
        }
    };
    refuse(&state, &visitor, &form, message).await
}
