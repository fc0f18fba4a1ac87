//! Content: posts, categories and tags (the seed's content.ts).

pub mod model;
pub mod store;
