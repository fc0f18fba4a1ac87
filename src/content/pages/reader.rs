//! The public blog: lists of published posts (newest first, keyset
//! pagination), a post, tag, category and author pages (search is
//! [`super::search`]).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{CardView, PAGE_SIZE};
use crate::accounts::model::{Role, UserId};
use crate::content::markdown;
use crate::content::model::{Cursor, PostCard};
use crate::content::store::{self, Listing};
use crate::web::AppState;
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::visitor::Visitor;

/// A list of published posts: the blog, a tag, a category or an author.
#[derive(Template)]
#[template(path = "content/list.html")]
pub struct ListPage {
    /// The layout.
    pub layout: Layout,
    /// The heading.
    pub heading: String,
    /// A line under the heading.
    pub intro: Option<String>,
    /// The posts.
    pub cards: Vec<CardView>,
    /// The next page, when there is one.
    pub older_url: Option<String>,
    /// The first page, when this is not it.
    pub newest_url: Option<String>,
    /// What to say when there are no posts.
    pub empty: String,
}

/// `?after=` of the lists.
#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    after: Option<String>,
}

/// The posts of `listing` for the page `after` points at, and the links to
/// the next and first pages.
pub(super) async fn page_of(
    state: &AppState,
    zone: &str,
    listing: Listing,
    base: &str,
    after: Option<&str>,
) -> Result<(Vec<CardView>, Option<String>, Option<String>), PageError> {
    let cursor = match after {
        None | Some("") => Cursor::first(),
        Some(text) => Cursor::decode(text).ok_or_else(|| {
            PageError::BadRequest(
                "This page link is broken. Start again from the first page.".to_owned(),
            )
        })?,
    };
    let client = state.pool.get().await?;
    let mut cards = store::published_page(&client, listing, cursor).await?;
    let older_url = if cards.len() > usize::try_from(PAGE_SIZE).unwrap_or(20) {
        cards.truncate(usize::try_from(PAGE_SIZE).unwrap_or(20));
        cards
            .last()
            .map(|last| format!("{base}?after={}", Cursor::after(last).encode()))
    } else {
        None
    };
    let newest_url = (cursor != Cursor::first()).then(|| base.to_owned());
    let times = LocalTimes::load(&client, zone, cards.iter().map(|card| card.published_at)).await?;
    Ok((
        cards
            .iter()
            .map(|card| CardView::of(card, &times))
            .collect(),
        older_url,
        newest_url,
    ))
}

pub(super) fn categories_stylesheet(layout: &mut Layout) {
    layout.extra_css = Some("/categories.css".to_owned());
}

/// `GET /blog`.
pub async fn blog(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let (cards, older_url, newest_url) = page_of(
        &state,
        visitor.time_zone(),
        Listing::All,
        "/blog",
        query.after.as_deref(),
    )
    .await?;
    let mut layout = Layout::for_visitor(
        &visitor,
        "Blog",
        format!("The latest posts on {}.", state.site_name()),
    );
    categories_stylesheet(&mut layout);
    let page = ListPage {
        layout,
        heading: "Blog".to_owned(),
        intro: Some("The latest posts, newest first.".to_owned()),
        cards,
        older_url,
        newest_url,
        empty: "Nothing has been published yet.".to_owned(),
    };
    Ok(render(&page, StatusCode::OK))
}

/// `GET /tags/{slug}`.
pub async fn tag(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let tag = {
        let client = state.pool.get().await?;
        store::tag_by_slug(&client, &path).await?
    }
    .ok_or(PageError::NotFound)?;
    let base = format!("/tags/{}", tag.slug);
    let (cards, older_url, newest_url) = page_of(
        &state,
        visitor.time_zone(),
        Listing::Tag(tag.id),
        &base,
        query.after.as_deref(),
    )
    .await?;
    let mut layout = Layout::for_visitor(
        &visitor,
        format!("Posts tagged {}", tag.name),
        format!("Posts tagged {} on {}.", tag.name, state.site_name()),
    );
    categories_stylesheet(&mut layout);
    let page = ListPage {
        layout,
        heading: format!("Tagged “{}”", tag.name),
        intro: None,
        cards,
        older_url,
        newest_url,
        empty: "No published post carries this tag yet.".to_owned(),
    };
    Ok(render(&page, StatusCode::OK))
}

/// `GET /categories/{slug}` (active categories only).
pub async fn category(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let category = {
        let client = state.pool.get().await?;
        store::active_category_by_slug(&client, &path).await?
    }
    .ok_or(PageError::NotFound)?;
    let base = format!("/categories/{}", category.slug);
    let (cards, older_url, newest_url) = page_of(
        &state,
        visitor.time_zone(),
        Listing::Category(category.id),
        &base,
        query.after.as_deref(),
    )
    .await?;
    let description = category
        .description
        .clone()
        .filter(|description| !description.is_empty());
    let mut layout = Layout::for_visitor(
        &visitor,
        category.name.clone(),
        description
            .clone()
            .unwrap_or_else(|| format!("Posts in {} on {}.", category.name, state.site_name())),
    );
    categories_stylesheet(&mut layout);
    let page = ListPage {
        layout,
        heading: category.name.clone(),
        intro: description,
        cards,
        older_url,
        newest_url,
        empty: "Nothing has been published in this category yet.".to_owned(),
    };
    Ok(render(&page, StatusCode::OK))
}

