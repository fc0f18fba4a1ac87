//! Accounts: users, profiles, OAuth accounts, sessions, verification tokens
//! (the seed's users.ts and auth.ts).

pub mod model;
pub mod store;
