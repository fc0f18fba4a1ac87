//! All SQL on `posts`, `categories`, `tags` and `post_tags`.

use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

use super::model::{
    Category, CategoryId, CategoryLink, Cursor, NewPost, OwnPost, Post, PostCard, PostEdit, PostId,
    PostStatus, PostWithTags, PublicPost, Tag, TagId, TagLink,
};
use crate::accounts::model::UserId;
use crate::db::{StoreError, from_json, required};

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
const TAG_PAGE: &str = card_page!(
    "AND EXISTS (SELECT 1 FROM post_tags f WHERE f.post_id = posts.id AND f.tag_id = $3)"
);
const CATEGORY_PAGE: &str = card_page!("AND category_id = $3");
const AUTHOR_PAGE: &str = card_page!("AND user_id = $3");
const FEATURED: &str = concat!(
    card_select!(),
    card_from!(),
    " WHERE p.status = 'published' AND p.featured ORDER BY p.published_at DESC, p.id DESC LIMIT $1"
);
const SEARCH: &str = concat!(
    card_select!(),
    card_from!(),
    " CROSS JOIN websearch_to_tsquery('english', $1) AS q \
      WHERE p.status = 'published' AND p.search_vector @@ q \
      ORDER BY ts_rank(p.search_vector, q) DESC, p.published_at DESC, p.id DESC LIMIT $2 OFFSET $3"
);
/// A published post by slug (public for the benchmark's reference page).
pub const PUBLIC_POST: &str = concat!(
    card_select!(),
    ", coalesce(p.content, '') AS content, p.updated_at",
    card_from!(),
    " WHERE p.slug = $1 AND p.status = 'published'"
);
const FEED: &str = concat!(
    card_select!(),
    ", coalesce(p.content, '') AS content, p.updated_at",
    card_from!(),
    " WHERE p.status = 'published' ORDER BY p.published_at DESC, p.id DESC LIMIT $1"
);
const SITEMAP_POSTS: &str = "SELECT slug, updated_at FROM posts WHERE status = 'published' \
     ORDER BY published_at DESC, id DESC LIMIT $1";
const SITEMAP_TAGS: &str = "SELECT t.slug FROM tags t WHERE EXISTS (SELECT 1 FROM post_tags pt \
     JOIN posts p ON p.id = pt.post_id WHERE pt.tag_id = t.id AND p.status = 'published') ORDER BY t.slug";

const INSERT_POST: &str = "INSERT INTO posts \
     (user_id, title, content, excerpt, slug, status, featured, category_id, published_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $6 = 'published' THEN now() END) \
     RETURNING to_jsonb(posts.*) - 'search_vector' AS post";
const UPDATE_POST: &str = "UPDATE posts SET title = $2, content = $3, excerpt = $4, slug = $5, \
     featured = $6, category_id = $7 WHERE id = $1 \
     RETURNING to_jsonb(posts.*) - 'search_vector' AS post";
const SET_STATUS: &str = "UPDATE posts SET status = $2, \
     published_at = CASE WHEN $2 = 'published' THEN now() ELSE published_at END \
     WHERE id = $1 RETURNING to_jsonb(posts.*) - 'search_vector' AS post";
const DELETE_POST: &str = "DELETE FROM posts WHERE id = $1";
const POST_BY_ID: &str = "SELECT (to_jsonb(p) - 'search_vector') || jsonb_build_object('tags', \
         (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.name), '[]'::jsonb) \
            FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id)) AS post \
     FROM posts p WHERE p.id = $1";
const POST_FOR_UPDATE: &str = "SELECT (to_jsonb(p) - 'search_vector') || jsonb_build_object('tags', \
         (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.name), '[]'::jsonb) \
            FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id)) AS post \
     FROM posts p WHERE p.id = $1 FOR UPDATE OF p";
const POSTS_OF: &str = "SELECT to_jsonb(p) - 'search_vector' AS post FROM posts p WHERE p.user_id = $1 \
     ORDER BY p.created_at DESC, p.id";
const OWN_POSTS: &str = "SELECT p.id, p.title, p.slug, p.status, p.updated_at, \
         coalesce(p.view_count, 0) AS view_count, c.name AS category \
     FROM posts p LEFT JOIN categories c ON c.id = p.category_id \
     WHERE p.user_id = $1 AND ($2::text IS NULL OR p.status = $2) \
       AND ($3::text IS NULL OR p.search_vector @@ websearch_to_tsquery('english', $3) \
            OR p.title ILIKE '%' || $4 || '%') \
     ORDER BY p.updated_at DESC, p.id DESC LIMIT $5 OFFSET $6";
