//! SQL on `site_settings` (one row).

use deadpool_postgres::GenericClient;

use super::SiteSettings;
use crate::db::{StoreError, from_json};

const LOAD: &str = "SELECT to_jsonb(s) - 'id' AS settings FROM site_settings s";
const LOCK: &str = "SELECT to_jsonb(s) - 'id' AS settings FROM site_settings s FOR UPDATE";
const SAVE: &str = "UPDATE site_settings SET site_name = $1, tagline = $2, description = $3, \
     accent_color = $4, time_zone = $5, updated_at = now() \
     RETURNING to_jsonb(site_settings.*) - 'id' AS settings";

/// Statements of this module, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[LOAD, LOCK, SAVE];

/// What the settings form saves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsFields {
    /// The site's name.
    pub site_name: String,
    /// Its tagline.
    pub tagline: String,
    /// Its description.
    pub description: String,
    /// `#rrggbb`, or the stylesheet's own.
    pub accent_color: Option<String>,
    /// An IANA zone PostgreSQL knows.
    pub time_zone: String,
}

async fn one(
    client: &impl GenericClient,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<SiteSettings, StoreError> {
    let statement = client.prepare_cached(sql).await?;
    let row = client.query_one(&statement, params).await?;
    Ok(from_json(&row, "settings")?.unwrap_or_default())
}

/// The settings.
pub async fn load(client: &impl GenericClient) -> Result<SiteSettings, StoreError> {
    one(client, LOAD, &[]).await
}

/// The settings, locked until the caller's transaction ends (the audit row
/// then compares with what really was before).
pub async fn lock(client: &impl GenericClient) -> Result<SiteSettings, StoreError> {
    one(client, LOCK, &[]).await
}

/// Saves `fields`: the settings as they now are.
pub async fn save(
    client: &impl GenericClient,
    fields: &SettingsFields,
) -> Result<SiteSettings, StoreError> {
    one(
        client,
        SAVE,
        &[
            &fields.site_name,
            &fields.tagline,
            &fields.description,
            &fields.accent_color,
            &fields.time_zone,
        ],
    )
    .await
}
