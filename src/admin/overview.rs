//! `GET /admin`: the numbers an operator checks first.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::audit::store::{self as audit, AuditFilter};
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};

/// A day of sign-ins.
#[derive(Clone, Debug)]
pub struct SignInDay {
    /// YYYY-MM-DD in the reader's zone.
    pub day: String,
    /// Successful sign-ins.
    pub sign_ins: i64,
    /// Failed ones.
    pub failures: i64,
}

/// `GET /admin`.
#[derive(Template)]
#[template(path = "admin/overview.html")]
pub struct OverviewPage {
    /// The layout.
    pub layout: Layout,
    /// Accounts.
    pub users: i64,
    /// New in 7 days.
    pub new_users: i64,
    /// Active subscriptions.
    pub active_subscriptions: i64,
    /// MRR per currency, formatted.
    pub mrr: Vec<String>,
    /// Published posts.
    pub published_posts: i64,
    /// Sign-ins of the last 7 days.
    pub sign_ins: Vec<SignInDay>,
    /// The latest audit rows.
    pub recent: Vec<crate::audit::pages::EntryView>,
    /// Mail really leaves (else the page says loudly that it does not).
    pub mail_sent: bool,
    /// What is left to set up.
    pub first_steps: super::first_steps::FirstSteps,
    /// The zone days and times are shown in.
    pub zone: String,
}

/// `GET /admin`.
pub async fn overview(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let figures = super::store::overview(&client).await?;
    let zone = visitor.time_zone().to_owned();
    let sign_ins = audit::sign_ins_by_day(&client, 7, &zone).await?;
    let recent = audit::search(&client, &AuditFilter::default(), None, 10).await?;
    let first_steps = super::first_steps::FirstSteps::of(&state, &client).await?;
    let times = LocalTimes::load(
        &client,
        &zone,
        recent.iter().map(|entry| entry.log.created_at),
    )
    .await?;
    drop(client);
    let page = OverviewPage {
        layout: Layout::for_visitor(&visitor, "Admin", "How the site is doing."),
        users: figures.users,
        new_users: figures.new_users,
        active_subscriptions: figures.active_subscriptions,
        mrr: figures
            .mrr
            .iter()
            .map(|(currency, cents)| crate::billing::money::format(*cents, currency))
            .collect(),
        published_posts: figures.published_posts,
        mail_sent: state.mailer.sends(),
        first_steps,
        zone,
        sign_ins: sign_ins
            .into_iter()
            .map(|(day, sign_ins, failures)| SignInDay {
                day,
                sign_ins,
                failures,
            })
            .collect(),
        recent: recent
            .iter()
            .map(|entry| crate::audit::pages::EntryView::of(entry, &times))
            .collect(),
    };
    Ok(render(&page, StatusCode::OK))
}
