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
     (name, description, price_cents, currency, interval, features, sort_order) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING to_jsonb(subscription_plans.*) AS plan";
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
    INSERT_PLAN,
    ACTIVE_PLANS,
    INSERT_SUBSCRIPTION,
    SUBSCRIPTION_OF,
    INSERT_PAYMENT,
    PAYMENTS_OF,
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