/// `GET /authors/{id}`: only authors with a published post have a page.
pub async fn author(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<UserId>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, PageError> {
    let id = path.into_inner();
    let (name, bio) = {
        let client = state.pool.get().await?;
        store::author(&client, id).await?
    }
    .ok_or(PageError::NotFound)?;
    let base = format!("/authors/{id}");
    let (cards, older_url, newest_url) = page_of(
        &state,
        visitor.time_zone(),
        Listing::Author(id),
        &base,
        query.after.as_deref(),
    )
    .await?;
    let mut layout = Layout::for_visitor(
        &visitor,
        format!("Posts by {name}"),
        format!("Posts by {name} on {}.", state.site_name()),
    );
    categories_stylesheet(&mut layout);
    let page = ListPage {
        layout,
        heading: format!("Posts by {name}"),
        intro: bio.filter(|bio| !bio.is_empty()),
        cards,
        older_url,
        newest_url,
        empty: String::new(),
    };
    Ok(render(&page, StatusCode::OK))
}

/// `GET /blog/{slug}`.
#[derive(Template)]
#[template(path = "content/post.html")]
pub struct PostPage {
    /// The layout.
    pub layout: Layout,
    /// What lists show.
    pub card: CardView,
    /// The sanitized body.
    pub html: std::sync::Arc<str>,
    /// The post's absolute URL.
    pub canonical: String,
    /// The absolute URL of the image link previews show.
    pub og_image: Option<String>,
    /// The site's name.
    pub site_name: String,
    /// Last change, when after publication.
    pub updated: Option<String>,
    /// RFC 3339 of the last change.
    pub updated_iso: String,
    /// The editor, for the author and admins.
    pub edit_url: Option<String>,
}

/// `GET /blog/{slug}`: published posts only; drafts and archived posts are
/// "not found" to everyone here (authors preview them in the editor).
pub async fn post(
    state: web::Data<AppState>,
    visitor: Visitor,
    path: web::Path<String>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let post = store::published_by_slug(&client, &path)
        .await?
        .ok_or(PageError::NotFound)?;
    let times = LocalTimes::load(
        &client,
        visitor.time_zone(),
        [post.card.published_at, post.updated_at],
    )
    .await?;
    drop(client);
    // A link checker's HEAD is not a read.
    if !crate::web::methods::is_head(&request) {
        state.views.record(post.card.id);
    }
    let card = CardView::of(&post.card, &times);
    let description = if post.card.excerpt.is_empty() {
        markdown::excerpt(&post.content)
    } else {
        post.card.excerpt.clone()
    };
    let mut layout = Layout::for_visitor(&visitor, post.card.title.clone(), description);
    categories_stylesheet(&mut layout);
    let may_edit = visitor.signed_in.as_ref().is_some_and(|signed_in| {
        signed_in.user.id == post.card.author_id || signed_in.user.role == Role::Admin
    });
    let edited_later = post.updated_at - post.card.published_at > time::Duration::minutes(1);
    let page = PostPage {
        layout,
        html: state.rendered.get(post.card.id, post.updated_at, || {
            markdown::to_html(&post.content)
        }),
        canonical: format!("{}{}", state.base_url, card.url),
        og_image: markdown::first_image(&post.content)
            .map(|url| {
                if url.starts_with("http://") || url.starts_with("https://") {
                    url
                } else if url.starts_with('/') {
                    format!("{}{url}", state.base_url)
                } else {
                    // Relative to the post's own address, /blog/{slug}.
                    format!("{}/blog/{url}", state.base_url)
                }
            })
            .or_else(|| state.share_image.clone()),
        site_name: state.site_name().clone(),
        updated: edited_later.then(|| times.day(post.updated_at)),
        updated_iso: times.machine(post.updated_at),
        edit_url: may_edit.then(|| format!("/posts/{}/edit", post.card.id)),
        card,
    };
    Ok(render(&page, StatusCode::OK))
}

/// The home page's featured posts.
pub async fn featured_cards(state: &AppState, zone: &str) -> Result<Vec<CardView>, PageError> {
    let client = state.pool.get().await?;
    let cards: Vec<PostCard> = store::featured(&client, 3).await?;
    let times = LocalTimes::load(&client, zone, cards.iter().map(|card| card.published_at)).await?;
    Ok(cards
        .iter()
        .map(|card| CardView::of(card, &times))
        .collect())
}

/// The newest published posts, at most `limit`.
pub async fn latest_cards(
    state: &AppState,
    zone: &str,
    limit: usize,
) -> Result<Vec<CardView>, PageError> {
    let client = state.pool.get().await?;
    let mut cards: Vec<PostCard> =
        store::published_page(&client, Listing::All, Cursor::first()).await?;
    cards.truncate(limit);
    let times = LocalTimes::load(&client, zone, cards.iter().map(|card| card.published_at)).await?;
    Ok(cards
        .iter()
        .map(|card| CardView::of(card, &times))
        .collect())
}