const SLUG_OWNER: &str = "SELECT id FROM posts WHERE slug = $1";
const SLUGS_LIKE: &str = "SELECT slug FROM posts WHERE slug LIKE $1 || '-%'";
const COUNT_VIEWS: &str = "UPDATE posts p SET view_count = coalesce(p.view_count, 0) + v.n \
     FROM unnest($1::uuid[], $2::int4[]) AS v(id, n) WHERE p.id = v.id";

const CREATE_TAG: &str =
    "INSERT INTO tags (name, slug) VALUES ($1, $2) RETURNING to_jsonb(tags.*) AS tag";
/// Locks, in id order, the tags a change of the post's tags touches: its
/// current tags and `$2`. Every writer takes tag locks in this one order, so
/// the usage-count trigger's updates queue instead of deadlocking.
const LOCK_TAGS: &str = "SELECT id FROM tags WHERE id = ANY ($2::uuid[]) \
        OR id IN (SELECT tag_id FROM post_tags WHERE post_id = $1) \
     ORDER BY id FOR NO KEY UPDATE";
const INSERT_TAG: &str = "INSERT INTO tags (name, slug) VALUES ($1, $2) ON CONFLICT DO NOTHING \
     RETURNING to_jsonb(tags.*) AS tag";
const TAG_BY_SLUG_OR_NAME: &str = "SELECT to_jsonb(t) AS tag FROM tags t WHERE t.slug = $1 OR t.name = $2 ORDER BY t.slug = $1 DESC LIMIT 1";
const TAG_BY_SLUG: &str = "SELECT to_jsonb(t) AS tag FROM tags t WHERE t.slug = $1";
/// Links a tag to a post; the `post_tags_count_usage` trigger counts it.
const TAG_POST: &str =
    "INSERT INTO post_tags (post_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
const UNTAG_OTHERS: &str =
    "DELETE FROM post_tags WHERE post_id = $1 AND NOT (tag_id = ANY ($2::uuid[]))";
const TAG_ALL: &str = "INSERT INTO post_tags (post_id, tag_id) SELECT $1, unnest($2::uuid[]) \
     ON CONFLICT DO NOTHING";
const POST_WITH_TAGS: &str = POST_BY_ID;

const INSERT_CATEGORY: &str = "INSERT INTO categories (name, slug, description, color, sort_order, is_active) \
     VALUES ($1, $2, $3, coalesce($4, '#6366f1'), coalesce($5, 0), coalesce($6, true)) \
     RETURNING to_jsonb(categories.*) AS category";
const UPDATE_CATEGORY: &str = "UPDATE categories SET name = $2, slug = $3, description = $4, \
     color = $5, sort_order = $6, is_active = $7 WHERE id = $1 \
     RETURNING to_jsonb(categories.*) AS category";
const DELETE_CATEGORY: &str = "DELETE FROM categories WHERE id = $1";
const CATEGORY_BY_ID: &str = "SELECT to_jsonb(c) AS category FROM categories c WHERE c.id = $1";
const ACTIVE_CATEGORY_BY_SLUG: &str = "SELECT to_jsonb(c) AS category FROM categories c \
     WHERE c.slug = $1 AND coalesce(c.is_active, true)";
const CATEGORIES: &str = "SELECT to_jsonb(c) AS category, \
         (SELECT count(*) FROM posts p WHERE p.category_id = c.id) AS posts \
     FROM categories c WHERE ($1 OR coalesce(c.is_active, true)) \
     ORDER BY coalesce(c.sort_order, 0), c.name";
/// Moves a post's creation and publication back in time (demo data; the
/// status check still holds: a published post keeps a `published_at`).
const BACKDATE_POST: &str = "UPDATE posts SET created_at = $2, published_at = $3 WHERE id = $1";
const AUTHOR: &str = "SELECT u.name, p.bio FROM users u LEFT JOIN user_profiles p ON p.user_id = u.id \
     WHERE u.id = $1 AND EXISTS (SELECT 1 FROM posts WHERE user_id = u.id AND status = 'published')";

