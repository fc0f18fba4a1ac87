//! Content: posts, categories and tags (the seed's content.ts), the
//! writers' pages and the public blog.

pub mod categories;
mod error;
pub mod excerpts;
pub mod markdown;
pub mod model;
pub mod pages;
pub mod paths;
pub mod post_form;
pub mod search;
pub mod seed;
pub mod slug;
pub mod store;
pub mod views;
pub mod writing;

pub use error::ContentError;
