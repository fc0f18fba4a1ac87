//! The rules of writing posts: creating and editing one, moving it through
//! its statuses, deleting it. Each function works inside the caller's
//! transaction and writes its audit rows there, so the writer's pages, the
//! command line and the demo data keep the same rules.
//!
//! A refusal is an outcome, not an error. After one the caller drops the
//! transaction: nothing written before the refusal should stay, and after a
//! unique violation PostgreSQL has aborted the transaction anyway. Errors
//! are the database's.

use deadpool_postgres::{GenericClient, Transaction};

use crate::accounts::model::{Role, User};
use crate::audit::{self, Actor, AuditAction, AuditEntity};
use crate::content::model::{
    CategoryId, NewPost, Post, PostEdit, PostId, PostStatus, PostWithTags, Tag, TagId,
};
use crate::content::post_form::{Draft, TagInput};
use crate::content::slug::Slug;
use crate::content::store;
use crate::db::StoreError;

/// The plan feature that lets a writer feature posts on the home page.
pub const FEATURED_POSTS: &str = "Featured posts";

/// The unique index on `posts.slug`.
const SLUG_INDEX: &str = "posts_slug_idx";

/// Why a draft can't be saved as it is: what only the database knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The chosen category is gone or no longer shown to readers.
    CategoryUnavailable,
    /// Featuring comes with plans that include [`FEATURED_POSTS`].
    FeaturingNeedsPlan,
    /// Another post has the slug the author typed; `suggestion` is free.
    SlugUnavailable {
        /// The slug typed.
        slug: Slug,
        /// The first free numbered form of it.
        suggestion: Slug,
    },
}

/// What saving a draft came to.
#[derive(Clone, Debug)]
pub enum Saved {
    /// Saved with its audit row: the post as it is now.
    Saved(Box<PostWithTags>),
    /// Not saved: what is wrong, at most one problem a field.
    Refused(Vec<Problem>),
    /// Another post took the chosen slug between the check and the write.
    SlugTaken,
}

/// What a status change came to.
#[derive(Clone, Debug)]
pub enum StatusChange {
    /// Changed with its audit row: the post as it is now.
    Changed(Box<PostWithTags>),
    /// Publishing needs a confirmed email address.
    Unconfirmed,
    /// No such post, or not one the user may edit.
    NotFound,
    /// Posts go from draft to published to archived, and back to draft.
    NotAllowed {
        /// The post's status.
        from: PostStatus,
        /// The status asked for.
        to: PostStatus,
    },
}

/// Whether `user` may edit `post`: its author, or an admin.
pub fn may_edit(user: &User, post: &Post) -> bool {
    post.user_id == user.id || user.role == Role::Admin
}

/// Whether a post may move from `from` to `to`: draft -> published ->
/// archived, and back to draft from either.
pub fn transition_allowed(from: PostStatus, to: PostStatus) -> bool {
    matches!(
        (from, to),
        (PostStatus::Draft, PostStatus::Published)
            | (PostStatus::Published, PostStatus::Archived)
            | (
                PostStatus::Published | PostStatus::Archived,
                PostStatus::Draft
            )
    )
}

/// The post `id` with its tags, locked until the transaction ends, if
/// `user` may edit it. `None` whether it is missing or someone else's, so
/// ids of other people's drafts reveal nothing.
pub async fn post_to_edit(
    transaction: &Transaction<'_>,
    id: PostId,
    user: &User,
) -> Result<Option<PostWithTags>, StoreError> {
    Ok(store::post_for_update(transaction, id)
        .await?
        .filter(|post| may_edit(user, &post.post)))
}

