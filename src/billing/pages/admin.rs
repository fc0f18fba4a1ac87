//! Admins: plans (create, edit, deactivate; deleting only a plan nobody
//! uses), subscriptions by status, and granting a plan by hand.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::PlanView;

use crate::accounts::model::Email;
use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity};
use crate::billing::model::{NewPlan, Plan, PlanId, PlanInterval, SubscriptionStatus};
use crate::billing::money;
use crate::billing::paths;
use crate::billing::store;
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

/// The plan form's values and messages.
#[derive(Clone, Debug, Default)]
pub struct PlanFormView {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Price as typed ("12.00").
    pub price: String,
    /// Currency.
    pub currency: String,
    /// month or year.
    pub interval: String,
    /// One feature a line.
    pub features: String,
    /// Order.
    pub sort_order: String,
    /// Stripe Price id.
    pub stripe_price_id: String,
    /// Offered to new subscribers.
    pub active: bool,
    /// Messages by field.
    pub errors: Vec<(String, String)>,
}

impl PlanFormView {
    /// The message for `field`.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, message)| message.as_str())
    }

    fn blank() -> Self {
        Self {
            currency: "USD".to_owned(),
            interval: "month".to_owned(),
            sort_order: "0".to_owned(),
            active: true,
            ..Self::default()
        }
    }

    fn of(plan: &Plan) -> Self {
        let cents = i64::from(plan.price_cents);
        Self {
            name: plan.name.clone(),
            description: plan.description.clone().unwrap_or_default(),
            price: money::plain(cents, &plan.currency),
            currency: plan.currency.clone(),
            interval: plan.interval.as_str().to_owned(),
            features: plan.features.clone().unwrap_or_default().join("\n"),
            sort_order: plan.sort_order.unwrap_or(0).to_string(),
            stripe_price_id: plan.stripe_price_id.clone().unwrap_or_default(),
            active: plan.is_active,
            errors: Vec::new(),
        }
    }
}

/// The plan form.
#[derive(Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    interval: String,
    #[serde(default)]
    features: String,
    #[serde(default)]
    sort_order: String,
    #[serde(default)]
    stripe_price_id: String,
    #[serde(default)]
    active: Option<String>,
}

