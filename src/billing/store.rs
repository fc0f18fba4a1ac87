//! All SQL on `subscription_plans`, `subscriptions` and `payments`.
//! Rows come back as JSON decoded into the model types in one place.

use deadpool_postgres::GenericClient;

use super::model::{
    NewPayment, NewPlan, Payment, Plan, PlanId, Subscription, SubscriptionStatus,
    SubscriptionWithPlan,
};
use crate::accounts::model::UserId;
use crate::db::{StoreError, from_json, required};

const INSERT_PLAN: &str = "INSERT INTO subscription_plans \
     (name, description, price_cents, currency, interval, features, sort_order, stripe_price_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING to_jsonb(subscription_plans.*) AS plan";
const ACTIVE_PLANS: &str = "SELECT to_jsonb(p) AS plan FROM subscription_plans p \
     WHERE p.is_active ORDER BY p.sort_order NULLS LAST, p.price_cents, p.name";
const INSERT_SUBSCRIPTION: &str = "INSERT INTO subscriptions (user_id, plan_id, status) VALUES ($1, $2, $3) \
     RETURNING to_jsonb(subscriptions.*) AS subscription";
const SUBSCRIPTION_OF: &str = "SELECT to_jsonb(s) || jsonb_build_object('plan', to_jsonb(p)) AS subscription \
     FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id WHERE s.user_id = $1";
const INSERT_PAYMENT: &str = "INSERT INTO payments \
     (user_id, subscription_id, amount_cents, currency, status, description) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING to_jsonb(payments.*) AS payment";
const PAYMENTS_OF: &str = "SELECT to_jsonb(p) AS payment FROM payments p WHERE p.user_id = $1 \
     ORDER BY p.created_at DESC, p.id";

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

/// Creates a plan.
pub async fn create_plan(client: &impl GenericClient, plan: &NewPlan) -> Result<Plan, StoreError> {
    let statement = client.prepare_cached(INSERT_PLAN).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &plan.name,
                &plan.description,
                &plan.price_cents,
                &plan.currency,
                &plan.interval,
                &plan.features,
                &plan.sort_order,
                &plan.stripe_price_id,
            ],
        )
        .await?;
    required(from_json(&row, "plan")?)
}

/// Plans offered to new subscribers, in pricing-page order.
pub async fn active_plans(client: &impl GenericClient) -> Result<Vec<Plan>, StoreError> {
    let statement = client.prepare_cached(ACTIVE_PLANS).await?;
    client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| required(from_json(row, "plan")?))
        .collect()
}

/// Subscribes a user to a plan.
pub async fn create_subscription(
    client: &impl GenericClient,
    user_id: UserId,
    plan_id: PlanId,
    status: SubscriptionStatus,
) -> Result<Subscription, StoreError> {
    let statement = client.prepare_cached(INSERT_SUBSCRIPTION).await?;
    let row = client
        .query_one(&statement, &[&user_id, &plan_id, &status])
        .await?;
    required(from_json(&row, "subscription")?)
}

/// A user's subscription with its plan.
pub async fn subscription_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Option<SubscriptionWithPlan>, StoreError> {
    let statement = client.prepare_cached(SUBSCRIPTION_OF).await?;
    match client.query_opt(&statement, &[&user_id]).await? {
        Some(row) => from_json(&row, "subscription"),
        None => Ok(None),
    }
}

/// Records a payment.
pub async fn record_payment(
    client: &impl GenericClient,
    payment: &NewPayment,
) -> Result<Payment, StoreError> {
    let statement = client.prepare_cached(INSERT_PAYMENT).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &payment.user_id,
                &payment.subscription_id,
                &payment.amount_cents,
                &payment.currency,
                &payment.status,
                &payment.description,
            ],
        )
        .await?;
    required(from_json(&row, "payment")?)
}

/// A user's payments, newest first.
pub async fn payments_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Vec<Payment>, StoreError> {
    let statement = client.prepare_cached(PAYMENTS_OF).await?;
    client
        .query(&statement, &[&user_id])
        .await?
        .iter()
        .map(|row| required(from_json(row, "payment")?))
        .collect()
}

