//! `/admin/users`: find a user.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::accounts::store;
use crate::admin::paths;
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};

const PAGE_SIZE: i64 = 50;

/// A line of the user list.
#[derive(Clone, Debug)]
pub struct UserRow {
    /// The user's page.
    pub url: String,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
    /// Confirmed.
    pub verified: bool,
    /// Can sign in.
    pub active: bool,
    /// Sign-up day.
    pub joined: String,
    /// Last sign-in day.
    pub last_login: String,
}

/// `GET /admin/users`.
#[derive(Template)]
#[template(path = "admin/users.html")]
pub struct UsersPage {
    /// The layout.
    pub layout: Layout,
    /// The search text.
    pub q: String,
    /// The users.
    pub users: Vec<UserRow>,
    /// Next page.
    pub next_url: Option<String>,
    /// Previous page.
    pub previous_url: Option<String>,
}

/// `?q=&page=`.
#[derive(Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<String>,
}

/// The day of `moment` in the zone of `times`, or nothing.
pub(super) fn day(times: &LocalTimes, moment: Option<time::OffsetDateTime>) -> String {
    moment.map(|moment| times.day(moment)).unwrap_or_default()
}

/// `GET /admin/users`.
pub async fn list(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    query: web::Query<UsersQuery>,
) -> Result<HttpResponse, PageError> {
    let q: String = query.q.trim().chars().take(200).collect();
    let page: i64 = match query.page.as_deref() {
        None | Some("") => 1,
        Some(page) => page
            .parse()
            .ok()
            .filter(|page| (1..=100_000).contains(page))
            .ok_or_else(|| PageError::BadRequest("There is no such page.".to_owned()))?,
    };
    let client = state.pool.get().await?;
    let mut users = store::search_users(
        &client,
        (!q.is_empty()).then_some(q.as_str()),
        PAGE_SIZE + 1,
        (page - 1) * PAGE_SIZE,
    )
    .await?;
    let moments = users
        .iter()
        .flat_map(|user| [Some(user.created_at), user.last_login_at])
        .flatten();
    let times = LocalTimes::load(&client, visitor.time_zone(), moments).await?;
    drop(client);
    let more = users.len() > usize::try_from(PAGE_SIZE).unwrap_or(50);
    users.truncate(usize::try_from(PAGE_SIZE).unwrap_or(50));
    let search = serde_html_form::to_string([("q", q.as_str())]).unwrap_or_default();
    let page_view = UsersPage {
        layout: Layout::for_visitor(&visitor, "Users", "Find and manage users."),
        users: users
            .iter()
            .map(|user| UserRow {
                url: paths::user(user.id),
                name: user.name.clone(),
                email: user.email.clone(),
                role: user.role.as_str().to_owned(),
                verified: user.email_verified,
                active: user.is_active,
                joined: day(&times, Some(user.created_at)),
                last_login: day(&times, user.last_login_at),
            })
            .collect(),
        next_url: more.then(|| format!("{}?{search}&page={}", paths::USERS, page + 1)),
        previous_url: (page > 1).then(|| format!("{}?{search}&page={}", paths::USERS, page - 1)),
        q,
    };
    Ok(render(&page_view, StatusCode::OK))
}
