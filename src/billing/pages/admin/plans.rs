//! `/admin/plans`: the plans on sale, a new one, editing one (including
//! (de)activating it) and deleting one nobody ever subscribed to.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::super::PlanView;
use super::plan_form::{PlanForm, PlanFormView, parse_plan, refused, view_error};
use crate::audit::Actor;
use crate::billing::model::PlanId;
use crate::billing::paths;
use crate::billing::plans::{self, PlanDeleted, PlanSaved};
use crate::billing::store;
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::confirm::{ConfirmForm, ConfirmPage};
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

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
        action: paths::plan(id),
        delete_action: paths::delete_plan(id),
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

/// `POST /admin/plans`.
pub async fn create_plan(
    state: web::Data<AppState>,
    request: CsrfForm<PlanForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let (mut view, plan) = parse_plan(&form);
    let Some((plan, active)) = plan else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return plans_view(&state, &visitor, view, None, status).await;
    };
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let actor = Actor::from(&visitor);
    let saved = plans::create_plan(&transaction, &actor, &plan, active).await?;
    if let PlanSaved::Saved(_) = saved {
        transaction.commit().await?;
        return Ok(see_other_with(paths::PLANS, Notice::PlanCreated));
    }
    drop(transaction);
    drop(client);
    refused(saved, &mut view)?;
    plans_view(&state, &visitor, view, None, StatusCode::CONFLICT).await
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
    let actor = Actor::from(&visitor);
    let saved = plans::update_plan(&transaction, &actor, &before, &plan, active).await?;
    if let PlanSaved::Saved(_) = saved {
        transaction.commit().await?;
        return Ok(see_other_with(paths::PLANS, Notice::PlanSaved));
    }
    drop(transaction);
    drop(client);
    refused(saved, &mut view)?;
    plan_view(&state, &visitor, id, view, StatusCode::CONFLICT).await
}

/// `POST /admin/plans/{id}/delete`: only a plan nobody ever subscribed to.
pub async fn delete_plan(
    state: web::Data<AppState>,
    path: web::Path<PlanId>,
    request: CsrfForm<ConfirmForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let visitor = request.visitor;
    let id = path.into_inner();
    if !request.form.confirmed() {
        let client = state.pool.get().await?;
        let (plan, subscribers) = store::all_plans(&client)
            .await?
            .into_iter()
            .find(|(plan, _)| plan.id == id)
            .ok_or(PageError::NotFound)?;
        // A plan in use can't be deleted: the attempt below says so.
        if subscribers == 0 {
            return Ok(ConfirmPage::new(
                &visitor,
                format!("Delete the plan {}?", plan.name),
                paths::delete_plan(id),
                paths::plan(id),
            )
            .saying("Nobody subscribes to it. It goes for good, from the pricing page and from this list; to keep it but stop offering it, deactivate it instead.")
            .yes(format!("Yes, delete {}", plan.name))
            .response());
        }
    }
    let deleted = {
        let mut client = state.pool.get().await?;
        let transaction = client.transaction().await?;
        let deleted = plans::delete_plan(&transaction, &Actor::from(&visitor), id).await?;
        if let PlanDeleted::Deleted(_) = deleted {
            transaction.commit().await?;
        }
        deleted
    };
    match deleted {
        PlanDeleted::Deleted(_) => Ok(see_other_with(paths::PLANS, Notice::PlanDeleted)),
        PlanDeleted::NotFound => Err(PageError::NotFound),
        PlanDeleted::HasSubscriptions(plan) => {
            let mut view = PlanFormView::of(&plan);
            view.errors.push(view_error(
                "delete",
                "This plan has subscriptions, so it can't be deleted. Deactivate it instead: nobody new can choose it.",
            ));
            plan_view(&state, &visitor, id, view, StatusCode::CONFLICT).await
        }
    }
}
