//! One typed configuration, from flags > environment > file > defaults.
//!
//! clap reads flags and their `SOLOIST_*` (or `DATABASE_URL`) variables into
//! [`Overrides`], one group a section; an optional TOML file, with one
//! table a section, fills what they leave unset ([`Layer::or`]); the
//! defaults, all in [`Config::resolve`], fill the rest. Every field is
//! documented in the README's configuration table.

mod file;
mod overrides;
mod sections;
#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::accounts::oauth::{GitHubSettings, GoogleSettings, Provider};
use crate::billing::stripe::StripeConfig;
pub use file::MovedKey;
pub use overrides::{Layer, Overrides};
pub use sections::{
    BackupArgs, DatabaseArgs, GithubArgs, GoogleArgs, MailArgs, MetricsArgs, ServerArgs, StripeArgs,
};

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line, for log shippers.
    Json,
}

/// Soloist's configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where Soloist keeps its database and files.
    pub data_dir: PathBuf,
    /// An external PostgreSQL, instead of the embedded one.
    pub database_url: Option<String>,
    /// A PostgreSQL installation to run instead of the bundled one.
    pub postgres_dir: Option<PathBuf>,
    /// The installation of an older major version to upgrade the cluster from.
    pub upgrade_from: Option<PathBuf>,
    /// The system user that runs PostgreSQL when Soloist runs as root.
    pub system_user: String,
    /// Address and port to serve HTTP on.
    pub listen: SocketAddr,
    /// The public URL of the site; defaults to `http://<listen>`.
    pub base_url: Option<String>,
    /// Database connections in the pool.
    pub pool_size: usize,
    /// HTTP worker threads.
    pub workers: usize,
    /// Log format.
    pub log_format: LogFormat,
    /// The SMTP server; none means the development outbox.
    pub smtp_url: Option<String>,
    /// The From address of outgoing mail.
    pub mail_from: String,
    /// Sign-in providers that are configured.
    pub oauth: Vec<Provider>,
    /// Stripe, when configured.
    pub stripe: Option<StripeConfig>,
    /// Months of audit trail kept (0: all).
    pub audit_retention_months: u32,
    /// Hours between scheduled backups (0: no scheduled backups).
    pub backup_interval_hours: u32,
    /// Scheduled backups kept.
    pub backup_keep: u32,
    /// Reverse proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Peers besides loopback that may read /metrics.
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// A bearer token that opens /metrics from anywhere.
    pub metrics_token: Option<String>,
    /// The og:image of posts without an image (an absolute http(s) URL).
    pub share_image: Option<String>,
    /// How long a request waits for a free database connection.
    pub pool_timeout: std::time::Duration,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("the configuration file {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, from the TOML parser.
        message: String,
    },
    /// A value is out of range.
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Builds the configuration from the command line and environment
    /// (`flags`), an optional TOML file and the defaults. Also returns the
    /// old flat keys the file still uses, to warn about once logging is up.
    pub fn load(
        flags: Overrides,
        file: Option<&Path>,
    ) -> Result<(Self, Vec<MovedKey>), ConfigError> {
        let Some(path) = file else {
            return Ok((Self::resolve(flags)?, Vec::new()));
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let (from_file, moved) = file::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        Ok((Self::resolve(flags.or(from_file))?, moved))
    }

    /// Fills defaults into `values`.
    pub fn resolve(values: Overrides) -> Result<Self, ConfigError> {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let Overrides {
            data_dir,
            log_format,
            audit_retention_months,
            server,
            database,
            mail,
            github,
            google,
            stripe,
            metrics,
            backups,
        } = values;
        let config = Self {
            data_dir: data_dir.unwrap_or_else(default_data_dir),
            database_url: database.url.filter(|url| !url.trim().is_empty()),
            postgres_dir: database.postgres_dir,
            upgrade_from: database.upgrade_from,
            system_user: database.system_user.unwrap_or_else(|| "soloist".to_owned()),
            listen: server
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            base_url: server
                .base_url
                .map(|url| url.trim_end_matches('/').to_owned()),
            pool_size: database.pool_size.unwrap_or((cores * 4).clamp(4, 32)),
            workers: server.workers.unwrap_or(cores),
            log_format: log_format.unwrap_or_default(),
            smtp_url: mail.smtp_url.filter(|url| !url.trim().is_empty()),
            mail_from: mail
                .from
                .unwrap_or_else(|| "Soloist <no-reply@localhost>".to_owned()),
            oauth: [github_provider(github), google_provider(google)]
                .into_iter()
                .flatten()
                .collect(),
            stripe: stripe_config(stripe),
            audit_retention_months: audit_retention_months.unwrap_or(24),
            backup_interval_hours: backups.interval_hours.unwrap_or(24),
            backup_keep: backups.keep.unwrap_or(7),
            trusted_proxies: networks("trusted_proxies", server.trusted_proxies)?,
            metrics_allow: networks("metrics_allow", metrics.allow)?,
            metrics_token: metrics.token.filter(|token| !token.trim().is_empty()),
            share_image: server
                .share_image
                .map(|url| url.trim().to_owned())
                .filter(|url| !url.is_empty()),
            pool_timeout: std::time::Duration::from_millis(
                database.pool_timeout_ms.unwrap_or(2000),
            ),
        };
        if config.pool_timeout.is_zero() {
            return Err(ConfigError::Invalid(
                "pool_timeout_ms must be at least 1".to_owned(),
            ));
        }
        if config.backup_keep == 0 {
            return Err(ConfigError::Invalid(
                "backup_keep must be at least 1 (turn scheduled backups off with backup_interval_hours = 0)".to_owned(),
            ));
        }
        if config.pool_size == 0 || config.workers == 0 {
            return Err(ConfigError::Invalid(
                "pool_size and workers must be at least 1".to_owned(),
            ));
        }
        if let Some(url) = &config.share_image
            && (!(url.starts_with("http://") || url.starts_with("https://"))
                || url.contains(['"', '<', '>', ' ']))
        {
            return Err(ConfigError::Invalid(format!(
                "share_image must be an absolute http:// or https:// URL (got {url:?})"
            )));
        }
        if let Some(url) = &config.base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(ConfigError::Invalid(format!(
                "base_url must start with http:// or https:// (got {url:?})"
            )));
        }
        Ok(config)
    }

    /// The public URL of the site.
    pub fn base_url(&self) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }
}

