//! The values given on the command line, in the environment or in the
//! configuration file, before defaults: all optional.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

use super::LogFormat;

/// Values given on the command line or in the environment (all optional),
/// and the shape of the configuration file.
#[derive(Clone, Debug, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Where Soloist keeps its database and files.
    #[arg(long, env = "SOLOIST_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Use this external PostgreSQL instead of the embedded one.
    #[arg(
        long,
        env = "DATABASE_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// A PostgreSQL installation (a directory with bin/) to run instead of the bundled one.
    #[arg(long, env = "SOLOIST_POSTGRES_DIR", global = true, value_name = "DIR")]
    pub postgres_dir: Option<PathBuf>,
    /// The PostgreSQL installation (a directory with bin/) that made the data
    /// directory's cluster, when it is an older major version to upgrade from.
    #[arg(long, env = "SOLOIST_UPGRADE_FROM", global = true, value_name = "DIR")]
    pub upgrade_from: Option<PathBuf>,
    /// The system user that runs PostgreSQL when Soloist runs as root.
    #[arg(long, env = "SOLOIST_SYSTEM_USER", global = true, value_name = "USER")]
    pub system_user: Option<String>,
    /// Address and port to serve HTTP on.
    #[arg(long, env = "SOLOIST_LISTEN", global = true, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// The public URL of the site, used in links sent by mail.
    #[arg(long, env = "SOLOIST_BASE_URL", global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Database connections in the pool.
    #[arg(long, env = "SOLOIST_POOL_SIZE", global = true, value_name = "N")]
    pub pool_size: Option<usize>,
    /// HTTP worker threads.
    #[arg(long, env = "SOLOIST_WORKERS", global = true, value_name = "N")]
    pub workers: Option<usize>,
    /// Log format.
    #[arg(long, env = "SOLOIST_LOG_FORMAT", global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// The SMTP server for outgoing mail (smtp://user:pass@host:587?tls=required, smtps://host:465).
    #[arg(
        long,
        env = "SOLOIST_SMTP_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// The From address of outgoing mail.
    #[arg(long, env = "SOLOIST_MAIL_FROM", global = true, value_name = "ADDRESS")]
    pub mail_from: Option<String>,
    /// GitHub OAuth app client id (enables "Sign in with GitHub").
    #[arg(
        long,
        env = "SOLOIST_GITHUB_CLIENT_ID",
        global = true,
        value_name = "ID"
    )]
    pub github_client_id: Option<String>,
    /// GitHub OAuth app client secret.
    #[arg(
        long,
        env = "SOLOIST_GITHUB_CLIENT_SECRET",
        global = true,
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub github_client_secret: Option<String>,
    /// GitHub's web URL (authorize and token endpoints live under it).
    #[arg(long, env = "SOLOIST_GITHUB_URL", global = true, value_name = "URL")]
    pub github_url: Option<String>,
    /// GitHub's API URL.
    #[arg(
        long,
        env = "SOLOIST_GITHUB_API_URL",
        global = true,
        value_name = "URL"
    )]
    pub github_api_url: Option<String>,
    /// Google OAuth client id (enables "Sign in with Google").
    #[arg(
        long,
        env = "SOLOIST_GOOGLE_CLIENT_ID",
        global = true,
        value_name = "ID"
    )]
    pub google_client_id: Option<String>,
    /// Google OAuth client secret.
    #[arg(
        long,
        env = "SOLOIST_GOOGLE_CLIENT_SECRET",
        global = true,
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub google_client_secret: Option<String>,
    /// Google's authorization URL.
    #[arg(
        long,
        env = "SOLOIST_GOOGLE_AUTH_URL",
        global = true,
        value_name = "URL"
    )]
    pub google_auth_url: Option<String>,
    /// Google's token URL.
    #[arg(
        long,
        env = "SOLOIST_GOOGLE_TOKEN_URL",
        global = true,
        value_name = "URL"
    )]
    pub google_token_url: Option<String>,
    /// Google's userinfo URL.
    #[arg(
        long,
        env = "SOLOIST_GOOGLE_USERINFO_URL",
        global = true,
        value_name = "URL"
    )]
    pub google_userinfo_url: Option<String>,
    /// Months of audit trail to keep (whole monthly partitions older are dropped daily; 0 keeps everything).
    #[arg(
        long,
        env = "SOLOIST_AUDIT_RETENTION_MONTHS",
        global = true,
        value_name = "MONTHS"
    )]
    pub audit_retention_months: Option<u32>,
    /// Hours between scheduled backups of the embedded database while serving (0: none).
    #[arg(
        long,
        env = "SOLOIST_BACKUP_INTERVAL_HOURS",
        global = true,
        value_name = "HOURS"
    )]
    pub backup_interval_hours: Option<u32>,
    /// Scheduled backups kept in <data dir>/backups (older ones are deleted).
    #[arg(long, env = "SOLOIST_BACKUP_KEEP", global = true, value_name = "N")]
    pub backup_keep: Option<u32>,
    /// Stripe secret API key (enables Checkout, the Customer Portal and plan changes).
    #[arg(
        long,
        env = "SOLOIST_STRIPE_SECRET_KEY",
        global = true,
        value_name = "KEY",
        hide_env_values = true
    )]
    pub stripe_secret_key: Option<String>,
    /// The signing secret of the Stripe webhook endpoint (whsec_...).
    #[arg(
        long,
        env = "SOLOIST_STRIPE_WEBHOOK_SECRET",
        global = true,
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub stripe_webhook_secret: Option<String>,
    /// Stripe's API URL.
    #[arg(
        long,
        env = "SOLOIST_STRIPE_API_URL",
        global = true,
        value_name = "URL"
    )]
    pub stripe_api_url: Option<String>,
    /// Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed.
    #[arg(
        long,
        env = "SOLOIST_TRUSTED_PROXIES",
        global = true,
        value_name = "CIDR,...",
        value_delimiter = ','
    )]
    pub trusted_proxies: Option<Vec<String>>,
    /// Peers (addresses or CIDR ranges) besides loopback that may read /metrics.
    #[arg(
        long,
        env = "SOLOIST_METRICS_ALLOW",
        global = true,
        value_name = "CIDR,...",
        value_delimiter = ','
    )]
    pub metrics_allow: Option<Vec<String>>,
    /// A bearer token that opens /metrics from anywhere.
    #[arg(
        long,
        env = "SOLOIST_METRICS_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub metrics_token: Option<String>,
    /// The image link previews show for a post without an image of its own (og:image).
    #[arg(long, env = "SOLOIST_SHARE_IMAGE", global = true, value_name = "URL")]
    pub share_image: Option<String>,
    /// How long a request waits for a free database connection before a 503.
    #[arg(
        long,
        env = "SOLOIST_POOL_TIMEOUT_MS",
        global = true,
        value_name = "MS"
    )]
    pub pool_timeout_ms: Option<u64>,
}

