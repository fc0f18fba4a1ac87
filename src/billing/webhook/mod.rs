//! `POST /webhooks/stripe`: Stripe's events, verified on the raw body before
//! anything is parsed, applied in one transaction with the event's record
//! in `stripe_events` (so a redelivery, also a concurrent one, has exactly
//! one effect), and answered 2xx only after that transaction commits.
//!
//! Each event is read in the shape of its API version (`versions`) and
//! its fate is logged for the admins (`event_log`): applied, ignored (and
//! why), parked until what it refers to arrives, or unsupported (a newer
//! API version: answered 400 so that Stripe retries it, and kept for a
//! retry or a Replay after an upgrade).
//!
//! Events arrive out of order. A subscription's row remembers the creation
//! time of the newest event applied (`stripe_synced_at`); an older event
//! changes nothing, an event of the same second is settled by reading the
//! subscription from Stripe, and a deleted subscription never comes back.
//! Payments only move forward (`invoices`).
//!
//! One submodule per step; everything is re-exported here so callers keep
//! using `crate::billing::webhook::X`.

mod apply;
mod event;
mod receive;
mod replay;
mod subscriptions;

pub use apply::*;
pub use event::*;
pub use receive::*;
pub use replay::*;
pub use subscriptions::*;
