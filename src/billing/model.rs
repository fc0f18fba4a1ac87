//! Billing types: rows of `subscription_plans`, `subscriptions` and `payments`.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::accounts::model::UserId;
use crate::audit::{Audited, Fields};
use crate::ids::{id_type, text_enum};

id_type!(
    /// `subscription_plans.id`.
    PlanId
);
id_type!(
    /// `subscriptions.id`.
    SubscriptionId
);
id_type!(
    /// `payments.id`.
    PaymentId
);

text_enum!(
    /// `subscription_plans.interval`.
    PlanInterval {
        /// Billed monthly.
        Month = "month",
        /// Billed yearly.
        Year = "year",
    }
);

text_enum!(
    /// `subscriptions.status`.
    SubscriptionStatus {
        /// Paid up (or trialing, with `trial_end`).
        Active = "active",
        /// Not started or paused.
        Inactive = "inactive",
        /// Ended.
        Canceled = "canceled",
        /// A payment failed; retrying.
        PastDue = "past_due",
        /// Retries exhausted.
        Unpaid = "unpaid",
    }
);

text_enum!(
    /// `payments.status`.
    PaymentStatus {
        /// Not settled yet.
        Pending = "pending",
        /// Paid.
        Succeeded = "succeeded",
        /// Declined.
        Failed = "failed",
        /// Abandoned.
        Canceled = "canceled",
        /// Paid back.
        Refunded = "refunded",
    }
);

/// A row of `subscription_plans`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Plan {
    /// Its id.
    pub id: PlanId,
    /// Unique name.
    pub name: String,
    /// What it offers.
    pub description: Option<String>,
    /// Price in cents.
    pub price_cents: i32,
    /// ISO 4217 code.
    pub currency: String,
    /// month or year.
    pub interval: PlanInterval,
    /// Feature names.
    pub features: Option<Vec<String>>,
    /// Offered to new subscribers.
    pub is_active: bool,
    /// Position on the pricing page.
    pub sort_order: Option<i32>,
    /// The Stripe Price it is sold at (V8).
    #[serde(default)]
    pub stripe_price_id: Option<String>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What creating a plan needs.
#[derive(Clone, Debug)]
pub struct NewPlan {
    /// Unique name.
    pub name: String,
    /// What it offers.
    pub description: Option<String>,
    /// Price in cents.
    pub price_cents: i32,
    /// ISO 4217 code.
    pub currency: String,
    /// month or year.
    pub interval: PlanInterval,
    /// Feature names.
    pub features: Vec<String>,
    /// Position on the pricing page.
    pub sort_order: i32,
    /// The Stripe Price it is sold at.
    pub stripe_price_id: Option<String>,
}

/// A row of `subscriptions`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Subscription {
    /// Its id.
    pub id: SubscriptionId,
    /// The subscriber.
    pub user_id: UserId,
    /// The plan.
    pub plan_id: PlanId,
    /// Its state.
    pub status: SubscriptionStatus,
    /// Stripe's customer id.
    pub stripe_customer_id: Option<String>,
    /// Stripe's subscription id.
    pub stripe_subscription_id: Option<String>,
    /// Current period start.
    #[serde(with = "time::serde::rfc3339::option")]
    pub current_period_start: Option<OffsetDateTime>,
    /// Current period end.
    #[serde(with = "time::serde::rfc3339::option")]
    pub current_period_end: Option<OffsetDateTime>,
    /// Ends when the period ends.
    pub cancel_at_period_end: Option<bool>,
    /// When it was canceled.
    #[serde(with = "time::serde::rfc3339::option")]
    pub canceled_at: Option<OffsetDateTime>,
    /// When a trial ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub trial_end: Option<OffsetDateTime>,
    /// Creation time of the newest Stripe event applied (V8).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub stripe_synced_at: Option<OffsetDateTime>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Subscription {
    /// Whether it still gives its plan (and blocks a second one): active,
    /// or overdue while payment is retried.
    pub fn is_live(&self) -> bool {
        matches!(
            self.status,
            SubscriptionStatus::Active | SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid
        )
    }

    /// Whether it is live and billed through Stripe, so only Stripe may
    /// change it.
    pub fn pays_through_stripe(&self) -> bool {
        self.is_live() && self.stripe_subscription_id.is_some()
    }
}

/// A subscription with its plan (the seed's `subscription: { with: { plan } }`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct SubscriptionWithPlan {
    /// The subscription.
    #[serde(flatten)]
    pub subscription: Subscription,
    /// Its plan.
    pub plan: Plan,
}

/// A row of `payments`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Payment {
    /// Its id.
    pub id: PaymentId,
    /// Who paid.
    pub user_id: UserId,
    /// For which subscription.
    pub subscription_id: Option<SubscriptionId>,
    /// Amount in cents.
    pub amount_cents: i32,
    /// ISO 4217 code.
    pub currency: String,
    /// Its state.
    pub status: PaymentStatus,
    /// Stripe's payment intent.
    pub stripe_payment_intent_id: Option<String>,
    /// Stripe's charge.
    pub stripe_charge_id: Option<String>,
    /// What it was for.
    pub description: Option<String>,
    /// Extra data.
    pub metadata: Option<serde_json::Value>,
    /// The Stripe invoice it pays (V8).
    #[serde(default)]
    pub stripe_invoice_id: Option<String>,
    /// When it was recorded.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What recording a payment needs.
#[derive(Clone, Debug)]
pub struct NewPayment {
    /// Who paid.
    pub user_id: UserId,
    /// For which subscription.
    pub subscription_id: Option<SubscriptionId>,
    /// Amount in cents.
    pub amount_cents: i32,
    /// ISO 4217 code.
    pub currency: String,
    /// Its state.
    pub status: PaymentStatus,
    /// What it was for.
    pub description: Option<String>,
}

impl Audited for Plan {
    fn audited(&self) -> Fields {
        Fields::new()
            .with("name", &self.name)
            .with("description", &self.description)
            .with("price_cents", self.price_cents)
            .with("currency", &self.currency)
            .with("interval", self.interval)
            .with("features", &self.features)
            .with("sort_order", self.sort_order)
            .with("stripe_price_id", &self.stripe_price_id)
            .with("is_active", self.is_active)
    }
}

impl Audited for Subscription {
    fn audited(&self) -> Fields {
        Fields::new()
            .with("status", self.status)
            .with("plan_id", self.plan_id)
            .with("stripe_subscription_id", &self.stripe_subscription_id)
            .with_time("current_period_end", self.current_period_end)
            .with("cancel_at_period_end", self.cancel_at_period_end)
            .with_time("trial_end", self.trial_end)
            .with_time("canceled_at", self.canceled_at)
    }
}

/// What a person sees of a payment: the trail leaves out Stripe's raw
/// metadata except the amount refunded.
impl Audited for Payment {
    fn audited(&self) -> Fields {
        let refunded = self
            .metadata
            .as_ref()
            .map_or(serde_json::Value::Null, |metadata| {
                metadata["amount_refunded"].clone()
            });
        Fields::new()
            .with("status", self.status)
            .with("amount_cents", self.amount_cents)
            .with("currency", &self.currency)
            .with("amount_refunded", refunded)
            .with("stripe_payment_intent_id", &self.stripe_payment_intent_id)
            .with("stripe_charge_id", &self.stripe_charge_id)
            .with("subscription_id", self.subscription_id)
    }
}