/// Every statement of this store, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[
    BLOG_PAGE,
    TAG_PAGE,
    CATEGORY_PAGE,
    AUTHOR_PAGE,
    FEATURED,
    SEARCH,
    PUBLIC_POST,
    FEED,
    SITEMAP_POSTS,
    SITEMAP_TAGS,
    INSERT_POST,
    UPDATE_POST,
    SET_STATUS,
    DELETE_POST,
    POST_BY_ID,
    POST_FOR_UPDATE,
    POSTS_OF,
    OWN_POSTS,
    SLUG_OWNER,
    SLUGS_LIKE,
    COUNT_VIEWS,
    INSERT_TAG,
    CREATE_TAG,
    LOCK_TAGS,
    TAG_BY_SLUG_OR_NAME,
    TAG_BY_SLUG,
    TAG_POST,
    UNTAG_OTHERS,
    TAG_ALL,
    INSERT_CATEGORY,
    UPDATE_CATEGORY,
    DELETE_CATEGORY,
    CATEGORY_BY_ID,
    ACTIVE_CATEGORY_BY_SLUG,
    CATEGORIES,
    AUTHOR,
    BACKDATE_POST,
];

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

/// Published posts matching a web-style query (`"exact phrase"`, `-not`,
/// `or`), best first.
pub async fn search(
    client: &impl GenericClient,
    query: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<PostCard>, StoreError> {
    let statement = client.prepare_cached(SEARCH).await?;
    cards(&client.query(&statement, &[&query, &limit, &offset]).await?)
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

/// Creates a post (published now if created as published).
pub async fn create_post(client: &impl GenericClient, post: &NewPost) -> Result<Post, StoreError> {
    let statement = client.prepare_cached(INSERT_POST).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &post.user_id,
                &post.title,
                &post.content,
                &post.excerpt,
                &post.slug,
                &post.status,
                &post.featured,
                &post.category_id,
            ],
        )
        .await?;
    required(from_json(&row, "post")?)
}

/// Saves an author's edit.
pub async fn update_post(
    client: &impl GenericClient,
    id: PostId,
    edit: &PostEdit,
) -> Result<Post, StoreError> {
    let statement = client.prepare_cached(UPDATE_POST).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &id,
                &edit.title,
                &edit.content,
                &edit.excerpt,
                &edit.slug,
                &edit.featured,
                &edit.category_id,
            ],
        )
        .await?;
    required(from_json(&row, "post")?)
}

/// Moves a post to `status`; publishing sets `published_at` to now.
pub async fn set_status(
    client: &impl GenericClient,
    id: PostId,
    status: PostStatus,
) -> Result<Post, StoreError> {
    let statement = client.prepare_cached(SET_STATUS).await?;
    let row = client.query_one(&statement, &[&id, &status]).await?;
    required(from_json(&row, "post")?)
}

/// Deletes a post (its tag links go with it, and their counts).
pub async fn delete_post(client: &impl GenericClient, id: PostId) -> Result<(), StoreError> {
    lock_tags(client, id, &[]).await?;
    let statement = client.prepare_cached(DELETE_POST).await?;
    client.execute(&statement, &[&id]).await?;
    Ok(())
}

/// A post with its tags, whatever its status.
pub async fn post_with_tags(
    client: &impl GenericClient,
    post_id: PostId,
) -> Result<Option<PostWithTags>, StoreError> {
    let statement = client.prepare_cached(POST_WITH_TAGS).await?;
    match client.query_opt(&statement, &[&post_id]).await? {
        Some(row) => from_json(&row, "post"),
        None => Ok(None),
    }
}

/// A post with its tags, locked until the transaction ends (edits of one
/// post queue instead of overwriting each other's audit "before").
pub async fn post_for_update(
    client: &impl GenericClient,
    post_id: PostId,
) -> Result<Option<PostWithTags>, StoreError> {
    let statement = client.prepare_cached(POST_FOR_UPDATE).await?;
    match client.query_opt(&statement, &[&post_id]).await? {
        Some(row) => from_json(&row, "post"),
        None => Ok(None),
    }
}

/// A user's posts, newest first.
pub async fn posts_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Vec<Post>, StoreError> {
    let statement = client.prepare_cached(POSTS_OF).await?;
    client
        .query(&statement, &[&user_id])
        .await?
        .iter()
        .map(|row| required(from_json(row, "post")?))
        .collect()
}

