//! Soloist: a whole SaaS application in one binary, with its own PostgreSQL.
//!
//! `main.rs` only calls [`cli::main`]; everything else lives here so that the
//! tests and benchmarks start the same code (see [`app::Soloist::start`]).

pub mod accounts;
pub mod admin;
pub mod app;
pub mod audit;
pub mod background;
pub mod backup;
pub mod billing;
pub mod cli;
pub mod config;
pub mod content;
pub mod db;
pub mod demo;
pub mod error_chain;
pub mod i18n;
pub mod ids;
pub mod mail;
pub mod monitoring;
pub mod postgres;
pub mod site;
pub mod web;
