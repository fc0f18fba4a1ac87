//! `GET /account`: the signed-in user's overview (plan, posts, sign-in methods).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::accounts::store::{self};
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};

/// The plan line of the account page.
#[derive(Clone, Debug)]
pub struct PlanSummary {
    /// Plan name.
    pub name: String,
    /// Subscription status.
    pub status: String,
    /// Price and interval.
    pub price: String,
    /// When the period ends.
    pub period_end: Option<String>,
}

/// A post line of the account page.
#[derive(Clone, Debug)]
pub struct PostSummary {
    /// Title.
    pub title: String,
    /// Slug.
    pub slug: String,
    /// Publication time.
    pub published: String,
}

/// `GET /account`.
#[derive(Template)]
#[template(path = "accounts/account.html")]
pub struct AccountPage {
    /// The layout.
    pub layout: Layout,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
    /// Account creation.
    pub member_since: String,
    /// Last sign-in.
    pub last_login: Option<String>,
    /// Avatar.
    pub avatar_url: Option<String>,
    /// Bio.
    pub bio: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Time zone.
    pub timezone: String,
    /// The subscription.
    pub plan: Option<PlanSummary>,
    /// Latest published posts.
    pub posts: Vec<PostSummary>,
}

/// `GET /account`: the seed's "user with details", one query.
pub async fn account(
    Member { visitor, signed_in }: Member,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let details = store::user_with_details(&client, signed_in.user.id)
        .await?
        .ok_or(PageError::SignInRequired)?;
    let profile = details.profile.as_ref();
    let zone = profile
        .and_then(|profile| profile.timezone.clone())
        .unwrap_or_else(|| "UTC".to_owned());
    let moments = [Some(details.user.created_at), details.user.last_login_at]
        .into_iter()
        .chain(
            details
                .subscription
                .iter()
                .map(|subscription| subscription.subscription.current_period_end),
        )
        .chain(details.posts.iter().map(|post| post.published_at))
        .flatten();
    let times = LocalTimes::load(&client, &zone, moments).await?;
    let when = |moment| times.show(moment);
    let page = AccountPage {
        layout: Layout::for_visitor(&visitor, "Your account", "Your account.")
            .with_notice(&request),
        name: details.user.name.clone(),
        email: details.user.email.clone(),
        role: details.user.role.as_str().to_owned(),
        member_since: when(details.user.created_at),
        last_login: details.user.last_login_at.map(when),
        avatar_url: details.user.avatar_url.clone(),
        bio: profile.and_then(|profile| profile.bio.clone()),
        website: profile.and_then(|profile| profile.website.clone()),
        location: profile.and_then(|profile| profile.location.clone()),
        timezone: profile
            .and_then(|profile| profile.timezone.clone())
            .unwrap_or_else(|| "UTC".to_owned()),
        plan: details
            .subscription
            .as_ref()
            .map(|subscription| PlanSummary {
                name: subscription.plan.name.clone(),
                status: subscription.subscription.status.as_str().to_owned(),
                price: format!(
                    "{}.{:02} {} / {}",
                    subscription.plan.price_cents / 100,
                    subscription.plan.price_cents % 100,
                    subscription.plan.currency,
                    subscription.plan.interval
                ),
                period_end: subscription.subscription.current_period_end.map(when),
            }),
        posts: details
            .posts
            .iter()
            .map(|post| PostSummary {
                title: post.title.clone(),
                slug: post.slug.clone(),
                published: post.published_at.map(when).unwrap_or_default(),
            })
            .collect(),
    };
    Ok(render(&page, StatusCode::OK))
}