const ALL_PLANS: &str = "SELECT to_jsonb(p) AS plan, \
         (SELECT count(*) FROM subscriptions s WHERE s.plan_id = p.id) AS subscribers \
     FROM subscription_plans p ORDER BY p.is_active DESC, p.sort_order NULLS LAST, p.price_cents, p.name";
const PLAN_BY_ID: &str = "SELECT to_jsonb(p) AS plan FROM subscription_plans p WHERE p.id = $1";
const PLAN_BY_PRICE: &str =
    "SELECT to_jsonb(p) AS plan FROM subscription_plans p WHERE p.stripe_price_id = $1";
const UPDATE_PLAN: &str = "UPDATE subscription_plans SET name = $2, description = $3, price_cents = $4, \
     currency = $5, interval = $6, features = $7, sort_order = $8, stripe_price_id = $9, is_active = $10 \
     WHERE id = $1 RETURNING to_jsonb(subscription_plans.*) AS plan";
const DELETE_PLAN: &str = "DELETE FROM subscription_plans WHERE id = $1";
const SUBSCRIPTION_OF_FOR_UPDATE: &str =
    "SELECT to_jsonb(s) AS subscription FROM subscriptions s WHERE s.user_id = $1 FOR UPDATE";
const SUBSCRIPTION_BY_STRIPE_ID: &str =
    "SELECT to_jsonb(s) AS subscription FROM subscriptions s WHERE s.stripe_subscription_id = $1";
const SUBSCRIPTION_BY_CUSTOMER: &str = "SELECT to_jsonb(s) AS subscription FROM subscriptions s \
     WHERE s.stripe_customer_id = $1 ORDER BY s.updated_at DESC LIMIT 1";
/// The user's one row takes Stripe's state (the unique index on user_id
/// makes concurrent writers queue on it).
const UPSERT_FROM_STRIPE: &str = "INSERT INTO subscriptions \
     (user_id, plan_id, status, stripe_customer_id, stripe_subscription_id, current_period_start, \
      current_period_end, cancel_at_period_end, canceled_at, trial_end, stripe_synced_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
     ON CONFLICT (user_id) DO UPDATE SET plan_id = EXCLUDED.plan_id, status = EXCLUDED.status, \
       stripe_customer_id = EXCLUDED.stripe_customer_id, stripe_subscription_id = EXCLUDED.stripe_subscription_id, \
       current_period_start = EXCLUDED.current_period_start, current_period_end = EXCLUDED.current_period_end, \
       cancel_at_period_end = EXCLUDED.cancel_at_period_end, canceled_at = EXCLUDED.canceled_at, \
       trial_end = EXCLUDED.trial_end, stripe_synced_at = EXCLUDED.stripe_synced_at \
     RETURNING to_jsonb(subscriptions.*) AS subscription";
/// An admin's grant: active on `plan`, no Stripe subscription (a Stripe
/// customer is kept).
const GRANT: &str = "INSERT INTO subscriptions (user_id, plan_id, status, current_period_start) \
     VALUES ($1, $2, 'active', now()) \
     ON CONFLICT (user_id) DO UPDATE SET plan_id = EXCLUDED.plan_id, status = 'active', \
       stripe_subscription_id = NULL, current_period_start = now(), current_period_end = NULL, \
       cancel_at_period_end = false, canceled_at = NULL, trial_end = NULL \
     RETURNING to_jsonb(subscriptions.*) AS subscription";
const SUBSCRIPTIONS_BY_STATUS: &str = "SELECT to_jsonb(s) || jsonb_build_object('plan', to_jsonb(p), \
         'email', u.email, 'name', u.name) AS subscription \
     FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id JOIN users u ON u.id = s.user_id \
     WHERE ($1::text IS NULL OR s.status = $1) ORDER BY s.updated_at DESC, s.id LIMIT $2 OFFSET $3";
const STATUS_COUNTS: &str = "SELECT status, count(*) FROM subscriptions GROUP BY status";
const INSERT_INVOICE_PAYMENT: &str = "INSERT INTO payments \
     (user_id, subscription_id, amount_cents, currency, status, stripe_payment_intent_id, \
      stripe_charge_id, description, metadata, stripe_invoice_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (stripe_invoice_id) DO NOTHING RETURNING to_jsonb(payments.*) AS payment";
