//! Integration tests against the real embedded PostgreSQL: one server for the
//! whole test binary, a fresh database per test; process tests run the real
//! `soloist` binary on data directories of their own.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code fails loudly by design"
)]

mod account_rules;
mod accounts;
mod attacks;
mod audit;
mod backup;
mod bad_input;
mod billing;
mod billing_properties;
mod configuration;
mod content;
mod errors;
mod faults;
mod http;
mod instances;
mod lifecycle;
mod mail;
mod monitoring;
mod oauth;
mod outcomes;
mod output;
mod recovery;
mod schema;
mod seed;
mod shell;
mod site;
mod smtp;
mod stripe;
mod stripe_today;
mod support;
mod time_zones;
mod web;
