//! Content pages: the writers' desk (`/posts`), the public blog and its
//! feeds, and the admins' categories. Handlers parse input, call the store
//! inside one transaction (with its audit row), and render or redirect.

mod categories;
mod feeds;
mod reader;
mod writer;

use actix_web::web;
use time::OffsetDateTime;

use super::model::{PostCard, TagLink};

pub use reader::featured_cards;
pub use writer::{EditorErrors, Parsed, PostForm, parse_form, parse_tags};

/// Every content route.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(web::resource("/blog").get(reader::blog))
        .service(web::resource("/blog/{slug}").get(reader::post))
        .service(web::resource("/tags/{slug}").get(reader::tag))
        .service(web::resource("/categories/{slug}").get(reader::category))
        .service(web::resource("/authors/{id}").get(reader::author))
        .service(web::resource("/search").get(reader::search))
        .service(web::resource("/feed.xml").get(feeds::feed))
        .service(web::resource("/sitemap.xml").get(feeds::sitemap))
        .service(web::resource("/robots.txt").get(feeds::robots))
        .service(web::resource("/categories.css").get(feeds::category_styles))
        .service(
            web::resource("/posts")
                .get(writer::list)
                .post(writer::create),
        )
        .service(web::resource("/posts/new").get(writer::new_page))
        .service(web::resource("/posts/{id}/edit").get(writer::edit_page))
        .service(web::resource("/posts/{id}").post(writer::update))
        .service(web::resource("/posts/{id}/status").post(writer::change_status))
        .service(
            web::resource("/posts/{id}/delete")
                .get(writer::delete_page)
                .post(writer::delete),
        )
        .service(
            web::resource("/admin/categories")
                .get(categories::list)
                .post(categories::create),
        )
        .service(
            web::resource("/admin/categories/{id}")
                .get(categories::edit_page)
                .post(categories::update),
        )
        .service(web::resource("/admin/categories/{id}/delete").post(categories::delete));
}

/// Every POST route of this module (the CSRF tests enumerate them).
pub const POST_ROUTES: &[&str] = &[
    "/posts",
    "/posts/00000000-0000-0000-0000-000000000000",
    "/posts/00000000-0000-0000-0000-000000000000/status",
    "/posts/00000000-0000-0000-0000-000000000000/delete",
    "/admin/categories",
    "/admin/categories/00000000-0000-0000-0000-000000000000",
    "/admin/categories/00000000-0000-0000-0000-000000000000/delete",
];

/// Posts on a page of the blog and its lists.
pub const PAGE_SIZE: i64 = 20;

/// "25 Nov 2026".
pub fn day(moment: OffsetDateTime) -> String {
    moment
        .format(time::macros::format_description!(
            "[day padding:none] [month repr:short] [year]"
        ))
        .unwrap_or_default()
}

/// RFC 3339, for `<time datetime>`, feeds and meta tags.
pub fn iso(moment: OffsetDateTime) -> String {
    moment
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A link with a label.
#[derive(Clone, Debug)]
pub struct LinkView {
    /// Text.
    pub label: String,
    /// Where it goes.
    pub url: String,
}

/// A post in a list, ready for a template.
#[derive(Clone, Debug)]
pub struct CardView {
    /// Title.
    pub title: String,
    /// `/blog/<slug>`.
    pub url: String,
    /// Summary.
    pub excerpt: String,
    /// "25 Nov 2026".
    pub date: String,
    /// RFC 3339.
    pub date_iso: String,
    /// The author.
    pub author: LinkView,
    /// The category, with its colour class.
    pub category: Option<(LinkView, String)>,
    /// Tags.
    pub tags: Vec<LinkView>,
    /// Featured on the home page.
    pub featured: bool,
}

/// A tag as a link.
pub fn tag_link(tag: &TagLink) -> LinkView {
    LinkView {
        label: tag.name.clone(),
        url: format!("/tags/{}", tag.slug),
    }
}

impl CardView {
    /// The view of `card`.
    pub fn of(card: &PostCard) -> Self {
        Self {
            title: card.title.clone(),
            url: format!("/blog/{}", card.slug),
            excerpt: card.excerpt.clone(),
            date: day(card.published_at),
            date_iso: iso(card.published_at),
            author: LinkView {
                label: card.author_name.clone(),
                url: format!("/authors/{}", card.author_id),
            },
            category: card.category.as_ref().map(|category| {
                (
                    LinkView {
                        label: category.name.clone(),
                        url: format!("/categories/{}", category.slug),
                    },
                    category_class(category.id),
                )
            }),
            tags: card.tags.iter().map(tag_link).collect(),
            featured: card.featured,
        }
    }
}

/// The class `/categories.css` gives a category's colour.
pub fn category_class(id: super::model::CategoryId) -> String {
    format!("category-{}", id.0.simple())
}

/// Parses a `{id}` path part; anything else is "not found".
fn path_id(text: &str) -> Result<uuid::Uuid, crate::web::failure::PageError> {
    uuid::Uuid::try_parse(text).map_err(|_| crate::web::failure::PageError::NotFound)
}

// A page query reads one row more than a page shows.
const _: () = assert!(super::store::PAGE_ROWS as i64 == PAGE_SIZE + 1);