const PAYMENT_BY_INVOICE: &str =
    "SELECT to_jsonb(p) AS payment FROM payments p WHERE p.stripe_invoice_id = $1 FOR UPDATE";
const PAYMENT_BY_CHARGE: &str = "SELECT to_jsonb(p) AS payment FROM payments p \
     WHERE p.stripe_charge_id = $1 OR ($2::text IS NOT NULL AND p.stripe_payment_intent_id = $2) \
        OR ($3::text IS NOT NULL AND p.stripe_invoice_id = $3) \
     ORDER BY p.created_at DESC LIMIT 1 FOR UPDATE";
const UPDATE_STRIPE_PAYMENT: &str = "UPDATE payments SET status = $2, amount_cents = $3, \
     stripe_payment_intent_id = $4, stripe_charge_id = $5, metadata = $6, subscription_id = $7 \
     WHERE id = $1 RETURNING to_jsonb(payments.*) AS payment";
const UNLINKED_PAYMENTS: &str = "SELECT to_jsonb(p) AS payment FROM payments p \
     WHERE p.user_id = $1 AND p.subscription_id IS NULL AND p.metadata->>'stripe_subscription_id' = $2 \
     ORDER BY p.created_at FOR UPDATE";
const USER_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)";
const SUBSCRIPTION_DELETED: &str = "SELECT EXISTS (SELECT 1 FROM stripe_events \
     WHERE object_id = $1 AND type = 'customer.subscription.deleted' AND id <> $2 \
       AND outcome <> 'unsupported')";
const OPEN_CHECKOUT: &str = "SELECT id, url, plan_id FROM stripe_checkouts \
     WHERE user_id = $1 AND expires_at > now() + interval '1 minute' ORDER BY created_at DESC LIMIT 1";
const INSERT_CHECKOUT: &str = "INSERT INTO stripe_checkouts (id, user_id, plan_id, url, expires_at) VALUES ($1, $2, $3, $4, $5)";
const CLOSE_CHECKOUTS: &str =
    "DELETE FROM stripe_checkouts WHERE user_id = $1 OR expires_at < now()";
const HAS_FEATURE: &str = "SELECT EXISTS (SELECT 1 FROM subscriptions s \
         JOIN subscription_plans p ON p.id = s.plan_id \
     WHERE s.user_id = $1 AND s.status IN ('active', 'past_due') \
       AND EXISTS (SELECT 1 FROM unnest(p.features) f WHERE lower(f) = lower($2)))";

/// Every plan with its number of subscriptions, active ones first.
pub async fn all_plans(client: &impl GenericClient) -> Result<Vec<(Plan, i64)>, StoreError> {
    let statement = client.prepare_cached(ALL_PLANS).await?;
    client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| {
            Ok((
                required(from_json(row, "plan")?)?,
                row.try_get("subscribers")?,
            ))
        })
        .collect()
}

/// A plan by id.
pub async fn plan_by_id(
    client: &impl GenericClient,
    id: PlanId,
) -> Result<Option<Plan>, StoreError> {
    let statement = client.prepare_cached(PLAN_BY_ID).await?;
    match client.query_opt(&statement, &[&id]).await? {
        Some(row) => from_json(&row, "plan"),
        None => Ok(None),
    }
}

/// The plan sold at a Stripe Price.
pub async fn plan_by_price(
    client: &impl GenericClient,
    price: &str,
) -> Result<Option<Plan>, StoreError> {
    let statement = client.prepare_cached(PLAN_BY_PRICE).await?;
    match client.query_opt(&statement, &[&price]).await? {
        Some(row) => from_json(&row, "plan"),
        None => Ok(None),
    }
}

/// Saves a plan.
pub async fn update_plan(
    client: &impl GenericClient,
    id: PlanId,
    plan: &NewPlan,
    is_active: bool,
) -> Result<Option<Plan>, StoreError> {
    let statement = client.prepare_cached(UPDATE_PLAN).await?;
    match client
        .query_opt(
            &statement,
            &[
                &id,
                &plan.name,
                &plan.description,
                &plan.price_cents,
                &plan.currency,
                &plan.interval,
                &plan.features,
                &plan.sort_order,
                &plan.stripe_price_id,
                &is_active,
            ],
        )
        .await?
    {
        Some(row) => from_json(&row, "plan"),
        None => Ok(None),
    }
}

