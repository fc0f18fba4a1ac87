//! `/posts`: the signed-in user's posts, last changed first.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::content::model::PostStatus;
use crate::content::paths;
use crate::content::store;
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};

const OWN_PAGE_SIZE: i64 = 50;

/// A line of `/posts`.
#[derive(Clone, Debug)]
pub struct OwnPostView {
    /// Title.
    pub title: String,
    /// The editor.
    pub edit_url: String,
    /// The public page, when published.
    pub public_url: Option<String>,
    /// draft, published or archived.
    pub status: String,
    /// Last change.
    pub updated: String,
    /// Reads.
    pub views: i32,
    /// Category name.
    pub category: Option<String>,
}

/// `GET /posts`.
#[derive(Template)]
#[template(path = "content/posts.html")]
pub struct PostsPage {
    /// The layout.
    pub layout: Layout,
    /// The posts.
    pub posts: Vec<OwnPostView>,
    /// The status filter ("" for all).
    pub status: String,
    /// The search text.
    pub q: String,
    /// The next page's link.
    pub next_url: Option<String>,
    /// The previous page's link.
    pub previous_url: Option<String>,
}

/// `?status=&q=&page=` of `/posts`.
#[derive(Deserialize)]
pub struct PostsQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: Option<String>,
}
/// `GET /posts`: the signed-in user's posts, last changed first.
pub async fn list(
    Member { visitor, signed_in }: Member,
    state: web::Data<AppState>,
    query: web::Query<PostsQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let status = match query.status.as_str() {
        "" | "all" => None,
        other => Some(other.parse::<PostStatus>().map_err(|_| {
            PageError::BadRequest("Filter by draft, published or archived.".to_owned())
        })?),
    };
    let q: String = query.q.trim().chars().take(200).collect();
    let page: i64 = match query.page.as_deref() {
        None | Some("") => 1,
        Some(page) => page
            .parse()
            .ok()
            .filter(|page| (1..=1000).contains(page))
            .ok_or_else(|| PageError::BadRequest("There is no such page.".to_owned()))?,
    };
    let client = state.pool.get().await?;
    let mut posts = store::own_posts(
        &client,
        signed_in.user.id,
        status,
        (!q.is_empty()).then_some(q.as_str()),
        OWN_PAGE_SIZE + 1,
        (page - 1) * OWN_PAGE_SIZE,
    )
    .await?;
    let more = posts.len() > usize::try_from(OWN_PAGE_SIZE).unwrap_or(50);
    posts.truncate(usize::try_from(OWN_PAGE_SIZE).unwrap_or(50));
    let times = LocalTimes::load(
        &client,
        visitor.time_zone(),
        posts.iter().map(|post| post.updated_at),
    )
    .await?;
    let filters = serde_html_form::to_string([
        ("status", status.map(PostStatus::as_str).unwrap_or_default()),
        ("q", q.as_str()),
    ])
    .unwrap_or_default();
    let page_view = PostsPage {
        layout: Layout::for_visitor(&visitor, "Your posts", "Write and publish posts.")
            .with_notice(&request),
        posts: posts
            .into_iter()
            .map(|post| OwnPostView {
                edit_url: paths::edit_post(post.id),
                public_url: (post.status == PostStatus::Published).then(|| paths::post(&post.slug)),
                status: post.status.as_str().to_owned(),
                updated: times.day(post.updated_at),
                views: post.view_count,
                category: post.category,
                title: post.title,
            })
            .collect(),
        status: status
            .map(PostStatus::as_str)
            .unwrap_or_default()
            .to_owned(),
        q,
        next_url: more.then(|| format!("/posts?{filters}&page={}", page + 1)),
        previous_url: (page > 1).then(|| format!("/posts?{filters}&page={}", page - 1)),
    };
    Ok(render(&page_view, StatusCode::OK))
}