/// GitHub sign-in, when its client id and secret are both set.
fn github_provider(section: GithubArgs) -> Option<Provider> {
    let (Some(client_id), Some(client_secret)) = (section.client_id, section.client_secret) else {
        return None;
    };
    Some(Provider::github(GitHubSettings {
        client_id,
        client_secret,
        web_url: section
            .url
            .unwrap_or_else(|| "https://github.com".to_owned()),
        api_url: section
            .api_url
            .unwrap_or_else(|| "https://api.github.com".to_owned()),
    }))
}

/// Google sign-in, when its client id and secret are both set.
fn google_provider(section: GoogleArgs) -> Option<Provider> {
    let (Some(client_id), Some(client_secret)) = (section.client_id, section.client_secret) else {
        return None;
    };
    Some(Provider::google(GoogleSettings {
        client_id,
        client_secret,
        auth_url: section
            .auth_url
            .unwrap_or_else(|| "https://accounts.google.com/o/oauth2/v2/auth".to_owned()),
        token_url: section
            .token_url
            .unwrap_or_else(|| "https://oauth2.googleapis.com/token".to_owned()),
        userinfo_url: section
            .userinfo_url
            .unwrap_or_else(|| "https://openidconnect.googleapis.com/v1/userinfo".to_owned()),
    }))
}

/// Stripe, when a secret key or a webhook secret is set (blank ones are
/// not set).
fn stripe_config(section: StripeArgs) -> Option<StripeConfig> {
    let present = |value: Option<String>| {
        value
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let secret_key = present(section.secret_key);
    let webhook_secret = present(section.webhook_secret);
    if secret_key.is_none() && webhook_secret.is_none() {
        return None;
    }
    Some(StripeConfig {
        secret_key,
        webhook_secret,
        api_url: present(section.api_url)
            .unwrap_or_else(|| "https://api.stripe.com".to_owned())
            .trim_end_matches('/')
            .to_owned(),
    })
}

/// Parses a list of addresses (`10.0.0.1`, `::1`) and CIDR ranges
/// (`10.0.0.0/8`); empty entries are skipped.
fn networks(setting: &str, values: Option<Vec<String>>) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    values
        .unwrap_or_default()
        .iter()
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .map(|value| {
            value
                .parse::<ipnet::IpNet>()
                .or_else(|_| value.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map(|network| network.trunc())
                .map_err(|_| {
                    ConfigError::Invalid(format!(
                        "{setting}: {value:?} is not an IP address or CIDR range (e.g. 10.0.0.0/8)"
                    ))
                })
        })
        .collect()
}

/// Root keeps its data where system services do; everyone else in the
/// platform's per-user data directory (`~/.local/share/soloist` on Linux).
pub fn default_data_dir() -> PathBuf {
    if nix::unistd::Uid::effective().is_root() {
        return PathBuf::from("/var/lib/soloist");
    }
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("soloist")
}
