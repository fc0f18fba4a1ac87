//! Billing: plans, subscriptions and payments (the seed's subscriptions.ts),
//! with Stripe as the payment provider.

mod error;
pub mod event_log;
pub mod grants;
pub mod invoices;
pub mod model;
pub mod money;
pub mod pages;
pub mod paths;
pub mod plans;
pub mod store;
pub mod stripe;
pub mod sync;
pub mod versions;
pub mod webhook;

pub use error::BillingError;
