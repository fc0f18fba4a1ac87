//! The audit trail (the seed's audit.ts).

pub mod model;
pub mod store;
