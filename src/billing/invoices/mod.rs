//! Payments from Stripe's events, in both API shapes (see `versions`):
//! `invoice.paid` / `invoice.payment_succeeded` / `invoice.payment_failed`
//! make or update the invoice's payment row, `invoice_payment.paid` (the
//! current shape) links it to its payment intent and charge, and
//! `charge.refunded` marks it refunded, fully or in part.
//!
//! Whatever the order of delivery, the row ends the same:
//! - a payment only moves forward (pending, failed, succeeded, refunded):
//!   a late `invoice.paid` never undoes a refund, a late failure never
//!   undoes a success, and the refunded amount only grows;
//! - what cannot be applied yet (a refund before its payment, an invoice
//!   before its subscription's user is known, an `invoice_payment` before
//!   its invoice) is parked with the ids it waits for, and applied in the
//!   transaction that writes one of them (`webhook::wake`).
//!
//! The merge rule and the event handlers are submodules; everything is
//! re-exported here so callers keep using `crate::billing::invoices::X`.

mod handlers;
mod merge;

pub use handlers::*;
pub use merge::*;

type Transaction<'a> = deadpool_postgres::Transaction<'a>;
