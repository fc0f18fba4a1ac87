//! Billing: plans, subscriptions and payments (the seed's subscriptions.ts).

pub mod model;
pub mod store;
