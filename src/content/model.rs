//! Content types: rows of `posts`, `categories`, `tags` and `post_tags`.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::accounts::model::UserId;
use crate::audit::{Audited, Fields};
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
    /// Its category (V7).
    #[serde(default)]
    pub category_id: Option<CategoryId>,
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
    /// A short summary.
    pub excerpt: Option<String>,
    /// Unique URL part.
    pub slug: String,
    /// Initial status.
    pub status: PostStatus,
    /// Shown on the home page.
    pub featured: bool,
    /// Its category.
    pub category_id: Option<CategoryId>,
}

/// The fields an author edits.
#[derive(Clone, Debug)]
pub struct PostEdit {
    /// The title.
    pub title: String,
    /// Markdown source.
    pub content: String,
    /// A short summary (derived from the content when the author gave none).
    pub excerpt: String,
    /// Unique URL part.
    pub slug: String,
    /// Shown on the home page.
    pub featured: bool,
    /// Its category.
    pub category_id: Option<CategoryId>,
}

impl Post {
    /// This post with `edit` applied, as saving it makes it.
    pub fn edited(&self, edit: &PostEdit) -> Post {
        Post {
            title: edit.title.clone(),
            content: Some(edit.content.clone()),
            excerpt: Some(edit.excerpt.clone()),
            slug: edit.slug.clone(),
            featured: Some(edit.featured),
            category_id: edit.category_id,
            ..self.clone()
        }
    }
}

/// A tag as a link: its name and slug.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TagLink {
    /// Display name.
    pub name: String,
    /// URL part.
    pub slug: String,
}

/// A category as a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryLink {
    /// Display name.
    pub name: String,
    /// URL part.
    pub slug: String,
    /// Its id (the stylesheet's class for its colour).
    pub id: CategoryId,
}

/// A published post in a list: what the blog, tag, category, author and
/// search pages show.
#[derive(Clone, Debug)]
pub struct PostCard {
    /// Its id.
    pub id: PostId,
    /// The title.
    pub title: String,
    /// URL part.
    pub slug: String,
    /// The summary.
    pub excerpt: String,
    /// When it was published.
    pub published_at: OffsetDateTime,
    /// Shown on the home page.
    pub featured: bool,
    /// The author's id.
    pub author_id: UserId,
    /// The author's name.
    pub author_name: String,
    /// Its category, when it has an active one.
    pub category: Option<CategoryLink>,
    /// Its tags, by name.
    pub tags: Vec<TagLink>,
}

/// A published post with its body.
#[derive(Clone, Debug)]
pub struct PublicPost {
    /// What lists show.
    pub card: PostCard,
    /// Markdown source.
    pub content: String,
    /// When the author last changed it.
    pub updated_at: OffsetDateTime,
}

/// A line of the author's own list.
#[derive(Clone, Debug)]
pub struct OwnPost {
    /// Its id.
    pub id: PostId,
    /// The title.
    pub title: String,
    /// URL part.
    pub slug: String,
    /// Its status.
    pub status: PostStatus,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Public reads.
    pub view_count: i32,
    /// Its category's name.
    pub category: Option<String>,
}

/// Where a page of a newest-first list starts: after the post published at
/// `published_at` with id `id` (keyset pagination).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    /// The last shown post's publication time.
    pub published_at: OffsetDateTime,
    /// The last shown post's id.
    pub id: PostId,
}

impl Cursor {
    /// The start of the list.
    pub fn first() -> Self {
        Self {
            published_at: time::macros::datetime!(9999-12-31 0:00 UTC),
            id: PostId(uuid::Uuid::max()),
        }
    }

    /// The cursor after `card`.
    pub fn after(card: &PostCard) -> Self {
        Self {
            published_at: card.published_at,
            id: card.id,
        }
    }

    /// `<unix microseconds>.<uuid>`, for a URL.
    pub fn encode(&self) -> String {
        let micros = self.published_at.unix_timestamp_nanos() / 1000;
        format!("{micros}.{}", self.id.0.simple())
    }

    /// Parses [`Cursor::encode`]'s output; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('.')?;
        let micros: i128 = micros.parse().ok()?;
        let published_at =
            OffsetDateTime::from_unix_timestamp_nanos(micros.checked_mul(1000)?).ok()?;
        let id = uuid::Uuid::try_parse(id).ok()?;
        Some(Self {
            published_at,
            id: PostId(id),
        })
    }
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

impl PostWithTags {
    /// Its tags' names, sorted.
    pub fn tag_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.tags.iter().map(|tag| tag.name.as_str()).collect();
        names.sort_unstable();
        names
    }
}

impl Audited for PostWithTags {
    fn audited(&self) -> Fields {
        let post = &self.post;
        Fields::new()
            .with("title", &post.title)
            .with("slug", &post.slug)
            .with("status", post.status)
            .with("excerpt", &post.excerpt)
            .with("content", &post.content)
            .with("featured", post.featured.unwrap_or(false))
            .with("category_id", post.category_id)
            .with("tags", self.tag_names())
            .with("user_id", post.user_id)
            .with_time("published_at", post.published_at)
    }
}

impl Audited for Tag {
    fn audited(&self) -> Fields {
        Fields::new()
            .with("name", &self.name)
            .with("slug", &self.slug)
    }
}

impl Audited for Category {
    fn audited(&self) -> Fields {
        Fields::new()
            .with("name", &self.name)
            .with("slug", &self.slug)
            .with("description", &self.description)
            .with("color", &self.color)
            .with("sort_order", self.sort_order)
            .with("is_active", self.is_active)
    }
}
