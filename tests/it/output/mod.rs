//! Snapshots (insta) of what Soloist shows and sends: every kind of mail and
//! five key pages, so that a change in output is reviewed as a diff of the
//! `.snap` files under `output/snapshots/` instead of found by users.
//!
//! A changed snapshot fails the test and leaves a `.snap.new` beside the
//! old one; review it and rename it over the old one (or `cargo insta
//! review`). With `CI=true` nothing is written: a mismatch only fails.

mod mail;
mod pages;
