//! The sections of [`super::Overrides`]: each a group of flags under its own
//! heading in `--help`, and a table of the configuration file whose keys are
//! the field names (the flag names keep the section's prefix:
//! `--stripe-secret-key` is `secret_key` under `[stripe]`).

use std::net::SocketAddr;
use std::path::PathBuf;

use super::overrides::layered;

layered! {
    /// `[server]`: HTTP.
    #[command(next_help_heading = "Server")]
    pub struct ServerArgs {
        /// Address and port to serve HTTP on.
        #[arg(long, env = "SOLOIST_LISTEN", global = true, value_name = "ADDR:PORT")]
        pub listen: Option<SocketAddr>,
        /// The public URL of the site, used in links sent by mail.
        #[arg(long, env = "SOLOIST_BASE_URL", global = true, value_name = "URL")]
        pub base_url: Option<String>,
        /// HTTP worker threads.
        #[arg(long, env = "SOLOIST_WORKERS", global = true, value_name = "N")]
        pub workers: Option<usize>,
        /// Reverse proxies (addresses or CIDR ranges) whose X-Forwarded-For is believed.
        #[arg(
            long,
            env = "SOLOIST_TRUSTED_PROXIES",
            global = true,
            value_name = "CIDR,...",
            value_delimiter = ','
        )]
        pub trusted_proxies: Option<Vec<String>>,
        /// The image link previews show for a post without an image of its own (og:image).
        #[arg(long, env = "SOLOIST_SHARE_IMAGE", global = true, value_name = "URL")]
        pub share_image: Option<String>,
    }
}

layered! {
    /// `[database]`: PostgreSQL, embedded or not, and the connection pool.
    #[command(next_help_heading = "Database")]
    pub struct DatabaseArgs {
        /// Use this external PostgreSQL instead of the embedded one.
        #[arg(
            id = "database_url",
            long = "database-url",
            env = "DATABASE_URL",
            global = true,
            value_name = "URL",
            hide_env_values = true
        )]
        pub url: Option<String>,
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
        /// Database connections in the pool.
        #[arg(long, env = "SOLOIST_POOL_SIZE", global = true, value_name = "N")]
        pub pool_size: Option<usize>,
        /// How long a request waits for a free database connection before a 503.
        #[arg(
            long,
            env = "SOLOIST_POOL_TIMEOUT_MS",
            global = true,
            value_name = "MS"
        )]
        pub pool_timeout_ms: Option<u64>,
    }
}

layered! {
    /// `[mail]`: outgoing mail.
    #[command(next_help_heading = "Mail")]
    pub struct MailArgs {
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
        #[arg(
            id = "mail_from",
            long = "mail-from",
            env = "SOLOIST_MAIL_FROM",
            global = true,
            value_name = "ADDRESS"
        )]
        pub from: Option<String>,
    }
}

layered! {
    /// `[github]`: "Sign in with GitHub".
    #[command(next_help_heading = "GitHub")]
    pub struct GithubArgs {
        /// GitHub OAuth app client id (enables "Sign in with GitHub").
        #[arg(
            id = "github_client_id",
            long = "github-client-id",
            env = "SOLOIST_GITHUB_CLIENT_ID",
            global = true,
            value_name = "ID"
        )]
        pub client_id: Option<String>,
        /// GitHub OAuth app client secret.
        #[arg(
            id = "github_client_secret",
            long = "github-client-secret",
            env = "SOLOIST_GITHUB_CLIENT_SECRET",
            global = true,
            value_name = "SECRET",
            hide_env_values = true
        )]
        pub client_secret: Option<String>,
        /// GitHub's web URL (authorize and token endpoints live under it).
        #[arg(
            id = "github_url",
            long = "github-url",
            env = "SOLOIST_GITHUB_URL",
            global = true,
            value_name = "URL"
        )]
        pub url: Option<String>,
        /// GitHub's API URL.
        #[arg(
            id = "github_api_url",
            long = "github-api-url",
            env = "SOLOIST_GITHUB_API_URL",
            global = true,
            value_name = "URL"
        )]
        pub api_url: Option<String>,
    }
}

