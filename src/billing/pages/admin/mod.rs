//! Admins: plans (create, edit, deactivate; deleting only a plan nobody
//! uses), subscriptions by status, and granting a plan by hand. The rules
//! are [`crate::billing::plans`]' and [`crate::billing::grants`]'; these
//! handlers parse, call them and render.

mod plan_form;
mod plans;
mod subscriptions;

pub use plans::{create_plan, delete_plan, plan_page, plans, update_plan};
pub use subscriptions::{grant, subscriptions};
