//! What can stop account work outside a request: `soloist admin create`
//! and the first-run setup token. Pages see it as a
//! [`crate::web::page_error::PageError`].

use crate::accounts::secrets::HashError;
use crate::db::StoreError;

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// A new account was asked for without a password.
    #[error("a new account needs a password (give it on standard input with --password-stdin)")]
    NeedsPassword,
    /// No database connection could be taken from the pool.
    #[error("no database connection")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A transaction could not begin or commit.
    #[error("the database transaction failed")]
    Transaction(#[from] tokio_postgres::Error),
    /// A statement failed.
    #[error("a database statement failed")]
    Store(#[from] StoreError),
    /// Hashing the password or making a token failed.
    #[error(transparent)]
    Hash(#[from] HashError),
}
