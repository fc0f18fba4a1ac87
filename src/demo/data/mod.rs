//! What the demo data set holds: plans, people, categories and posts. Each
//! is found again by its natural key (plan name, email, category slug,
//! post slug), which is what makes seeding twice a no-op.
//!
//! One submodule per kind; everything is re-exported here so the seeder
//! keeps using `data::X`.

mod people;
mod plans;
mod posts;

pub use people::*;
pub use plans::*;
pub use posts::*;
