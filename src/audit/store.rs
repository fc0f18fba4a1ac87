//! All SQL on `audit_logs`.

use deadpool_postgres::GenericClient;

use super::model::{AuditLog, NewAuditLog};
use crate::db::{StoreError, from_json, required};

const INSERT: &str = "INSERT INTO audit_logs \
     (user_id, action, entity, entity_id, changes, ip_address, user_agent, metadata) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING to_jsonb(audit_logs.*) AS entry";
const RECENT: &str = "SELECT to_jsonb(a) AS entry FROM audit_logs a \
     ORDER BY a.created_at DESC, a.id DESC LIMIT $1";

/// Every statement of this store, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[INSERT, RECENT];

/// Writes an audit row; call it in the transaction of the change it records.
pub async fn record(
    client: &impl GenericClient,
    entry: &NewAuditLog,
) -> Result<AuditLog, StoreError> {
    let statement = client.prepare_cached(INSERT).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &entry.user_id,
                &entry.action,
                &entry.entity,
                &entry.entity_id,
                &entry.changes,
                &entry.ip_address,
                &entry.user_agent,
                &entry.metadata,
            ],
        )
        .await?;
    required(from_json(&row, "entry")?)
}

/// The newest `limit` audit rows.
pub async fn recent(client: &impl GenericClient, limit: i64) -> Result<Vec<AuditLog>, StoreError> {
    let statement = client.prepare_cached(RECENT).await?;
    client
        .query(&statement, &[&limit])
        .await?
        .iter()
        .map(|row| required(from_json(row, "entry")?))
        .collect()
}
