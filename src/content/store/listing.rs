//! What readers see: pages of published post cards (all, by tag, category
//! or author), featured posts, search, a post by slug, the feed, the sitemap
//! and author cards.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use crate::accounts::model::UserId;
use crate::content::model::{
    CategoryId, CategoryLink, Cursor, PostCard, PostId, PublicPost, TagId, TagLink,
};
use crate::db::StoreError;

/// The columns of a post card, from `posts p`, `users u` and the active
/// category `c` (see `card_from`).
macro_rules! card_select {
    () => {
        "SELECT p.id, p.title, p.slug, coalesce(p.excerpt, '') AS excerpt, p.published_at, \
                coalesce(p.featured, false) AS featured, p.user_id, \
                (SELECT u.name FROM users u WHERE u.id = p.user_id) AS author_name, \
                c.id AS category_id, c.name AS category_name, c.slug AS category_slug, \
                (SELECT coalesce(jsonb_agg(jsonb_build_object('name', t.name, 'slug', t.slug) ORDER BY t.name), '[]'::jsonb) \
                   FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id) AS tags"
    };
}

/// The author and the category are looked up per row (by primary key), so
/// a page of 21 posts never hashes the users table and the planner has one
/// join order to consider.
macro_rules! card_joins {
    () => {
        " LEFT JOIN LATERAL (SELECT id, name, slug FROM categories \
              WHERE id = p.category_id AND coalesce(is_active, true)) c ON true"
    };
}

macro_rules! card_from {
    () => {
        concat!(" FROM posts p", card_joins!())
    };
}

/// A newest-first page after a cursor ($1, $2), 21 rows (a page of 20 and
/// whether there is a next one), with a filter. The row count is part of
/// the SQL, not a parameter: then PostgreSQL's generic plan for the
/// prepared statement is as cheap as a custom one, and after five runs it
/// stops planning each request (about 0.8 ms of the 2 ms this query took).
/// The page's rows are chosen first, from the ordered index alone, then
/// joined: a plan that can only read `$3` index entries, whatever the
/// parameters (prepared statements reuse a generic plan).
macro_rules! card_page {
    ($filter:literal) => {
        concat!(
            card_select!(),
            " FROM (SELECT * FROM posts WHERE status = 'published' AND (published_at, id) < ($1, $2) ",
            $filter,
            " ORDER BY published_at DESC, id DESC LIMIT 21) p",
            card_joins!(),
            " ORDER BY p.published_at DESC, p.id DESC"
        )
    };
}

/// The blog's first and later pages (public: the benchmark's reference page
/// runs the same statement).
pub const BLOG_PAGE: &str = card_page!("");

pub(super) const TAG_PAGE: &str = card_page!(
    "AND EXISTS (SELECT 1 FROM post_tags f WHERE f.post_id = posts.id AND f.tag_id = $3)"
);
pub(super) const CATEGORY_PAGE: &str = card_page!("AND category_id = $3");
pub(super) const AUTHOR_PAGE: &str = card_page!("AND user_id = $3");
pub(super) const FEATURED: &str = concat!(
    card_select!(),
    card_from!(),
    " WHERE p.status = 'published' AND p.featured ORDER BY p.published_at DESC, p.id DESC LIMIT $1"
);
/// Published posts matching a `to_tsquery` text ($1), best first: a title
/// match (weight A) outranks tags and category (B), which outrank the body
/// (C); ties newest first. The page's rows are ranked and chosen from the
/// GIN index first, then joined; `content` is for the snippets.
///
/// `OFFSET 0` keeps the query a subquery the planner cannot see into: seen
/// as a constant, a prefix term's match count is overestimated and, on a
/// compact table, a sequential scan that unpacks every post's vector
/// looks cheaper than the index (28 ms instead of 1 ms for "rust" on the
/// 10,000-post benchmark set).
pub const SEARCH: &str = concat!(
    card_select!(),
    ", p.content",
    " FROM (SELECT posts.id, title, slug, excerpt, published_at, featured, user_id, category_id, \
                   coalesce(content, '') AS content, \
                   ts_rank('{0.05, 0.2, 0.5, 1.0}'::real[], search_vector, q) AS rank \
              FROM posts, (SELECT to_tsquery('english', $1) || to_tsquery('simple', $1) OFFSET 0) AS query(q) \
             WHERE status = 'published' AND search_vector @@ q \
             ORDER BY rank DESC, published_at DESC, posts.id DESC LIMIT $2 OFFSET $3) p",
    card_joins!(),
    " ORDER BY p.rank DESC, p.published_at DESC, p.id DESC"
);

/// A published post by slug (public for the benchmark's reference page).
pub const PUBLIC_POST: &str = concat!(
    card_select!(),
    ", coalesce(p.content, '') AS content, p.updated_at",
    card_from!(),
    " WHERE p.slug = $1 AND p.status = 'published'"
);

pub(super) const FEED: &str = concat!(
    card_select!(),
    ", coalesce(p.content, '') AS content, p.updated_at",
    card_from!(),
    " WHERE p.status = 'published' ORDER BY p.published_at DESC, p.id DESC LIMIT $1"
);
pub(super) const SITEMAP_POSTS: &str = "SELECT slug, updated_at FROM posts WHERE status = 'published' \
     ORDER BY published_at DESC, id DESC LIMIT $1";
pub(super) const SITEMAP_TAGS: &str = "SELECT t.slug FROM tags t WHERE EXISTS (SELECT 1 FROM post_tags pt \
     JOIN posts p ON p.id = pt.post_id WHERE pt.tag_id = t.id AND p.status = 'published') ORDER BY t.slug";
