//! SQL on `subscription_plans`.

use deadpool_postgres::GenericClient;

use crate::billing::model::{NewPlan, Plan, PlanId};
use crate::db::{StoreError, from_json, required};

pub(super) const INSERT_PLAN: &str = "INSERT INTO subscription_plans \
     (name, description, price_cents, currency, interval, features, sort_order, stripe_price_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING to_jsonb(subscription_plans.*) AS plan";
pub(super) const ACTIVE_PLANS: &str = "SELECT to_jsonb(p) AS plan FROM subscription_plans p \
     WHERE p.is_active ORDER BY p.sort_order NULLS LAST, p.price_cents, p.name";
pub(super) const ALL_PLANS: &str = "SELECT to_jsonb(p) AS plan, \
         (SELECT count(*) FROM subscriptions s WHERE s.plan_id = p.id) AS subscribers \
     FROM subscription_plans p ORDER BY p.is_active DESC, p.sort_order NULLS LAST, p.price_cents, p.name";
pub(super) const PLAN_BY_ID: &str =
    "SELECT to_jsonb(p) AS plan FROM subscription_plans p WHERE p.id = $1";
pub(super) const PLAN_BY_PRICE: &str =
    "SELECT to_jsonb(p) AS plan FROM subscription_plans p WHERE p.stripe_price_id = $1";
pub(super) const UPDATE_PLAN: &str = "UPDATE subscription_plans SET name = $2, description = $3, price_cents = $4, \
     currency = $5, interval = $6, features = $7, sort_order = $8, stripe_price_id = $9, is_active = $10 \
     WHERE id = $1 RETURNING to_jsonb(subscription_plans.*) AS plan";
pub(super) const DELETE_PLAN: &str = "DELETE FROM subscription_plans WHERE id = $1";

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