/// Deletes a plan (refused by the database while subscriptions use it).
pub async fn delete_plan(client: &impl GenericClient, id: PlanId) -> Result<(), StoreError> {
    let statement = client.prepare_cached(DELETE_PLAN).await?;
    client.execute(&statement, &[&id]).await?;
    Ok(())
}

async fn one_subscription(
    client: &impl GenericClient,
    sql: &str,
    parameter: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<Option<Subscription>, StoreError> {
    let statement = client.prepare_cached(sql).await?;
    match client.query_opt(&statement, &[parameter]).await? {
        Some(row) => from_json(&row, "subscription"),
        None => Ok(None),
    }
}

/// A user's subscription row, locked until the transaction ends.
pub async fn subscription_for_update(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Option<Subscription>, StoreError> {
    one_subscription(client, SUBSCRIPTION_OF_FOR_UPDATE, &user_id).await
}

/// The row of a Stripe subscription.
pub async fn subscription_by_stripe_id(
    client: &impl GenericClient,
    id: &str,
) -> Result<Option<Subscription>, StoreError> {
    one_subscription(client, SUBSCRIPTION_BY_STRIPE_ID, &id).await
}

/// The row of a Stripe customer.
pub async fn subscription_by_customer(
    client: &impl GenericClient,
    customer: &str,
) -> Result<Option<Subscription>, StoreError> {
    one_subscription(client, SUBSCRIPTION_BY_CUSTOMER, &customer).await
}

/// A subscription's state as Stripe reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct StripeState {
    /// Our user.
    pub user_id: UserId,
    /// The plan of its price.
    pub plan_id: PlanId,
    /// Mapped status.
    pub status: SubscriptionStatus,
    /// `cus_...`.
    pub customer: Option<String>,
    /// `sub_...`.
    pub subscription: String,
    /// Period start.
    pub current_period_start: Option<time::OffsetDateTime>,
    /// Period end.
    pub current_period_end: Option<time::OffsetDateTime>,
    /// Cancels at period end.
    pub cancel_at_period_end: bool,
    /// When it was canceled.
    pub canceled_at: Option<time::OffsetDateTime>,
    /// Trial end.
    pub trial_end: Option<time::OffsetDateTime>,
    /// The event (or read) time this state is from.
    pub version: time::OffsetDateTime,
}

/// Writes Stripe's state into the user's row.
pub async fn upsert_from_stripe(
    client: &impl GenericClient,
    state: &StripeState,
) -> Result<Subscription, StoreError> {
    let statement = client.prepare_cached(UPSERT_FROM_STRIPE).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &state.user_id,
                &state.plan_id,
                &state.status,
                &state.customer,
                &state.subscription,
                &state.current_period_start,
                &state.current_period_end,
                &state.cancel_at_period_end,
                &state.canceled_at,
                &state.trial_end,
                &state.version,
            ],
        )
        .await?;
    required(from_json(&row, "subscription")?)
}

/// Puts a user on a plan by hand (no Stripe).
pub async fn grant(
    client: &impl GenericClient,
    user_id: UserId,
    plan_id: PlanId,
) -> Result<Subscription, StoreError> {
    let statement = client.prepare_cached(GRANT).await?;
    let row = client.query_one(&statement, &[&user_id, &plan_id]).await?;
    required(from_json(&row, "subscription")?)
}

/// A subscription in the admin list.
#[derive(Clone, Debug, serde::Deserialize)]
pub struct SubscriptionListing {
    /// The row.
    #[serde(flatten)]
    pub subscription: Subscription,
    /// Its plan.
    pub plan: Plan,
    /// The subscriber's email.
    pub email: String,
    /// The subscriber's name.
    pub name: String,
}

/// Subscriptions, optionally of one status, last changed first.
pub async fn subscriptions_by_status(
    client: &impl GenericClient,
    status: Option<SubscriptionStatus>,
    limit: i64,
    offset: i64,
) -> Result<Vec<SubscriptionListing>, StoreError> {
    let statement = client.prepare_cached(SUBSCRIPTIONS_BY_STATUS).await?;
    client
        .query(&statement, &[&status, &limit, &offset])
        .await?
        .iter()
        .map(|row| required(from_json(row, "subscription")?))
        .collect()
}

