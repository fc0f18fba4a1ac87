//! SQL on `tags` and `post_tags`.

use deadpool_postgres::GenericClient;

use crate::content::model::{PostId, Tag, TagId};
use crate::db::{StoreError, from_json, required};

pub(super) const CREATE_TAG: &str =
    "INSERT INTO tags (name, slug) VALUES ($1, $2) RETURNING to_jsonb(tags.*) AS tag";

/// Locks, in id order, the tags a change of the post's tags touches: its
/// current tags and `$2`. Every writer takes tag locks in this one order, so
/// the usage-count trigger's updates queue instead of deadlocking.
pub(super) const LOCK_TAGS: &str = "SELECT id FROM tags WHERE id = ANY ($2::uuid[]) \
        OR id IN (SELECT tag_id FROM post_tags WHERE post_id = $1) \
     ORDER BY id FOR NO KEY UPDATE";

pub(super) const INSERT_TAG: &str = "INSERT INTO tags (name, slug) VALUES ($1, $2) ON CONFLICT DO NOTHING \
     RETURNING to_jsonb(tags.*) AS tag";
pub(super) const TAG_BY_SLUG_OR_NAME: &str = "SELECT to_jsonb(t) AS tag FROM tags t WHERE t.slug = $1 OR t.name = $2 ORDER BY t.slug = $1 DESC LIMIT 1";
pub(super) const TAG_BY_SLUG: &str = "SELECT to_jsonb(t) AS tag FROM tags t WHERE t.slug = $1";

/// Links a tag to a post; the `post_tags_count_usage` trigger counts it.
pub(super) const TAG_POST: &str =
    "INSERT INTO post_tags (post_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";

pub(super) const UNTAG_OTHERS: &str =
    "DELETE FROM post_tags WHERE post_id = $1 AND NOT (tag_id = ANY ($2::uuid[]))";
pub(super) const TAG_ALL: &str = "INSERT INTO post_tags (post_id, tag_id) SELECT $1, unnest($2::uuid[]) \
     ON CONFLICT DO NOTHING";

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

pub(super) async fn lock_tags(
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
