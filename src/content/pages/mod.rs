//! Content pages: the writers' desk (`/posts`), the public blog and its
//! feeds, and the admins' categories. Handlers parse input, call the rules
//! of [`super::writing`] and [`super::categories`] inside one transaction
//! (or the store, to read), and render or redirect.

mod categories;
mod feeds;
mod reader;
mod search;
mod writer;

use crate::web::local_time::LocalTimes;
use time::OffsetDateTime;

use super::model::{PostCard, TagLink};
use super::paths;

pub use reader::{featured_cards, latest_cards};

crate::web::routes::route_table! {
    pub fn routes, pub const ROUTES = [
        paths::BLOG, Public => { get: reader::blog },
        paths::POST, Public => { get: reader::post },
        paths::TAG, Public => { get: reader::tag },
        paths::CATEGORY, Public => { get: reader::category },
        paths::AUTHOR, Public => { get: reader::author },
        paths::SEARCH, Public => { get: search::search },
        paths::FEED, Public => { get: feeds::feed },
        paths::SITEMAP, Public => { get: feeds::sitemap },
        paths::ROBOTS, Public => { get: feeds::robots },
        paths::CATEGORY_STYLES, Public => { get: feeds::category_styles },
        paths::POSTS, Member => { get: writer::list, post: writer::create },
        paths::NEW_POST, Member => { get: writer::new_page },
        paths::EDIT_POST, Member => { get: writer::edit_page },
        paths::UPDATE_POST, Member => { post: writer::update },
        paths::POST_STATUS, Member => { post: writer::change_status },
        paths::DELETE_POST, Member => { get: writer::delete_page, post: writer::delete },
        paths::ADMIN_CATEGORIES, Admin => { get: categories::list, post: categories::create },
        paths::ADMIN_CATEGORY, Admin => { get: categories::edit_page, post: categories::update },
        paths::DELETE_CATEGORY, Admin => { post: categories::delete },
    ]
}

/// Posts on a page of the blog and its lists.
pub const PAGE_SIZE: i64 = 20;

/// RFC 3339 to the second, for `<time datetime>`, feeds and meta tags.
/// PostgreSQL keeps microseconds; HTML allows at most three digits of a
/// second in `datetime`, and nobody reads a post's time finer than that.
pub fn iso(moment: OffsetDateTime) -> String {
    moment
        .replace_nanosecond(0)
        .unwrap_or(moment)
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
    /// Search results only: the title with its matches marked, as HTML
    /// built by [`crate::content::search::Highlighted`].
    pub title_html: Option<String>,
    /// Search results only: the body's matching words in context, as HTML
    /// built by [`crate::content::search::Highlighted`].
    pub snippet_html: Option<String>,
}

/// A tag as a link.
pub fn tag_link(tag: &TagLink) -> LinkView {
    LinkView {
        label: tag.name.clone(),
        url: format!("/tags/{}", tag.slug),
    }
}

impl CardView {
    /// The view of `card`, its date in the zone of `times`.
    pub fn of(card: &PostCard, times: &LocalTimes) -> Self {
        Self {
            title: card.title.clone(),
            url: format!("/blog/{}", card.slug),
            excerpt: card.excerpt.clone(),
            date: times.day(card.published_at),
            date_iso: times.machine(card.published_at),
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
            title_html: None,
            snippet_html: None,
        }
    }
}

/// The class `/categories.css` gives a category's colour.
pub fn category_class(id: super::model::CategoryId) -> String {
    format!("category-{}", id.0.simple())
}

// A page query reads one row more than a page shows.
const _: () = assert!(super::store::PAGE_ROWS as i64 == PAGE_SIZE + 1);

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    #[test]
    fn iso_is_rfc3339_to_the_second() {
        assert_eq!(
            super::iso(datetime!(2026-11-25 09:30:15.123456 UTC)),
            "2026-11-25T09:30:15Z"
        );
        assert_eq!(
            super::iso(datetime!(2026-11-25 09:30:15 +01:00)),
            "2026-11-25T09:30:15+01:00"
        );
    }
}
