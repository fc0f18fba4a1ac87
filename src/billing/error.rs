//! What can stop billing work outside a request: `soloist billing sync`
//! and the daily upkeep. Pages see it as a
//! [`crate::web::page_error::PageError`].

use super::stripe::StripeError;
use crate::db::StoreError;

/// Why billing work failed.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// The Stripe API failed.
    #[error("the Stripe API failed")]
    Stripe(#[from] StripeError),
    /// No database connection could be taken from the pool.
    #[error("no database connection")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// A transaction could not begin or commit.
    #[error("the database transaction failed")]
    Transaction(#[from] tokio_postgres::Error),
    /// A statement failed.
    #[error("a database statement failed")]
    Store(#[from] StoreError),
}
