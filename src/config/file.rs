//! The configuration file: TOML with the settings every command uses at the
//! top and one table a section. Files written before the tables, with every
//! key at the top, still work: each old key is moved into its table, and
//! reported so the operator can move it too.

use std::fmt;

use super::Overrides;

/// A key the file sets at the top level, the way files were written before
/// sections, that now lives in a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MovedKey {
    /// The old, flat key.
    pub old: &'static str,
    /// Its table now.
    pub table: &'static str,
    /// Its name in the table.
    pub key: &'static str,
}

impl fmt::Display for MovedKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self { old, table, key } = self;
        write!(
            formatter,
            "`{old}` at the top level still works but has moved: write it as `{key}` under `[{table}]`"
        )
    }
}

/// Every flat key that moved into a table: (old key, table, key). The keys
/// that stay at the top (`data_dir`, `log_format`,
/// `audit_retention_months`) are not here.
pub(super) const MOVED: &[(&str, &str, &str)] = &[
    ("listen", "server", "listen"),
    ("base_url", "server", "base_url"),
    ("workers", "server", "workers"),
    ("trusted_proxies", "server", "trusted_proxies"),
    ("share_image", "server", "share_image"),
    ("database_url", "database", "url"),
    ("postgres_dir", "database", "postgres_dir"),
    ("upgrade_from", "database", "upgrade_from"),
    ("system_user", "database", "system_user"),
    ("pool_size", "database", "pool_size"),
    ("pool_timeout_ms", "database", "pool_timeout_ms"),
    ("smtp_url", "mail", "smtp_url"),
    ("mail_from", "mail", "from"),
    ("github_client_id", "github", "client_id"),
    ("github_client_secret", "github", "client_secret"),
    ("github_url", "github", "url"),
    ("github_api_url", "github", "api_url"),
    ("google_client_id", "google", "client_id"),
    ("google_client_secret", "google", "client_secret"),
    ("google_auth_url", "google", "auth_url"),
    ("google_token_url", "google", "token_url"),
    ("google_userinfo_url", "google", "userinfo_url"),
    ("stripe_secret_key", "stripe", "secret_key"),
    ("stripe_webhook_secret", "stripe", "webhook_secret"),
    ("stripe_api_url", "stripe", "api_url"),
    ("metrics_allow", "metrics", "allow"),
    ("metrics_token", "metrics", "token"),
    ("backup_interval_hours", "backups", "interval_hours"),
    ("backup_keep", "backups", "keep"),
];

/// The values in a configuration file's text, and the old flat keys it
/// used; the error is the message to show, without the file's name.
pub fn parse(text: &str) -> Result<(Overrides, Vec<MovedKey>), String> {
    let mut document: toml::Table = toml::from_str(text).map_err(|error| error.to_string())?;
    let moved: Vec<MovedKey> = MOVED
        .iter()
        .filter(|(old, _, _)| document.contains_key(*old))
        .map(|&(old, table, key)| MovedKey { old, table, key })
        .collect();
    if moved.is_empty() {
        // Straight from the text, so errors point at a line.
        let values = toml::from_str(text).map_err(|error| error.to_string())?;
        return Ok((values, moved));
    }
    for entry in &moved {
        move_key(&mut document, entry)?;
    }
    let values = document.try_into().map_err(|error| error.to_string())?;
    Ok((values, moved))
}

fn move_key(document: &mut toml::Table, entry: &MovedKey) -> Result<(), String> {
    let MovedKey { old, table, key } = *entry;
    let Some(value) = document.remove(old) else {
        return Ok(());
    };
    let section = document
        .entry(table)
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    let Some(section) = section.as_table_mut() else {
        return Err(format!("`{table}` must be a table (`[{table}]`)"));
    };
    if section.contains_key(key) {
        return Err(format!(
            "`{old}` at the top level and `{key}` under `[{table}]` are the same setting; keep the one under `[{table}]`"
        ));
    }
    section.insert(key.to_owned(), value);
    Ok(())
}
