//! Admins: the Stripe event log (`/admin/stripe-events`): every event
//! received, its API version, what became of it and why, the user and
//! payment it concerns, and a Replay that applies a kept event again.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use time::OffsetDateTime;

use crate::audit::Actor;
use crate::billing::event_log::{self, EventOutcome};
use crate::billing::money;
use crate::billing::paths;
use crate::billing::versions;
use crate::billing::webhook::{self, Replayed};
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};

/// Lines a page.
const PAGE: i64 = 50;

/// One event in the list.
#[derive(Clone, Debug)]
pub struct EventRow {
    /// `evt_...`.
    pub id: String,
    /// Its type.
    pub kind: String,
    /// When Stripe made it (UTC).
    pub created: String,
    /// Its API version, or "not given".
    pub api_version: String,
    /// The outcome.
    pub outcome: String,
    /// Why.
    pub reason: String,
    /// Deliveries beyond the first.
    pub redeliveries: i32,
    /// The user: (admin page link, email).
    pub user: Option<(String, String)>,
    /// The payment: amount and status.
    pub payment: Option<String>,
    /// Whether Replay is offered.
    pub replayable: bool,
}

/// `GET /admin/stripe-events`.
#[derive(Template)]
#[template(path = "billing/events.html")]
pub struct EventsPage {
    /// The layout.
    pub layout: Layout,
    /// The filter ("" for all).
    pub outcome: String,
    /// Count by outcome.
    pub counts: Vec<(String, i64)>,
    /// The rows.
    pub events: Vec<EventRow>,
    /// The next page.
    pub next_url: Option<String>,
    /// The newest API version applied.
    pub pinned: &'static str,
    /// Whether webhooks are set up.
    pub webhooks_ready: bool,
}

/// `?outcome=&before=<unix nanos>.<id>`.
#[derive(Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    before: String,
}

fn cursor(text: &str) -> Result<Option<(OffsetDateTime, String)>, PageError> {
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || {
        PageError::BadRequest("That page link is not valid: start from the first page.".to_owned())
    };
    let (nanos, id) = text.split_once('.').ok_or_else(bad)?;
    let nanos: i128 = nanos.parse().map_err(|_| bad())?;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| bad())?;
    Ok(Some((at, id.to_owned())))
}

/// `GET /admin/stripe-events`.
pub async fn list(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    query: web::Query<EventsQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let outcome = match query.outcome.as_str() {
        "" | "all" => None,
        other => Some(other.parse::<EventOutcome>().map_err(|_| {
            PageError::BadRequest("Filter by applied, parked, ignored or unsupported.".to_owned())
        })?),
    };
    let before = cursor(&query.before)?;
    let client = state.pool.get().await?;
    let mut rows = event_log::list(&client, outcome, before, PAGE + 1).await?;
    let counts = event_log::counts(&client).await?;
    let times = LocalTimes::load(
        &client,
        visitor.time_zone(),
        rows.iter().map(|row| row.created),
    )
    .await?;
    drop(client);
    let more = rows.len() > usize::try_from(PAGE).unwrap_or(50);
    rows.truncate(usize::try_from(PAGE).unwrap_or(50));
    let outcome_text = outcome.map(EventOutcome::as_str).unwrap_or_default();
    let next_url = rows.last().filter(|_| more).map(|last| {
        format!(
            "/admin/stripe-events?outcome={outcome_text}&before={}.{}",
            last.received.unix_timestamp_nanos(),
            last.id
        )
    });
    let layout = Layout::for_visitor(
        &visitor,
        "Stripe events",
        "Every Stripe event received and what became of it.",
    )
    .with_notice(&request);
    let page = EventsPage {
        layout,
        outcome: outcome_text.to_owned(),
        counts,
        events: rows
            .into_iter()
            .map(|row| EventRow {
                created: times.precise(row.created),
                api_version: row.api_version.unwrap_or_else(|| "not given".to_owned()),
                outcome: row.outcome.as_str().to_owned(),
                reason: row.reason.unwrap_or_default(),
                redeliveries: row.deliveries - 1,
                user: row
                    .user
                    .map(|(id, email)| (format!("/admin/users/{}", id.0), email)),
                payment: row.payment.map(|(_, amount, currency, status)| {
                    format!("{} · {status}", money::format(i64::from(amount), &currency))
                }),
                replayable: row.replayable,
                kind: row.kind,
                id: row.id,
            })
            .collect(),
        next_url,
        pinned: versions::PINNED,
        webhooks_ready: state
            .stripe
            .as_ref()
            .is_some_and(|stripe| stripe.webhook_secret.is_some()),
    };
    Ok(render(&page, actix_web::http::StatusCode::OK))
}

/// `POST /admin/stripe-events/{id}/replay`.
pub async fn replay(
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: CsrfForm<EmptyForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let visitor = request.visitor;
    let id = path.into_inner();
    if id.is_empty() || id.len() > 255 {
        return Err(PageError::NotFound);
    }
    let who = Actor::from(&visitor).in_request(visitor.request_id.as_deref());
    match webhook::replay(&state, &id, &who).await? {
        Replayed::Missing => Err(PageError::NotFound),
        Replayed::Forgotten => Ok(see_other_with(paths::STRIPE_EVENTS, Notice::EventForgotten)),
        Replayed::Done(_, fate) => {
            tracing::info!(event = %id, outcome = fate.outcome.as_str(), "an admin replayed a Stripe event");
            let notice = match fate.outcome {
                EventOutcome::Unsupported => Notice::EventStillUnsupported,
                EventOutcome::Parked => Notice::EventStillParked,
                _ => Notice::EventReplayed,
            };
            Ok(see_other_with(paths::STRIPE_EVENTS, notice))
        }
    }
}
