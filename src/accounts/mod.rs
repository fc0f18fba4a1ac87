//! Accounts: users, profiles, OAuth accounts, sessions, verification tokens
//! (the seed's users.ts and auth.ts), and the pages that sign people in.

pub mod admin;
mod error;
pub mod linking;
pub mod model;
pub mod oauth;
pub mod pages;
pub mod paths;
pub mod proof;
pub mod registration;
pub mod secrets;
pub mod store;
pub mod user_agent;

pub use error::AccountError;

/// The account pages' tabs, in order: (path, label).
pub const MENU: &[(&str, &str)] = &[
    (paths::ACCOUNT, "Overview"),
    (paths::PROFILE, "Profile"),
    (paths::SECURITY, "Security"),
    (crate::billing::paths::BILLING, "Billing"),
];