fn parse_plan(form: &PlanForm) -> (PlanFormView, Option<(NewPlan, bool)>) {
    let mut view = PlanFormView {
        name: form.name.trim().to_owned(),
        description: form.description.trim().to_owned(),
        price: form.price.trim().to_owned(),
        currency: form.currency.trim().to_ascii_uppercase(),
        interval: form.interval.trim().to_owned(),
        features: form.features.replace("\r\n", "\n").trim().to_owned(),
        sort_order: form.sort_order.trim().to_owned(),
        stripe_price_id: form.stripe_price_id.trim().to_owned(),
        active: form.active.is_some(),
        errors: Vec::new(),
    };
    let error = view_error;
    let mut errors = Vec::new();
    if view.name.is_empty()
        || view.name.chars().count() > 60
        || view.name.chars().any(char::is_control)
    {
        errors.push(error(
            "name",
            "Give the plan a name of at most 60 characters.",
        ));
    }
    if view.description.chars().count() > 500 {
        errors.push(error(
            "description",
            "Keep the description under 500 characters.",
        ));
    }
    if view.currency.len() != 3 || !view.currency.chars().all(|c| c.is_ascii_uppercase()) {
        errors.push(error(
            "currency",
            "Use a three-letter currency code such as USD or EUR.",
        ));
    }
    let price = money::parse_cents(&view.price, &view.currency);
    if price.is_none() {
        errors.push(error("price", "Enter a price such as 12 or 12.50."));
    }
    let interval = view.interval.parse::<PlanInterval>().ok();
    if interval.is_none() {
        errors.push(error("interval", "Choose monthly or yearly."));
    }
    let features: Vec<String> = view
        .features
        .lines()
        .map(|line| line.trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect();
    if features.len() > 20 || features.iter().any(|feature| feature.chars().count() > 100) {
        errors.push(error(
            "features",
            "Use at most 20 features of at most 100 characters.",
        ));
    }
    let sort_order = if view.sort_order.is_empty() {
        Some(0)
    } else {
        view.sort_order
            .parse::<i32>()
            .ok()
            .filter(|order| (-10_000..=10_000).contains(order))
    };
    if sort_order.is_none() {
        errors.push(error(
            "sort_order",
            "Use a whole number between -10000 and 10000.",
        ));
    }
    let price_id = (!view.stripe_price_id.is_empty()).then(|| view.stripe_price_id.clone());
    if price_id.as_ref().is_some_and(|id| {
        !id.starts_with("price_")
            || id.len() > 255
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }) {
        errors.push(error(
            "stripe_price_id",
            "A Stripe Price id looks like price_1Abc…",
        ));
    }
    view.errors = errors;
    let plan = match (price, interval, sort_order) {
        (Some(price_cents), Some(interval), Some(sort_order)) if view.errors.is_empty() => Some((
            NewPlan {
                name: view.name.clone(),
                description: (!view.description.is_empty()).then(|| view.description.clone()),
                price_cents,
                currency: view.currency.clone(),
                interval,
                features,
                sort_order,
                stripe_price_id: price_id,
            },
            view.active,
        )),
        _ => None,
    };
    (view, plan)
}

fn view_error(field: &str, message: &str) -> (String, String) {
    (field.to_owned(), message.to_owned())
}

/// A plan in the admin list.
#[derive(Clone, Debug)]
pub struct PlanRow {
    /// The plan.
    pub plan: PlanView,
    /// Offered.
    pub active: bool,
    /// Its subscriptions.
    pub subscribers: i64,
    /// Sold through Stripe.
    pub stripe_price_id: String,
}

/// `GET /admin/plans`.
#[derive(Template)]
#[template(path = "billing/plans.html")]
pub struct PlansPage {
    /// The layout.
    pub layout: Layout,
    /// The plans.
    pub plans: Vec<PlanRow>,
    /// The new-plan form.
    pub form: PlanFormView,
}

async fn plans_view(
    state: &AppState,
    visitor: &Visitor,
    form: PlanFormView,
    request: Option<&HttpRequest>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let plans = store::all_plans(&client).await?;
    let mut layout = Layout::for_visitor(visitor, "Plans", "Manage the plans on sale.");
    if let Some(request) = request {
        layout = layout.with_notice(request);
    }
    let page = PlansPage {
        layout,
        plans: plans
            .iter()
            .map(|(plan, subscribers)| PlanRow {
                plan: PlanView::of(plan),
                active: plan.is_active,
                subscribers: *subscribers,
                stripe_price_id: plan.stripe_price_id.clone().unwrap_or_default(),
            })
            .collect(),
        form,
    };
    Ok(render(&page, status))
}

/// `GET /admin/plans`.
pub async fn plans(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    plans_view(
        &state,
        &visitor,
        PlanFormView::blank(),
        Some(&request),
        StatusCode::OK,
    )
    .await
}

fn clash(error: crate::db::StoreError, view: &mut PlanFormView) -> Result<(), PageError> {
    match error.constraint() {
        Some("plans_name_idx") => {
            view.errors
                .push(view_error("name", "Another plan has this name."));
            Ok(())
        }
        Some("subscription_plans_stripe_price_id_idx") => {
            view.errors.push(view_error(
                "stripe_price_id",
                "Another plan is sold at this Stripe Price.",
            ));
            Ok(())
        }
        _ => Err(error.into()),
    }
}

/// `POST /admin/plans`.
pub async fn create_plan(
    state: web::Data<AppState>,
    request: CsrfForm<PlanForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let (mut view, plan) = parse_plan(&form);
    let Some((plan, active)) = plan else {
        return plans_view(
            &state,
            &visitor,
            view,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let created = match store::create_plan(&transaction, &plan).await {
        Ok(created) => created,
        Err(error) => {
            clash(error, &mut view)?;
            drop(transaction);
            drop(client);
            return plans_view(&state, &visitor, view, None, StatusCode::CONFLICT).await;
        }
    };
    let created = if active {
        created
    } else {
        store::update_plan(&transaction, created.id, &plan, false)
            .await?
            .ok_or(PageError::NotFound)?
    };
    audit::store::record(
        &transaction,
        &Actor::from(&visitor).entry(
            AuditAction::Create,
            AuditEntity::SubscriptionPlans,
            Some(created.id.0),
            audit::created(&created),
        ),
    )
    .await?;
    transaction.commit().await?;
    Ok(see_other_with(paths::PLANS, Notice::PlanCreated))
}

/// `GET /admin/plans/{id}`.
#[derive(Template)]
#[template(path = "billing/plan.html")]
pub struct PlanPage {
    /// The layout.
    pub layout: Layout,
    /// Where the form posts.
    pub action: String,
    /// Where deletion posts.
    pub delete_action: String,
    /// The form.
    pub form: PlanFormView,
    /// Its subscriptions.
    pub subscribers: i64,
}

async fn plan_view(
    state: &AppState,
    visitor: &Visitor,
    id: PlanId,
    form: PlanFormView,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let subscribers = store::all_plans(&client)
        .await?
        .into_iter()
        .find(|(plan, _)| plan.id == id)
        .map_or(0, |(_, count)| count);
    let page = PlanPage {
        layout: Layout::for_visitor(visitor, format!("Plan {}", form.name), "Edit a plan."),
        action: format!("/admin/plans/{id}"),
        delete_action: format!("/admin/plans/{id}/delete"),
        form,
        subscribers,
    };
    Ok(render(&page, status))
}

/// `GET /admin/plans/{id}`.
pub async fn plan_page(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    path: web::Path<PlanId>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let plan = {
        let client = state.pool.get().await?;
        store::plan_by_id(&client, id).await?
    }
    .ok_or(PageError::NotFound)?;
    plan_view(
        &state,
        &visitor,
        id,
        PlanFormView::of(&plan),
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/plans/{id}`: save, including (de)activation.
pub async fn update_plan(
    state: web::Data<AppState>,
    path: web::Path<PlanId>,
    request: CsrfForm<PlanForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let id = path.into_inner();
    let (mut view, plan) = parse_plan(&form);
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let before = store::plan_by_id(&transaction, id)
        .await?
        .ok_or(PageError::NotFound)?;
    let Some((plan, active)) = plan else {
        drop(transaction);
        drop(client);
        return plan_view(&state, &visitor, id, view, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let after = match store::update_plan(&transaction, id, &plan, active).await {
        Ok(after) => after.ok_or(PageError::NotFound)?,
        Err(error) => {
            clash(error, &mut view)?;
            drop(transaction);
            drop(client);
            return plan_view(&state, &visitor, id, view, StatusCode::CONFLICT).await;
        }
    };
    let changes = audit::changed(&before, &after);
    if !changes.is_empty() {
        audit::store::record(
            &transaction,
            &Actor::from(&visitor).entry(
                AuditAction::Update,
                AuditEntity::SubscriptionPlans,
                Some(id.0),
                changes,
            ),
        )
        .await?;
    }
    transaction.commit().await?;
    Ok(see_other_with(paths::PLANS, Notice::PlanSaved))
}

/// `POST /admin/plans/{id}/delete`: only a plan nobody ever subscribed to.
pub async fn delete_plan(
    state: web::Data<AppState>,
    path: web::Path<PlanId>,
    request: CsrfForm<EmptyForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let visitor = request.visitor;
    let id = path.into_inner();
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let before = store::plan_by_id(&transaction, id)
        .await?
        .ok_or(PageError::NotFound)?;
    if let Err(error) = store::delete_plan(&transaction, id).await {
        if error.constraint() == Some("subscriptions_plan_id_fkey") {
            drop(transaction);
            drop(client);
            let mut view = PlanFormView::of(&before);
            view.errors.push(view_error(
                "delete",
                "This plan has subscriptions, so it can't be deleted. Deactivate it instead: nobody new can choose it.",
            ));
            return plan_view(&state, &visitor, id, view, StatusCode::CONFLICT).await;
        }
        return Err(error.into());
    }
    audit::store::record(
        &transaction,
        &Actor::from(&visitor).entry(
            AuditAction::Delete,
            AuditEntity::SubscriptionPlans,
            Some(id.0),
            audit::deleted(&before),
        ),
    )
    .await?;
    transaction.commit().await?;
    Ok(see_other_with(paths::PLANS, Notice::PlanDeleted))
}

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
                    .map(crate::content::pages::day)
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

/// `POST /admin/subscriptions/grant`: put a user on a plan without Stripe.
pub async fn grant(
    state: web::Data<AppState>,
    request: CsrfForm<GrantForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let refuse = |message: &str| {
        let (state, visitor, email) =
            (state.clone(), visitor.clone(), form.email.trim().to_owned());
        let message = message.to_owned();
        async move {
            subscriptions_view(
                &state,
                &visitor,
                None,
                1,
                (email, Some(message)),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    };
    let Ok(email) = Email::parse(&form.email).map(Email::into_string) else {
        return refuse("Enter the user's email address.").await;
    };
    let Ok(plan) = uuid::Uuid::try_parse(form.plan_id.trim()).map(PlanId) else {
        return refuse("Choose a plan.").await;
    };
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let Some(user) = crate::accounts::store::user_by_email(&transaction, &email).await? else {
        drop(transaction);
        drop(client);
        return refuse("No account has this email address.").await;
    };
    if store::plan_by_id(&transaction, plan)
        .await?
        .is_none_or(|plan| !plan.is_active)
    {
        drop(transaction);
        drop(client);
        return refuse("That plan is not offered any more.").await;
    }
    let before = store::subscription_for_update(&transaction, user.id).await?;
    if before.as_ref().is_some_and(|before| {
        before.stripe_subscription_id.is_some()
            && matches!(
                before.status,
                SubscriptionStatus::Active
                    | SubscriptionStatus::PastDue
                    | SubscriptionStatus::Unpaid
            )
    }) {
        drop(transaction);
        drop(client);
        return refuse("This user pays through Stripe: change their plan in Stripe, or let them change it themselves.").await;
    }
    let after = store::grant(&transaction, user.id, plan).await?;
    let (action, changes) = audit::upserted(before.as_ref(), &after);
    if !changes.is_empty() {
        let mut entry = Actor::from(&visitor).entry(
            action,
            AuditEntity::Subscriptions,
            Some(after.id.0),
            changes,
        );
        entry.metadata = Some(serde_json::json!({ "granted_to": email }));
        audit::store::record(&transaction, &entry).await?;
    }
    transaction.commit().await?;
    Ok(see_other_with(paths::SUBSCRIPTIONS, Notice::PlanGranted))
}