/// How many subscriptions have each status.
pub async fn status_counts(client: &impl GenericClient) -> Result<Vec<(String, i64)>, StoreError> {
    let statement = client.prepare_cached(STATUS_COUNTS).await?;
    client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// A payment for a Stripe invoice.
#[derive(Clone, Debug)]
pub struct InvoicePayment {
    /// The payer.
    pub user_id: UserId,
    /// Their subscription row.
    pub subscription_id: Option<super::model::SubscriptionId>,
    /// Amount.
    pub amount_cents: i32,
    /// Upper-case currency.
    pub currency: String,
    /// succeeded or failed.
    pub status: super::model::PaymentStatus,
    /// `pi_...`.
    pub payment_intent: Option<String>,
    /// `ch_...`.
    pub charge: Option<String>,
    /// What it was for.
    pub description: String,
    /// Extra facts.
    pub metadata: serde_json::Value,
    /// `in_...`.
    pub invoice: String,
}

/// Records the first payment row of an invoice; none when the invoice has
/// one already.
pub async fn insert_invoice_payment(
    client: &impl GenericClient,
    payment: &InvoicePayment,
) -> Result<Option<Payment>, StoreError> {
    let statement = client.prepare_cached(INSERT_INVOICE_PAYMENT).await?;
    match client
        .query_opt(
            &statement,
            &[
                &payment.user_id,
                &payment.subscription_id,
                &payment.amount_cents,
                &payment.currency,
                &payment.status,
                &payment.payment_intent,
                &payment.charge,
                &payment.description,
                &payment.metadata,
                &payment.invoice,
            ],
        )
        .await?
    {
        Some(row) => from_json(&row, "payment"),
        None => Ok(None),
    }
}

/// The payment of an invoice, locked.
pub async fn payment_for_invoice(
    client: &impl GenericClient,
    invoice: &str,
) -> Result<Option<Payment>, StoreError> {
    let statement = client.prepare_cached(PAYMENT_BY_INVOICE).await?;
    match client.query_opt(&statement, &[&invoice]).await? {
        Some(row) => from_json(&row, "payment"),
        None => Ok(None),
    }
}

/// The payment of a charge (by charge, payment intent or invoice), locked.
pub async fn payment_for_charge(
    client: &impl GenericClient,
    charge: &str,
    payment_intent: Option<&str>,
    invoice: Option<&str>,
) -> Result<Option<Payment>, StoreError> {
    let statement = client.prepare_cached(PAYMENT_BY_CHARGE).await?;
    match client
        .query_opt(&statement, &[&charge, &payment_intent, &invoice])
        .await?
    {
        Some(row) => from_json(&row, "payment"),
        None => Ok(None),
    }
}

/// Writes what Stripe says of a payment (merged by the caller).
pub async fn update_stripe_payment(
    client: &impl GenericClient,
    payment: &Payment,
) -> Result<Payment, StoreError> {
    let statement = client.prepare_cached(UPDATE_STRIPE_PAYMENT).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &payment.id,
                &payment.status,
                &payment.amount_cents,
                &payment.stripe_payment_intent_id,
                &payment.stripe_charge_id,
                &payment.metadata,
                &payment.subscription_id,
            ],
        )
        .await?;
    required(from_json(&row, "payment")?)
}

/// The user's payments of Stripe subscription `subscription` recorded
/// before its row existed, locked.
pub async fn unlinked_payments(
    client: &impl GenericClient,
    user: UserId,
    subscription: &str,
) -> Result<Vec<Payment>, StoreError> {
    let statement = client.prepare_cached(UNLINKED_PAYMENTS).await?;
    client
        .query(&statement, &[&user, &subscription])
        .await?
        .iter()
        .map(|row| required(from_json(row, "payment")?))
        .collect()
}

/// Whether a user with this id exists.
pub async fn user_exists(client: &impl GenericClient, user: UserId) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(USER_EXISTS).await?;
    Ok(client.query_one(&statement, &[&user]).await?.try_get(0)?)
}