layered! {
    /// `[google]`: "Sign in with Google".
    #[command(next_help_heading = "Google")]
    pub struct GoogleArgs {
        /// Google OAuth client id (enables "Sign in with Google").
        #[arg(
            id = "google_client_id",
            long = "google-client-id",
            env = "SOLOIST_GOOGLE_CLIENT_ID",
            global = true,
            value_name = "ID"
        )]
        pub client_id: Option<String>,
        /// Google OAuth client secret.
        #[arg(
            id = "google_client_secret",
            long = "google-client-secret",
            env = "SOLOIST_GOOGLE_CLIENT_SECRET",
            global = true,
            value_name = "SECRET",
            hide_env_values = true
        )]
        pub client_secret: Option<String>,
        /// Google's authorization URL.
        #[arg(
            id = "google_auth_url",
            long = "google-auth-url",
            env = "SOLOIST_GOOGLE_AUTH_URL",
            global = true,
            value_name = "URL"
        )]
        pub auth_url: Option<String>,
        /// Google's token URL.
        #[arg(
            id = "google_token_url",
            long = "google-token-url",
            env = "SOLOIST_GOOGLE_TOKEN_URL",
            global = true,
            value_name = "URL"
        )]
        pub token_url: Option<String>,
        /// Google's userinfo URL.
        #[arg(
            id = "google_userinfo_url",
            long = "google-userinfo-url",
            env = "SOLOIST_GOOGLE_USERINFO_URL",
            global = true,
            value_name = "URL"
        )]
        pub userinfo_url: Option<String>,
    }
}

layered! {
    /// `[stripe]`: billing with Stripe.
    #[command(next_help_heading = "Stripe")]
    pub struct StripeArgs {
        /// Stripe secret API key (enables Checkout, the Customer Portal and plan changes).
        #[arg(
            id = "stripe_secret_key",
            long = "stripe-secret-key",
            env = "SOLOIST_STRIPE_SECRET_KEY",
            global = true,
            value_name = "KEY",
            hide_env_values = true
        )]
        pub secret_key: Option<String>,
        /// The signing secret of the Stripe webhook endpoint (whsec_...).
        #[arg(
            id = "stripe_webhook_secret",
            long = "stripe-webhook-secret",
            env = "SOLOIST_STRIPE_WEBHOOK_SECRET",
            global = true,
            value_name = "SECRET",
            hide_env_values = true
        )]
        pub webhook_secret: Option<String>,
        /// Stripe's API URL.
        #[arg(
            id = "stripe_api_url",
            long = "stripe-api-url",
            env = "SOLOIST_STRIPE_API_URL",
            global = true,
            value_name = "URL"
        )]
        pub api_url: Option<String>,
    }
}

layered! {
    /// `[metrics]`: who may read /metrics besides loopback.
    #[command(next_help_heading = "Metrics")]
    pub struct MetricsArgs {
        /// Peers (addresses or CIDR ranges) besides loopback that may read /metrics.
        #[arg(
            id = "metrics_allow",
            long = "metrics-allow",
            env = "SOLOIST_METRICS_ALLOW",
            global = true,
            value_name = "CIDR,...",
            value_delimiter = ','
        )]
        pub allow: Option<Vec<String>>,
        /// A bearer token that opens /metrics from anywhere.
        #[arg(
            id = "metrics_token",
            long = "metrics-token",
            env = "SOLOIST_METRICS_TOKEN",
            global = true,
            value_name = "TOKEN",
            hide_env_values = true
        )]
        pub token: Option<String>,
    }
}

layered! {
    /// `[backups]`: the backups `serve` makes on a schedule.
    #[command(next_help_heading = "Backups")]
    pub struct BackupArgs {
        /// Hours between scheduled backups of the embedded database while serving (0: none).
        #[arg(
            id = "backup_interval_hours",
            long = "backup-interval-hours",
            env = "SOLOIST_BACKUP_INTERVAL_HOURS",
            global = true,
            value_name = "HOURS"
        )]
        pub interval_hours: Option<u32>,
        /// Scheduled backups kept in <data dir>/backups (older ones are deleted).
        #[arg(
            id = "backup_keep",
            long = "backup-keep",
            env = "SOLOIST_BACKUP_KEEP",
            global = true,
            value_name = "N"
        )]
        pub keep: Option<u32>,
    }
}
