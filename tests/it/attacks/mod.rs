//! The account attacks, performed over HTTP as an attacker would: taking an
//! account by signing up first with its address, claiming the first-run
//! setup, DNS rebinding, locking the owner out, turning a stolen session
//! into a permanent one, reading other people's links in the development
//! outbox, and input PostgreSQL cannot store. Each failed before its fix.

mod input_and_headers;
mod lockout;
mod mailed_links;
mod pre_account_takeover;
mod setup;
