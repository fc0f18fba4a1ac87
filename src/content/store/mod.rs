//! All SQL on `posts`, `categories`, `tags` and `post_tags`.
//!
//! One submodule per concept; everything is re-exported here so callers
//! keep using `crate::content::store::X`.

mod categories;
mod listing;
mod posts;
mod search;
mod tags;

pub use categories::*;
pub use listing::*;
pub use posts::*;
pub use search::*;
pub use tags::*;

/// Every statement of this store, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[
    BLOG_PAGE,
    TAG_PAGE,
    CATEGORY_PAGE,
    AUTHOR_PAGE,
    FEATURED,
    SEARCH,
    HEADLINES,
    SIMILAR_WORDS,
    POPULAR_TAGS,
    BROWSABLE_CATEGORIES,
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
