//! SQL on `stripe_checkouts`: the user's open Stripe Checkout sessions.

use deadpool_postgres::GenericClient;

use crate::accounts::model::UserId;
use crate::billing::model::PlanId;
use crate::db::StoreError;

pub(super) const OPEN_CHECKOUT: &str = "SELECT id, url, plan_id FROM stripe_checkouts \
     WHERE user_id = $1 AND expires_at > now() + interval '1 minute' ORDER BY created_at DESC LIMIT 1";
pub(super) const INSERT_CHECKOUT: &str = "INSERT INTO stripe_checkouts (id, user_id, plan_id, url, expires_at) VALUES ($1, $2, $3, $4, $5)";
pub(super) const CLOSE_CHECKOUTS: &str =
    "DELETE FROM stripe_checkouts WHERE user_id = $1 OR expires_at < now()";

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