/// An author's own posts, last changed first, optionally by status and
/// matching `query` (full text, or part of the title).
pub async fn own_posts(
    client: &impl GenericClient,
    user_id: UserId,
    status: Option<PostStatus>,
    query: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<OwnPost>, StoreError> {
    let statement = client.prepare_cached(OWN_POSTS).await?;
    let like = query.map(|query| {
        query
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    });
    client
        .query(
            &statement,
            &[&user_id, &status, &query, &like, &limit, &offset],
        )
        .await?
        .iter()
        .map(|row| {
            Ok(OwnPost {
                id: PostId(row.try_get("id")?),
                title: row.try_get("title")?,
                slug: row.try_get("slug")?,
                status: row.try_get("status")?,
                updated_at: row.try_get("updated_at")?,
                view_count: row.try_get("view_count")?,
                category: row.try_get("category")?,
            })
        })
        .collect()
}

/// The post that has `slug`, if any.
pub async fn slug_owner(
    client: &impl GenericClient,
    slug: &str,
) -> Result<Option<PostId>, StoreError> {
    let statement = client.prepare_cached(SLUG_OWNER).await?;
    Ok(client
        .query_opt(&statement, &[&slug])
        .await?
        .map(|row| row.try_get(0).map(PostId))
        .transpose()?)
}

/// The slugs that start with `slug-`.
pub async fn numbered_slugs(
    client: &impl GenericClient,
    slug: &str,
) -> Result<Vec<String>, StoreError> {
    let statement = client.prepare_cached(SLUGS_LIKE).await?;
    Ok(client
        .query(&statement, &[&slug])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?)
}

/// Adds counted views to posts.
pub async fn count_views(
    client: &impl GenericClient,
    ids: &[uuid::Uuid],
    counts: &[i32],
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(COUNT_VIEWS).await?;
    client.execute(&statement, &[&ids, &counts]).await?;
    Ok(())
}

/// Creates a tag.
pub async fn create_tag(
    client: &impl GenericClient,
    name: &str,
    slug: &str,
) -> Result<Tag, StoreError> {
    let statement = client.prepare_cached(CREATE_TAG).await?;
    let row = client.query_one(&statement, &[&name, &slug]).await?;
    required(from_json(&row, "tag")?)
}

/// The tag with `slug` (or `name`), created if there is none; `true` when
/// this call created it. Safe against a concurrent creation of the same tag.
pub async fn ensure_tag(
    client: &impl GenericClient,
    name: &str,
    slug: &str,
) -> Result<(Tag, bool), StoreError> {
    let statement = client.prepare_cached(INSERT_TAG).await?;
    if let Some(row) = client.query_opt(&statement, &[&name, &slug]).await? {
        return Ok((required(from_json(&row, "tag")?)?, true));
    }
    // Someone else has it (possibly committed a moment ago): a new statement
    // sees it.
    let statement = client.prepare_cached(TAG_BY_SLUG_OR_NAME).await?;
    let row = client.query_one(&statement, &[&slug, &name]).await?;
    Ok((required(from_json(&row, "tag")?)?, false))
}

/// A tag by slug.
pub async fn tag_by_slug(
    client: &impl GenericClient,
    slug: &str,
) -> Result<Option<Tag>, StoreError> {
    let statement = client.prepare_cached(TAG_BY_SLUG).await?;
    match client.query_opt(&statement, &[&slug]).await? {
        Some(row) => from_json(&row, "tag"),
        None => Ok(None),
    }
}

/// Tags a post (once; tagging twice changes nothing).
pub async fn tag_post(
    client: &impl GenericClient,
    post_id: PostId,
    tag_id: TagId,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(TAG_POST).await?;
    client.execute(&statement, &[&post_id, &tag_id]).await?;
    Ok(())
}

async fn lock_tags(
    client: &impl GenericClient,
    post_id: PostId,
    extra: &[uuid::Uuid],
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(LOCK_TAGS).await?;
    client.query(&statement, &[&post_id, &extra]).await?;
    Ok(())
}

/// Makes `tags` the post's exact tag set.
pub async fn set_post_tags(
    client: &impl GenericClient,
    post_id: PostId,
    tags: &[TagId],
) -> Result<(), StoreError> {
    let ids: Vec<uuid::Uuid> = tags.iter().map(|tag| tag.0).collect();
    lock_tags(client, post_id, &ids).await?;
    let statement = client.prepare_cached(UNTAG_OTHERS).await?;
    client.execute(&statement, &[&post_id, &ids]).await?;
    let statement = client.prepare_cached(TAG_ALL).await?;
    client.execute(&statement, &[&post_id, &ids]).await?;
    Ok(())
}

/// What creating or editing a category takes.
#[derive(Clone, Debug)]
pub struct CategoryFields {
    /// Display name.
    pub name: String,
    /// URL part.
    pub slug: String,
    /// What it holds.
    pub description: Option<String>,
    /// `#rrggbb`.
    pub color: String,
    /// Position in lists.
    pub sort_order: i32,
    /// Shown to readers.
    pub is_active: bool,
}

/// Creates a category.
pub async fn create_category(
    client: &impl GenericClient,
    name: &str,
    slug: &str,
    description: Option<&str>,
) -> Result<Category, StoreError> {
    insert_category(
        client,
        &CategoryFields {
            name: name.to_owned(),
            slug: slug.to_owned(),
            description: description.map(str::to_owned),
            color: "#6366f1".to_owned(),
            sort_order: 0,
            is_active: true,
        },
    )
    .await
}

/// Creates a category with every field.
pub async fn insert_category(
    client: &impl GenericClient,
    fields: &CategoryFields,
) -> Result<Category, StoreError> {
    let statement = client.prepare_cached(INSERT_CATEGORY).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &fields.name,
                &fields.slug,
                &fields.description,
                &Some(&fields.color),
                &Some(fields.sort_order),
                &Some(fields.is_active),
            ],
        )
        .await?;
    required(from_json(&row, "category")?)
}