/// Creates `draft` as a draft post of `author`, with its new tags and their
/// audit rows: refused when its category is unavailable, when featuring
/// needs a plan the author lacks, or when the slug typed is taken. A slug
/// derived from the title is numbered instead ("title-2").
pub async fn create_post(
    transaction: &Transaction<'_>,
    actor: &Actor,
    author: &User,
    draft: &Draft,
) -> Result<Saved, StoreError> {
    let mut problems = Vec::new();
    if !category_is_active(transaction, draft.category).await? {
        problems.push(Problem::CategoryUnavailable);
    }
    if draft.featured && !may_feature(transaction, author).await? {
        problems.push(Problem::FeaturingNeedsPlan);
    }
    let slug = choose_slug(transaction, draft, None, &mut problems).await?;
    let Some(slug) = slug.filter(|_| problems.is_empty()) else {
        return Ok(Saved::Refused(problems));
    };
    let created = store::create_post(
        transaction,
        &NewPost {
            user_id: author.id,
            title: draft.title.clone(),
            content: Some(draft.content.clone()),
            excerpt: Some(draft.excerpt_or_derived()),
            slug: slug.into_string(),
            status: PostStatus::Draft,
            featured: draft.featured,
            category_id: draft.category,
        },
    )
    .await;
    let post = match created {
        Ok(post) => post,
        Err(error) if error.constraint() == Some(SLUG_INDEX) => return Ok(Saved::SlugTaken),
        Err(error) => return Err(error),
    };
    let tags = tags_for(transaction, actor, &draft.tags).await?;
    let tag_ids: Vec<TagId> = tags.iter().map(|tag| tag.id).collect();
    store::set_post_tags(transaction, post.id, &tag_ids).await?;
    let post = PostWithTags { post, tags };
    audit::store::record(
        transaction,
        &actor.entry(
            AuditAction::Create,
            AuditEntity::Posts,
            Some(post.post.id.0),
            audit::created(&post),
        ),
    )
    .await?;
    Ok(Saved::Saved(Box::new(post)))
}

/// Saves `draft` over `before` (as [`post_to_edit`] locked it) for `user`,
/// with an audit row of what changed (none when nothing did). The category
/// and featuring are checked only when they change, so a post keeps what
/// it had.
pub async fn update_post(
    transaction: &Transaction<'_>,
    actor: &Actor,
    user: &User,
    before: &PostWithTags,
    draft: &Draft,
) -> Result<Saved, StoreError> {
    let id = before.post.id;
    let mut problems = Vec::new();
    if draft.category != before.post.category_id
        && !category_is_active(transaction, draft.category).await?
    {
        problems.push(Problem::CategoryUnavailable);
    }
    if draft.featured
        && !before.post.featured.unwrap_or(false)
        && !may_feature(transaction, user).await?
    {
        problems.push(Problem::FeaturingNeedsPlan);
    }
    let slug = choose_slug(transaction, draft, Some(id), &mut problems).await?;
    let Some(slug) = slug.filter(|_| problems.is_empty()) else {
        return Ok(Saved::Refused(problems));
    };
    let edit = PostEdit {
        title: draft.title.clone(),
        content: draft.content.clone(),
        excerpt: draft.excerpt_or_derived(),
        slug: slug.into_string(),
        featured: draft.featured,
        category_id: draft.category,
    };
    let tags = tags_for(transaction, actor, &draft.tags).await?;
    let after = PostWithTags {
        post: before.post.edited(&edit),
        tags,
    };
    let changes = audit::changed(before, &after);
    if changes.is_empty() {
        return Ok(Saved::Saved(Box::new(after)));
    }
    match store::update_post(transaction, id, &edit).await {
        Ok(_) => {}
        Err(error) if error.constraint() == Some(SLUG_INDEX) => return Ok(Saved::SlugTaken),
        Err(error) => return Err(error),
    }
    let tag_ids: Vec<TagId> = after.tags.iter().map(|tag| tag.id).collect();
    store::set_post_tags(transaction, id, &tag_ids).await?;
    audit::store::record(
        transaction,
        &actor.entry(AuditAction::Update, AuditEntity::Posts, Some(id.0), changes),
    )
    .await?;
    Ok(Saved::Saved(Box::new(after)))
}

/// Moves the post `id` to `to` for `user`, with its audit row.
pub async fn change_status(
    transaction: &Transaction<'_>,
    actor: &Actor,
    user: &User,
    id: PostId,
    to: PostStatus,
) -> Result<StatusChange, StoreError> {
    // Sessions belong to confirmed accounts only; publishing states it again.
    if to == PostStatus::Published && !user.email_verified {
        return Ok(StatusChange::Unconfirmed);
    }
    let Some(before) = post_to_edit(transaction, id, user).await? else {
        return Ok(StatusChange::NotFound);
    };
    if !transition_allowed(before.post.status, to) {
        return Ok(StatusChange::NotAllowed {
            from: before.post.status,
            to,
        });
    }
    let after = PostWithTags {
        post: store::set_status(transaction, id, to).await?,
        tags: before.tags.clone(),
    };
    audit::store::record(
        transaction,
        &actor.entry(
            AuditAction::Update,
            AuditEntity::Posts,
            Some(id.0),
            audit::changed(&before, &after),
        ),
    )
    .await?;
    Ok(StatusChange::Changed(Box::new(after)))
}

