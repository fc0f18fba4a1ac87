//! Content types: rows of `posts`, `categories`, `tags` and `post_tags`.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::accounts::model::UserId;
use crate::ids::{id_type, text_enum};

id_type!(
    /// `posts.id`.
    PostId
);
id_type!(
    /// `categories.id`.
    CategoryId
);
id_type!(
    /// `tags.id`.
    TagId
);

text_enum!(
    /// `posts.status`.
    PostStatus {
        /// Only the author sees it.
        Draft = "draft",
        /// Public.
        Published = "published",
        /// Withdrawn from the public.
        Archived = "archived",
    }
);

/// A row of `posts`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Post {
    /// Its id.
    pub id: PostId,
    /// The author.
    pub user_id: UserId,
    /// The title.
    pub title: String,
    /// Markdown source.
    pub content: Option<String>,
    /// A short summary.
    pub excerpt: Option<String>,
    /// Unique URL part.
    pub slug: String,
    /// draft, published or archived.
    pub status: PostStatus,
    /// Shown on the home page.
    pub featured: Option<bool>,
    /// Public reads.
    pub view_count: Option<i32>,
    /// When it was published.
    #[serde(with = "time::serde::rfc3339::option")]
    pub published_at: Option<OffsetDateTime>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What creating a post needs.
#[derive(Clone, Debug)]
pub struct NewPost {
    /// The author.
    pub user_id: UserId,
    /// The title.
    pub title: String,
    /// Markdown source.
    pub content: Option<String>,
    /// Unique URL part.
    pub slug: String,
    /// Initial status.
    pub status: PostStatus,
}

/// A row of `tags`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Tag {
    /// Its id.
    pub id: TagId,
    /// Display name.
    pub name: String,
    /// Unique URL part.
    pub slug: String,
    /// Posts carrying it.
    pub usage_count: Option<i32>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A row of `categories`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Category {
    /// Its id.
    pub id: CategoryId,
    /// Display name.
    pub name: String,
    /// Unique URL part.
    pub slug: String,
    /// What it holds.
    pub description: Option<String>,
    /// A CSS colour.
    pub color: Option<String>,
    /// Position in lists.
    pub sort_order: Option<i32>,
    /// Shown to readers.
    pub is_active: Option<bool>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A post with its tags (the seed's `postTags` relation).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct PostWithTags {
    /// The post.
    #[serde(flatten)]
    pub post: Post,
    /// Its tags, by name.
    pub tags: Vec<Tag>,
}