pub(super) const AUTHOR: &str = "SELECT u.name, p.bio FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id \
     WHERE u.id = $1 AND EXISTS (SELECT 1 FROM posts WHERE user_id = u.id AND status = 'published')";

fn card(row: &Row) -> Result<PostCard, StoreError> {
    let tags: serde_json::Value = row.try_get("tags")?;
    let tags: Vec<TagLink> = serde_json::from_value(tags).map_err(|error| StoreError::Decode {
        column: "tags".to_owned(),
        message: error.to_string(),
    })?;
    let category = match row.try_get::<_, Option<uuid::Uuid>>("category_id")? {
        Some(id) => Some(CategoryLink {
            id: CategoryId(id),
            name: row.try_get("category_name")?,
            slug: row.try_get("category_slug")?,
        }),
        None => None,
    };
    Ok(PostCard {
        id: PostId(row.try_get("id")?),
        title: row.try_get("title")?,
        slug: row.try_get("slug")?,
        excerpt: row.try_get("excerpt")?,
        published_at: row.try_get("published_at")?,
        featured: row.try_get("featured")?,
        author_id: UserId(row.try_get("user_id")?),
        author_name: row.try_get("author_name")?,
        category,
        tags,
    })
}

fn cards(rows: &[Row]) -> Result<Vec<PostCard>, StoreError> {
    rows.iter().map(card).collect()
}

/// Which published posts a list shows.
#[derive(Clone, Copy, Debug)]
pub enum Listing {
    /// All of them.
    All,
    /// Those with a tag.
    Tag(TagId),
    /// Those in a category.
    Category(CategoryId),
    /// Those by an author.
    Author(UserId),
}

/// Rows of a page query: a page and one more.
pub const PAGE_ROWS: usize = 21;

/// Up to [`PAGE_ROWS`] published posts of `listing` after `cursor`, newest
/// first.
pub async fn published_page(
    client: &impl GenericClient,
    listing: Listing,
    cursor: Cursor,
) -> Result<Vec<PostCard>, StoreError> {
    let (after, id) = (cursor.published_at, cursor.id);
    let rows = match listing {
        Listing::All => {
            let statement = client.prepare_cached(BLOG_PAGE).await?;
            client.query(&statement, &[&after, &id]).await?
        }
        Listing::Tag(tag) => {
            let statement = client.prepare_cached(TAG_PAGE).await?;
            client.query(&statement, &[&after, &id, &tag]).await?
        }
        Listing::Category(category) => {
            let statement = client.prepare_cached(CATEGORY_PAGE).await?;
            client.query(&statement, &[&after, &id, &category]).await?
        }
        Listing::Author(author) => {
            let statement = client.prepare_cached(AUTHOR_PAGE).await?;
            client.query(&statement, &[&after, &id, &author]).await?
        }
    };
    cards(&rows)
}

/// The newest featured published posts.
pub async fn featured(
    client: &impl GenericClient,
    limit: i64,
) -> Result<Vec<PostCard>, StoreError> {
    let statement = client.prepare_cached(FEATURED).await?;
    cards(&client.query(&statement, &[&limit]).await?)
}

/// Published posts matching the `to_tsquery` text `tsquery`, best first,
/// each with its Markdown body.
pub async fn search(
    client: &impl GenericClient,
    tsquery: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<(PostCard, String)>, StoreError> {
    let statement = client.prepare_cached(SEARCH).await?;
    client
        .query(&statement, &[&tsquery, &limit, &offset])
        .await?
        .iter()
        .map(|row| Ok((card(row)?, row.try_get("content")?)))
        .collect()
}

fn public_post(row: &Row) -> Result<PublicPost, StoreError> {
    Ok(PublicPost {
        card: card(row)?,
        content: row.try_get("content")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A published post by slug.
pub async fn published_by_slug(
    client: &impl GenericClient,
    slug: &str,
) -> Result<Option<PublicPost>, StoreError> {
    let statement = client.prepare_cached(PUBLIC_POST).await?;
    client
        .query_opt(&statement, &[&slug])
        .await?
        .as_ref()
        .map(public_post)
        .transpose()
}

/// The newest published posts with their bodies, for the feed.
pub async fn feed(client: &impl GenericClient, limit: i64) -> Result<Vec<PublicPost>, StoreError> {
    let statement = client.prepare_cached(FEED).await?;
    client
        .query(&statement, &[&limit])
        .await?
        .iter()
        .map(public_post)
        .collect()
}

/// (slug, last change) of published posts, newest first, and the slugs of
/// tags on published posts.
pub async fn sitemap(
    client: &impl GenericClient,
    limit: i64,
) -> Result<(Vec<(String, time::OffsetDateTime)>, Vec<String>), StoreError> {
    let statement = client.prepare_cached(SITEMAP_POSTS).await?;
    let posts = client
        .query(&statement, &[&limit])
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let statement = client.prepare_cached(SITEMAP_TAGS).await?;
    let tags = client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<Vec<String>, _>>()?;
    Ok((posts, tags))
}

/// An author's name and bio, when they have published something.
pub async fn author(
    client: &impl GenericClient,
    id: UserId,
) -> Result<Option<(String, Option<String>)>, StoreError> {
    let statement = client.prepare_cached(AUTHOR).await?;
    Ok(client
        .query_opt(&statement, &[&id])
        .await?
        .map(|row| Ok::<_, tokio_postgres::Error>((row.try_get(0)?, row.try_get(1)?)))
        .transpose()?)
}