/// Deletes the post `id` for `user`, with its audit row: the post as it
/// was, or `None` when there is no such post `user` may edit.
pub async fn delete_post(
    transaction: &Transaction<'_>,
    actor: &Actor,
    user: &User,
    id: PostId,
) -> Result<Option<PostWithTags>, StoreError> {
    let Some(before) = post_to_edit(transaction, id, user).await? else {
        return Ok(None);
    };
    store::delete_post(transaction, id).await?;
    audit::store::record(
        transaction,
        &actor.entry(
            AuditAction::Delete,
            AuditEntity::Posts,
            Some(id.0),
            audit::deleted(&before),
        ),
    )
    .await?;
    Ok(Some(before))
}

/// The first free `slug-n`, from 2 up.
async fn free_slug(client: &impl GenericClient, slug: &Slug) -> Result<Slug, StoreError> {
    let taken = store::numbered_slugs(client, slug.as_str()).await?;
    let mut n = 2;
    loop {
        let candidate = slug.numbered(n);
        if !taken.iter().any(|taken| taken == candidate.as_str()) {
            return Ok(candidate);
        }
        n += 1;
    }
}

/// The slug to save for the post `post` (none when new): the typed one if
/// free (else a problem with a suggestion), or the title's, numbered if
/// another post has it.
async fn choose_slug(
    client: &impl GenericClient,
    draft: &Draft,
    post: Option<PostId>,
    problems: &mut Vec<Problem>,
) -> Result<Option<Slug>, StoreError> {
    let (slug, typed) = match &draft.typed_slug {
        Some(slug) => (slug.clone(), true),
        None => (Slug::from_title(&draft.title, "post"), false),
    };
    match store::slug_owner(client, slug.as_str()).await? {
        None => Ok(Some(slug)),
        Some(owner) if Some(owner) == post => Ok(Some(slug)),
        // The same answer whoever holds the address, and whatever its
        // state: it must not tell a writer about other writers' drafts.
        Some(_) if typed => {
            let suggestion = free_slug(client, &slug).await?;
            problems.push(Problem::SlugUnavailable { slug, suggestion });
            Ok(None)
        }
        Some(_) => Ok(Some(free_slug(client, &slug).await?)),
    }
}

/// Finds or creates the typed tags, auditing the new ones.
async fn tags_for(
    client: &impl GenericClient,
    actor: &Actor,
    tags: &[TagInput],
) -> Result<Vec<Tag>, StoreError> {
    // Created in slug order: two edits creating the same new tags wait for
    // each other in one order instead of deadlocking.
    let mut sorted: Vec<&TagInput> = tags.iter().collect();
    sorted.sort_by(|left, right| left.slug.as_str().cmp(right.slug.as_str()));
    let mut found = Vec::with_capacity(tags.len());
    for tag in sorted {
        let (tag, created) = store::ensure_tag(client, &tag.name, tag.slug.as_str()).await?;
        if created {
            audit::store::record(
                client,
                &actor.entry(
                    AuditAction::Create,
                    AuditEntity::Tags,
                    Some(tag.id.0),
                    audit::created(&tag),
                ),
            )
            .await?;
        }
        found.push(tag);
    }
    Ok(found)
}

/// Whether the category can be chosen (none, or one that exists and is
/// active).
async fn category_is_active(
    client: &impl GenericClient,
    category: Option<CategoryId>,
) -> Result<bool, StoreError> {
    let Some(id) = category else {
        return Ok(true);
    };
    Ok(store::category_by_id(client, id)
        .await?
        .is_some_and(|category| category.is_active.unwrap_or(true)))
}

/// Whether `user` may feature posts on the home page: admins always, others
/// with a plan that includes [`FEATURED_POSTS`].
async fn may_feature(client: &impl GenericClient, user: &User) -> Result<bool, StoreError> {
    Ok(user.role == Role::Admin
        || crate::billing::store::has_feature(client, user.id, FEATURED_POSTS).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts_go_draft_published_archived_and_back_to_draft() {
        use PostStatus::{Archived, Draft, Published};
        assert!(transition_allowed(Draft, Published));
        assert!(transition_allowed(Published, Archived));
        assert!(transition_allowed(Archived, Draft));
        assert!(transition_allowed(Published, Draft));
        assert!(!transition_allowed(Draft, Archived));
        assert!(!transition_allowed(Archived, Published));
        assert!(!transition_allowed(Draft, Draft));
    }
}
