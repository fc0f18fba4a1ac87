//! SQL on `subscriptions`: the user's one row, written from Stripe, by an
//! admin's grant or by the demo data, and the admins' list of them.

use deadpool_postgres::GenericClient;

use crate::accounts::model::UserId;
use crate::billing::model::{Plan, PlanId, Subscription, SubscriptionStatus, SubscriptionWithPlan};
use crate::db::{StoreError, from_json, required};

pub(super) const INSERT_SUBSCRIPTION: &str = "INSERT INTO subscriptions (user_id, plan_id, status) VALUES ($1, $2, $3) \
     RETURNING to_jsonb(subscriptions.*) AS subscription";
pub(super) const SUBSCRIPTION_OF: &str = "SELECT to_jsonb(s) || jsonb_build_object('plan', to_jsonb(p)) AS subscription \
     FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id WHERE s.user_id = $1";
pub(super) const SUBSCRIPTION_OF_FOR_UPDATE: &str =
    "SELECT to_jsonb(s) AS subscription FROM subscriptions s WHERE s.user_id = $1 FOR UPDATE";
pub(super) const SUBSCRIPTION_BY_STRIPE_ID: &str =
    "SELECT to_jsonb(s) AS subscription FROM subscriptions s WHERE s.stripe_subscription_id = $1";
pub(super) const SUBSCRIPTION_BY_CUSTOMER: &str = "SELECT to_jsonb(s) AS subscription FROM subscriptions s \
     WHERE s.stripe_customer_id = $1 ORDER BY s.updated_at DESC LIMIT 1";

/// The user's one row takes Stripe's state (the unique index on user_id
/// makes concurrent writers queue on it).
pub(super) const UPSERT_FROM_STRIPE: &str = "INSERT INTO subscriptions \
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
pub(super) const GRANT: &str = "INSERT INTO subscriptions (user_id, plan_id, status, current_period_start) \
     VALUES ($1, $2, 'active', now()) \
     ON CONFLICT (user_id) DO UPDATE SET plan_id = EXCLUDED.plan_id, status = 'active', \
       stripe_subscription_id = NULL, current_period_start = now(), current_period_end = NULL, \
       cancel_at_period_end = false, canceled_at = NULL, trial_end = NULL \
     RETURNING to_jsonb(subscriptions.*) AS subscription";

pub(super) const SUBSCRIPTIONS_BY_STATUS: &str = "SELECT to_jsonb(s) || jsonb_build_object('plan', to_jsonb(p), \
         'email', u.email, 'name', u.name) AS subscription \
     FROM subscriptions s JOIN subscription_plans p ON p.id = s.plan_id JOIN users u ON u.id = s.user_id \
     WHERE ($1::text IS NULL OR s.status = $1) ORDER BY s.updated_at DESC, s.id LIMIT $2 OFFSET $3";
pub(super) const STATUS_COUNTS: &str = "SELECT status, count(*) FROM subscriptions GROUP BY status";
pub(super) const USER_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)";
pub(super) const SUBSCRIPTION_DELETED: &str = "SELECT EXISTS (SELECT 1 FROM stripe_events \
     WHERE object_id = $1 AND type = 'customer.subscription.deleted' AND id <> $2 \
       AND outcome <> 'unsupported')";
pub(super) const HAS_FEATURE: &str = "SELECT EXISTS (SELECT 1 FROM subscriptions s \
         JOIN subscription_plans p ON p.id = s.plan_id \
     WHERE s.user_id = $1 AND s.status IN ('active', 'past_due') \
       AND EXISTS (SELECT 1 FROM unnest(p.features) f WHERE lower(f) = lower($2)))";

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

pub(super) const INSERT_SUBSCRIPTION_STATE: &str = "INSERT INTO subscriptions \
     (user_id, plan_id, status, current_period_start, current_period_end, cancel_at_period_end, \
      canceled_at, trial_end, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING to_jsonb(subscriptions.*) AS subscription";

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
