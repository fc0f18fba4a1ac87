//! What can stop content work outside a request (writing the counted
//! views). Pages see it as a [`crate::web::page_error::PageError`].

use crate::db::StoreError;

/// Why content work failed.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// No database connection could be taken from the pool.
    #[error("no database connection")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A statement failed.
    #[error("a database statement failed")]
    Store(#[from] StoreError),
}