impl Overrides {
    /// Fills unset values from `lower`.
    pub(super) fn or(self, lower: Self) -> Self {
        Self {
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            postgres_dir: self.postgres_dir.or(lower.postgres_dir),
            upgrade_from: self.upgrade_from.or(lower.upgrade_from),
            system_user: self.system_user.or(lower.system_user),
            listen: self.listen.or(lower.listen),
            base_url: self.base_url.or(lower.base_url),
            pool_size: self.pool_size.or(lower.pool_size),
            workers: self.workers.or(lower.workers),
            log_format: self.log_format.or(lower.log_format),
            smtp_url: self.smtp_url.or(lower.smtp_url),
            mail_from: self.mail_from.or(lower.mail_from),
            github_client_id: self.github_client_id.or(lower.github_client_id),
            github_client_secret: self.github_client_secret.or(lower.github_client_secret),
            github_url: self.github_url.or(lower.github_url),
            github_api_url: self.github_api_url.or(lower.github_api_url),
            google_client_id: self.google_client_id.or(lower.google_client_id),
            google_client_secret: self.google_client_secret.or(lower.google_client_secret),
            google_auth_url: self.google_auth_url.or(lower.google_auth_url),
            google_token_url: self.google_token_url.or(lower.google_token_url),
            google_userinfo_url: self.google_userinfo_url.or(lower.google_userinfo_url),
            stripe_secret_key: self.stripe_secret_key.or(lower.stripe_secret_key),
            stripe_webhook_secret: self.stripe_webhook_secret.or(lower.stripe_webhook_secret),
            stripe_api_url: self.stripe_api_url.or(lower.stripe_api_url),
            audit_retention_months: self.audit_retention_months.or(lower.audit_retention_months),
            backup_interval_hours: self.backup_interval_hours.or(lower.backup_interval_hours),
            backup_keep: self.backup_keep.or(lower.backup_keep),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            metrics_allow: self.metrics_allow.or(lower.metrics_allow),
            metrics_token: self.metrics_token.or(lower.metrics_token),
            share_image: self.share_image.or(lower.share_image),
            pool_timeout_ms: self.pool_timeout_ms.or(lower.pool_timeout_ms),
        }
    }
}
