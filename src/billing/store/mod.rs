//! All SQL on `subscription_plans`, `subscriptions` and `payments`.
//! Rows come back as JSON decoded into the model types in one place.
//!
//! One submodule per concept; everything is re-exported here so callers
//! keep using `crate::billing::store::X`.

mod checkouts;
mod payments;
mod plans;
mod subscriptions;

pub use checkouts::*;
pub use payments::*;
pub use plans::*;
pub use subscriptions::*;

/// Every statement of this store, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[
    ALL_PLANS,
    PLAN_BY_ID,
    PLAN_BY_PRICE,
    UPDATE_PLAN,
    DELETE_PLAN,
    SUBSCRIPTION_OF_FOR_UPDATE,
    SUBSCRIPTION_BY_STRIPE_ID,
    SUBSCRIPTION_BY_CUSTOMER,
    UPSERT_FROM_STRIPE,
    GRANT,
    SUBSCRIPTIONS_BY_STATUS,
    STATUS_COUNTS,
    INSERT_INVOICE_PAYMENT,
    PAYMENT_BY_INVOICE,
    PAYMENT_BY_CHARGE,
    UPDATE_STRIPE_PAYMENT,
    UNLINKED_PAYMENTS,
    USER_EXISTS,
    SUBSCRIPTION_DELETED,
    OPEN_CHECKOUT,
    INSERT_CHECKOUT,
    CLOSE_CHECKOUTS,
    HAS_FEATURE,
    INSERT_PLAN,
    ACTIVE_PLANS,
    INSERT_SUBSCRIPTION,
    SUBSCRIPTION_OF,
    INSERT_PAYMENT,
    PAYMENTS_OF,
    INSERT_SUBSCRIPTION_STATE,
    INSERT_PAYMENT_AT,
];