/// Whether Stripe said the subscription was deleted (a final state).
pub async fn subscription_was_deleted(
    client: &impl GenericClient,
    subscription: &str,
    except_event: &str,
) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(SUBSCRIPTION_DELETED).await?;
    Ok(client
        .query_one(&statement, &[&subscription, &except_event])
        .await?
        .try_get(0)?)
}

/// The user's open Checkout session: (id, url, plan).
pub async fn open_checkout(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Option<(String, String, PlanId)>, StoreError> {
    let statement = client.prepare_cached(OPEN_CHECKOUT).await?;
    Ok(client
        .query_opt(&statement, &[&user_id])
        .await?
        .map(|row| {
            Ok::<_, tokio_postgres::Error>((
                row.try_get(0)?,
                row.try_get(1)?,
                PlanId(row.try_get(2)?),
            ))
        })
        .transpose()?)
}

/// Remembers an open Checkout session.
pub async fn record_checkout(
    client: &impl GenericClient,
    id: &str,
    user_id: UserId,
    plan_id: PlanId,
    url: &str,
    expires_at: time::OffsetDateTime,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(INSERT_CHECKOUT).await?;
    client
        .execute(&statement, &[&id, &user_id, &plan_id, &url, &expires_at])
        .await?;
    Ok(())
}

/// Forgets the user's Checkout sessions (and expired ones).
pub async fn close_checkouts(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(CLOSE_CHECKOUTS).await?;
    client.execute(&statement, &[&user_id]).await?;
    Ok(())
}

/// Whether the user's plan (active, or past due and still in its grace)
/// includes `feature` (compared without case).
pub async fn has_feature(
    client: &impl GenericClient,
    user_id: UserId,
    feature: &str,
) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(HAS_FEATURE).await?;
    Ok(client
        .query_one(&statement, &[&user_id, &feature])
        .await?
        .try_get(0)?)
}

const INSERT_SUBSCRIPTION_STATE: &str = "INSERT INTO subscriptions \
     (user_id, plan_id, status, current_period_start, current_period_end, cancel_at_period_end, \
      canceled_at, trial_end, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING to_jsonb(subscriptions.*) AS subscription";
const INSERT_PAYMENT_AT: &str = "INSERT INTO payments \
     (user_id, subscription_id, amount_cents, currency, status, description, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING to_jsonb(payments.*) AS payment";

/// A subscription with its whole state, as it stands after some history
/// (the demo data; no Stripe ids).
#[derive(Clone, Debug)]
pub struct NewSubscription {
    /// The subscriber.
    pub user_id: UserId,
    /// The plan.
    pub plan_id: PlanId,
    /// Its state.
    pub status: SubscriptionStatus,
    /// Current period start.
    pub current_period_start: Option<time::OffsetDateTime>,
    /// Current period end.
    pub current_period_end: Option<time::OffsetDateTime>,
    /// Ends when the period ends.
    pub cancel_at_period_end: bool,
    /// When it was canceled.
    pub canceled_at: Option<time::OffsetDateTime>,
    /// When a trial ends.
    pub trial_end: Option<time::OffsetDateTime>,
    /// When it started.
    pub created_at: time::OffsetDateTime,
}

/// Creates a subscription with its whole state.
pub async fn insert_subscription(
    client: &impl GenericClient,
    subscription: &NewSubscription,
) -> Result<Subscription, StoreError> {
    let statement = client.prepare_cached(INSERT_SUBSCRIPTION_STATE).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &subscription.user_id,
                &subscription.plan_id,
                &subscription.status,
                &subscription.current_period_start,
                &subscription.current_period_end,
                &subscription.cancel_at_period_end,
                &subscription.canceled_at,
                &subscription.trial_end,
                &subscription.created_at,
            ],
        )
        .await?;
    required(from_json(&row, "subscription")?)
}

/// Records a payment made at `created_at` (a payment history).
pub async fn record_payment_at(
    client: &impl GenericClient,
    payment: &NewPayment,
    created_at: time::OffsetDateTime,
) -> Result<Payment, StoreError> {
    let statement = client.prepare_cached(INSERT_PAYMENT_AT).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &payment.user_id,
                &payment.subscription_id,
                &payment.amount_cents,
                &payment.currency,
                &payment.status,
                &payment.description,
                &created_at,
            ],
        )
        .await?;
    required(from_json(&row, "payment")?)
}
