//! All SQL on `posts`, `categories`, `tags` and `post_tags`.

use deadpool_postgres::GenericClient;

use super::model::{Category, NewPost, Post, PostId, PostWithTags, Tag, TagId};
use crate::accounts::model::UserId;
use crate::db::{StoreError, from_json, required};

const INSERT_POST: &str = "INSERT INTO posts (user_id, title, content, slug, status, published_at) \
     VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'published' THEN now() END) \
     RETURNING to_jsonb(posts.*) AS post";
const POSTS_OF: &str = "SELECT to_jsonb(p) AS post FROM posts p WHERE p.user_id = $1 \
     ORDER BY p.created_at DESC, p.id";
const INSERT_TAG: &str =
    "INSERT INTO tags (name, slug) VALUES ($1, $2) RETURNING to_jsonb(tags.*) AS tag";
/// Links a tag to a post and counts the use in the same statement, so
/// `tags.usage_count` stays exact.
const TAG_POST: &str = "WITH linked AS ( \
         INSERT INTO post_tags (post_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING tag_id) \
     UPDATE tags SET usage_count = coalesce(usage_count, 0) + 1 WHERE id IN (SELECT tag_id FROM linked)";
const POST_WITH_TAGS: &str = "SELECT to_jsonb(p) || jsonb_build_object('tags', \
         (SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.name), '[]'::jsonb) \
            FROM post_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id)) AS post \
     FROM posts p WHERE p.id = $1";
const INSERT_CATEGORY: &str = "INSERT INTO categories (name, slug, description) VALUES ($1, $2, $3) \
     RETURNING to_jsonb(categories.*) AS category";

/// Every statement of this store, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[
    INSERT_POST,
    POSTS_OF,
    INSERT_TAG,
    TAG_POST,
    POST_WITH_TAGS,
    INSERT_CATEGORY,
];

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
                &post.slug,
                &post.status,
            ],
        )
        .await?;
    required(from_json(&row, "post")?)
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

/// Creates a tag.
pub async fn create_tag(
    client: &impl GenericClient,
    name: &str,
    slug: &str,
) -> Result<Tag, StoreError> {
    let statement = client.prepare_cached(INSERT_TAG).await?;
    let row = client.query_one(&statement, &[&name, &slug]).await?;
    required(from_json(&row, "tag")?)
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

/// A post with its tags.
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

/// Creates a category.
pub async fn create_category(
    client: &impl GenericClient,
    name: &str,
    slug: &str,
    description: Option<&str>,
) -> Result<Category, StoreError> {
    let statement = client.prepare_cached(INSERT_CATEGORY).await?;
    let row = client
        .query_one(&statement, &[&name, &slug, &description])
        .await?;
    required(from_json(&row, "category")?)
}
