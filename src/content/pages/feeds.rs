//! Machine-read pages: the Atom feed, the sitemap, robots.txt, and the
//! stylesheet of category colours (colours live in the database, and the
//! Content-Security-Policy allows no inline styles).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{category_class, iso};
use crate::content::markdown;
use crate::content::store;
use crate::web::AppState;
use crate::web::caching::public_body;
use crate::web::page_error::PageError;

/// An entry of the feed.
#[derive(Clone, Debug)]
pub struct FeedEntry {
    /// Title.
    pub title: String,
    /// Absolute URL.
    pub url: String,
    /// `urn:uuid:<id>`.
    pub id: String,
    /// RFC 3339.
    pub published: String,
    /// RFC 3339.
    pub updated: String,
    /// Author name.
    pub author: String,
    /// Summary.
    pub summary: String,
    /// Sanitized HTML body.
    pub html: String,
    /// Tags.
    pub tags: Vec<String>,
}

/// `GET /feed.xml`.
#[derive(Template)]
#[template(path = "content/feed.xml")]
pub struct Feed {
    /// The site's name.
    pub site_name: String,
    /// The base URL.
    pub base_url: String,
    /// RFC 3339 of the newest change.
    pub updated: String,
    /// Entries, newest first.
    pub entries: Vec<FeedEntry>,
}

/// Entries in the feed.
const FEED_ENTRIES: i64 = 20;

fn xml(request: &HttpRequest, template: &impl Template, content_type: &str) -> HttpResponse {
    match template.render() {
        Ok(body) => public_body(request, body, content_type, "public, max-age=300"),
        Err(error) => {
            tracing::error!(%error, "rendering a feed failed");
            HttpResponse::InternalServerError().finish()
        }
    }
}

/// `GET /feed.xml`: an Atom feed of the newest published posts.
pub async fn feed(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let posts = store::feed(&client, FEED_ENTRIES).await?;
    drop(client);
    let updated = posts
        .iter()
        .map(|post| post.updated_at.max(post.card.published_at))
        .max()
        .map_or_else(|| iso(time::OffsetDateTime::UNIX_EPOCH), iso);
    let entries = posts
        .iter()
        .map(|post| FeedEntry {
            title: post.card.title.clone(),
            url: format!("{}/blog/{}", state.base_url, post.card.slug),
            id: format!("urn:uuid:{}", post.card.id),
            published: iso(post.card.published_at),
            updated: iso(post.updated_at.max(post.card.published_at)),
            author: post.card.author_name.clone(),
            summary: post.card.excerpt.clone(),
            html: markdown::to_html(&post.content),
            tags: post.card.tags.iter().map(|tag| tag.name.clone()).collect(),
        })
        .collect();
    let feed = Feed {
        site_name: state.site_name().clone(),
        base_url: state.base_url.clone(),
        updated,
        entries,
    };
    Ok(xml(&request, &feed, "application/atom+xml; charset=utf-8"))
}

/// A URL of the sitemap.
#[derive(Clone, Debug)]
pub struct SitemapUrl {
    /// Absolute URL.
    pub loc: String,
    /// RFC 3339, when known.
    pub lastmod: Option<String>,
}

/// `GET /sitemap.xml`.
#[derive(Template)]
#[template(path = "content/sitemap.xml")]
pub struct Sitemap {
    /// The URLs.
    pub urls: Vec<SitemapUrl>,
}

/// A sitemap holds at most 50,000 URLs.
const SITEMAP_POSTS: i64 = 45_000;

/// `GET /sitemap.xml`: the public pages and every published post.
pub async fn sitemap(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let (posts, tags) = store::sitemap(&client, SITEMAP_POSTS).await?;
    let categories = store::categories(&client, false).await?;
    drop(client);
    let base = &state.base_url;
    let mut urls = vec![
        SitemapUrl {
            loc: format!("{base}/"),
            lastmod: None,
        },
        SitemapUrl {
            loc: format!("{base}/blog"),
            lastmod: posts.first().map(|(_, updated)| iso(*updated)),
        },
    ];
    urls.extend(posts.iter().map(|(slug, updated)| SitemapUrl {
        loc: format!("{base}/blog/{slug}"),
        lastmod: Some(iso(*updated)),
    }));
    urls.extend(
        categories
            .iter()
            .filter(|(_, posts)| *posts > 0)
            .map(|(category, _)| SitemapUrl {
                loc: format!("{base}/categories/{}", category.slug),
                lastmod: None,
            }),
    );
    urls.extend(
        tags.iter()
            .take(usize::try_from(50_000 - SITEMAP_POSTS - 100).unwrap_or(0))
            .map(|slug| SitemapUrl {
                loc: format!("{base}/tags/{slug}"),
                lastmod: None,
            }),
    );
    Ok(xml(
        &request,
        &Sitemap { urls },
        "application/xml; charset=utf-8",
    ))
}

/// `GET /robots.txt`: everything public may be indexed; the sitemap is here.
pub async fn robots(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let body = format!(
        "User-agent: *\nDisallow: /account\nDisallow: /admin\nDisallow: /posts\n\nSitemap: {}/sitemap.xml\n",
        state.base_url
    );
    public_body(
        &request,
        body,
        "text/plain; charset=utf-8",
        "public, max-age=3600",
    )
}

/// Whether `color` is `#rrggbb`: the only form a category colour takes, so
/// it can go into a stylesheet as it is.
pub fn is_hex_color(color: &str) -> bool {
    color.len() == 7
        && color.starts_with('#')
        && color[1..]
            .chars()
            .all(|character| character.is_ascii_hexdigit())
}

/// `GET /categories.css`: one class per category with its colour.
pub async fn category_styles(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let categories = store::categories(&client, true).await?;
    drop(client);
    let mut css = String::from("/* Category colours, from the admin's category settings. */\n");
    for (category, _) in categories {
        let color = category.color.filter(|color| is_hex_color(color));
        if let Some(color) = color {
            css.push_str(&format!(
                ".{} {{ --category-color: {color}; }}\n",
                category_class(category.id)
            ));
        }
    }
    Ok(public_body(
        &request,
        css,
        "text/css; charset=utf-8",
        "public, max-age=60",
    ))
}
