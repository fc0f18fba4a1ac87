//! The content pages' paths: registered in [`super::pages::ROUTES`], and
//! used by redirects, templates, feeds and tests.

use crate::accounts::model::UserId;
use crate::content::model::{CategoryId, PostId};
use crate::web::routes::one;

/// The blog.
pub const BLOG: &str = "/blog";
/// A published post.
pub const POST: &str = "/blog/{slug}";
/// A tag's posts.
pub const TAG: &str = "/tags/{slug}";
/// A category's posts.
pub const CATEGORY: &str = "/categories/{slug}";
/// An author's posts.
pub const AUTHOR: &str = "/authors/{id}";
/// Search.
pub const SEARCH: &str = "/search";
/// The Atom feed.
pub const FEED: &str = "/feed.xml";
/// The sitemap.
pub const SITEMAP: &str = "/sitemap.xml";
/// robots.txt.
pub const ROBOTS: &str = "/robots.txt";
/// The categories' colours.
pub const CATEGORY_STYLES: &str = "/categories.css";
/// The writer's posts (GET) and a new post (POST).
pub const POSTS: &str = "/posts";
/// The editor for a new post.
pub const NEW_POST: &str = "/posts/new";
/// The editor of a post.
pub const EDIT_POST: &str = "/posts/{id}/edit";
/// Saving a post (POST).
pub const UPDATE_POST: &str = "/posts/{id}";
/// Publishing, archiving, drafting a post (POST).
pub const POST_STATUS: &str = "/posts/{id}/status";
/// Deleting a post (GET asks, POST deletes).
pub const DELETE_POST: &str = "/posts/{id}/delete";
/// The admins' categories (GET) and a new one (POST).
pub const ADMIN_CATEGORIES: &str = "/admin/categories";
/// A category's form (GET) and saving it (POST).
pub const ADMIN_CATEGORY: &str = "/admin/categories/{id}";
/// Deleting a category (POST).
pub const DELETE_CATEGORY: &str = "/admin/categories/{id}/delete";

/// The published post `slug`.
pub fn post(slug: &str) -> String {
    one(POST, slug)
}

/// The tag `slug`'s posts.
pub fn tag(slug: &str) -> String {
    one(TAG, slug)
}

/// The category `slug`'s posts.
pub fn category(slug: &str) -> String {
    one(CATEGORY, slug)
}

/// The author `id`'s posts.
pub fn author(id: UserId) -> String {
    one(AUTHOR, id)
}

/// The editor of post `id`.
pub fn edit_post(id: PostId) -> String {
    one(EDIT_POST, id)
}

/// Where post `id` is saved.
pub fn update_post(id: PostId) -> String {
    one(UPDATE_POST, id)
}

/// Where post `id`'s status changes.
pub fn post_status(id: PostId) -> String {
    one(POST_STATUS, id)
}

/// Deleting post `id`.
pub fn delete_post(id: PostId) -> String {
    one(DELETE_POST, id)
}

/// Category `id`'s form.
pub fn admin_category(id: CategoryId) -> String {
    one(ADMIN_CATEGORY, id)
}

/// Deleting category `id`.
pub fn delete_category(id: CategoryId) -> String {
    one(DELETE_CATEGORY, id)
}
