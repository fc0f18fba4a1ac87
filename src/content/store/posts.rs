//! SQL on `posts`: writing, editing, publishing and finding an author's
//! posts, slugs and view counts.

use deadpool_postgres::GenericClient;

use super::tags::lock_tags;
use crate::accounts::model::UserId;
use crate::content::model::{NewPost, OwnPost, Post, PostEdit, PostId, PostStatus, PostWithTags};
use crate::db::{StoreError, from_json, required};

pub(super) const INSERT_POST: &str = "INSERT INTO posts \
     (user_id, title, content, excerpt, slug, status, featured, category_id, published_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $6 = 'published' THEN now() END) \
     RETURNING to_jsonb(posts.*) - 'search_vector' AS post";
pub(super) const UPDATE_POST: &str = "UPDATE posts SET title = $2, content = $3, excerpt = $4, slug = $5, \
     featured = $6, category_id = $7 WHERE id = $1 \
     RETURNING to_jsonb(posts.*) - 'search_vector' AS post";
pub(super) const SET_STATUS: &str = "UPDATE posts SET status = $2, \
     published_at = CASE WHEN $2 = 'published' THEN now() ELSE published_at END \
     WHERE id = $1 RETURNING to_jsonb(posts.*) - 'search_vector' AS post";
pub(super) const DELETE_POST: &str = "DELETE FROM posts WHERE id = $1";
pub(super) const POST_BY_ID: &str = "SELECT (to_jsonb(p) - 'search_vector') || jsonb_build_object('tags', \
         (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.name), '[]'::jsonb) \
            FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id)) AS post \
     FROM posts p WHERE p.id = $1";
pub(super) const POST_FOR_UPDATE: &str = "SELECT (to_jsonb(p) - 'search_vector') || jsonb_build_object('tags', \
         (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.name), '[]'::jsonb) \
            FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id)) AS post \
     FROM posts p WHERE p.id = $1 FOR UPDATE OF p";
pub(super) const POSTS_OF: &str = "SELECT to_jsonb(p) - 'search_vector' AS post FROM posts p WHERE p.user_id = $1 \
     ORDER BY p.created_at DESC, p.id";
pub(super) const OWN_POSTS: &str = "SELECT p.id, p.title, p.slug, p.status, p.updated_at, \
         coalesce(p.view_count, 0) AS view_count, c.name AS category \
     FROM posts p LEFT JOIN categories c ON c.id = p.category_id \
     WHERE p.user_id = $1 AND ($2::text IS NULL OR p.status = $2) \
       AND ($3::text IS NULL OR p.search_vector @@ websearch_to_tsquery('english', $3) \
            OR p.title ILIKE '%' || $4 || '%') \
     ORDER BY p.updated_at DESC, p.id DESC LIMIT $5 OFFSET $6";
pub(super) const SLUG_OWNER: &str = "SELECT id FROM posts WHERE slug = $1";
pub(super) const SLUGS_LIKE: &str = "SELECT slug FROM posts WHERE slug LIKE $1 || '-%'";
pub(super) const COUNT_VIEWS: &str = "UPDATE posts p SET view_count = coalesce(p.view_count, 0) + v.n \
     FROM unnest($1::uuid[], $2::int4[]) AS v(id, n) WHERE p.id = v.id";
pub(super) const POST_WITH_TAGS: &str = POST_BY_ID;

/// Moves a post's creation and publication back in time (demo data; the
/// status check still holds: a published post keeps a `published_at`).
pub(super) const BACKDATE_POST: &str =
    "UPDATE posts SET created_at = $2, published_at = $3 WHERE id = $1";

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
