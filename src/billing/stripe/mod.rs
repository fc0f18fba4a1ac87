//! Stripe: configuration, webhook signature verification, and the few API
//! calls Soloist makes (Checkout, the Customer Portal, reading and changing
//! a subscription), over HTTP with form-encoded requests as Stripe expects.
//!
//! One submodule per concept; everything is re-exported here so callers
//! keep using `crate::billing::stripe::X`.

mod client;
mod config;
mod signature;

pub use client::*;
pub use config::*;
pub use signature::*;