/// Saves a category.
pub async fn update_category(
    client: &impl GenericClient,
    id: CategoryId,
    fields: &CategoryFields,
) -> Result<Option<Category>, StoreError> {
    let statement = client.prepare_cached(UPDATE_CATEGORY).await?;
    match client
        .query_opt(
            &statement,
            &[
                &id,
                &fields.name,
                &fields.slug,
                &fields.description,
                &fields.color,
                &fields.sort_order,
                &fields.is_active,
            ],
        )
        .await?
    {
        Some(row) => from_json(&row, "category"),
        None => Ok(None),
    }
}

/// Deletes a category; its posts lose the link.
pub async fn delete_category(
    client: &impl GenericClient,
    id: CategoryId,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(DELETE_CATEGORY).await?;
    client.execute(&statement, &[&id]).await?;
    Ok(())
}

/// A category by id.
pub async fn category_by_id(
    client: &impl GenericClient,
    id: CategoryId,
) -> Result<Option<Category>, StoreError> {
    let statement = client.prepare_cached(CATEGORY_BY_ID).await?;
    match client.query_opt(&statement, &[&id]).await? {
        Some(row) => from_json(&row, "category"),
        None => Ok(None),
    }
}

/// An active category by slug.
pub async fn active_category_by_slug(
    client: &impl GenericClient,
    slug: &str,
) -> Result<Option<Category>, StoreError> {
    let statement = client.prepare_cached(ACTIVE_CATEGORY_BY_SLUG).await?;
    match client.query_opt(&statement, &[&slug]).await? {
        Some(row) => from_json(&row, "category"),
        None => Ok(None),
    }
}

/// Categories in their order with their post counts; inactive ones only
/// when `include_inactive`.
pub async fn categories(
    client: &impl GenericClient,
    include_inactive: bool,
) -> Result<Vec<(Category, i64)>, StoreError> {
    let statement = client.prepare_cached(CATEGORIES).await?;
    client
        .query(&statement, &[&include_inactive])
        .await?
        .iter()
        .map(|row| {
            Ok((
                required(from_json(row, "category")?)?,
                row.try_get("posts")?,
            ))
        })
        .collect()
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

/// Sets when a post was written and published (`None` for never).
pub async fn backdate_post(
    client: &impl GenericClient,
    id: PostId,
    created_at: time::OffsetDateTime,
    published_at: Option<time::OffsetDateTime>,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(BACKDATE_POST).await?;
    client
        .execute(&statement, &[&id, &created_at, &published_at])
        .await?;
    Ok(())
}
