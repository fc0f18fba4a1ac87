//! The values given on the command line, in the environment or in the
//! configuration file, before defaults: all optional, grouped in sections
//! that are both flag groups and TOML tables.
//!
//! Layering is done once: [`Layer::or`] fills what a higher layer leaves
//! unset from a lower one, field by field, and `layered!` writes it for
//! every section, so a new setting is one field here and one default in
//! [`super::Config::resolve`].

use std::path::PathBuf;

use super::LogFormat;
use super::sections::{
    BackupArgs, DatabaseArgs, GithubArgs, GoogleArgs, MailArgs, MetricsArgs, ServerArgs, StripeArgs,
};

/// One layer of settings that can be laid over a lower one.
pub trait Layer {
    /// These values, with what they leave unset taken from `lower`.
    #[must_use]
    fn or(self, lower: Self) -> Self;
}

impl<T> Layer for Option<T> {
    fn or(self, lower: Self) -> Self {
        Option::or(self, lower)
    }
}

/// Declares a section of optional settings: a clap flag group, a TOML table
/// that refuses keys it does not know, and its [`Layer`] merge.
macro_rules! layered {
    (
        $(#[$attribute:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_attribute:meta])*
                pub $field:ident: $type:ty,
            )*
        }
    ) => {
        #[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, clap::Args)]
        #[serde(default, deny_unknown_fields)]
        $(#[$attribute])*
        pub struct $name {
            $(
                $(#[$field_attribute])*
                pub $field: $type,
            )*
        }

        impl $crate::config::overrides::Layer for $name {
            fn or(self, lower: Self) -> Self {
                Self {
                    $($field: $crate::config::overrides::Layer::or(self.$field, lower.$field),)*
                }
            }
        }
    };
}
pub(super) use layered;

layered! {
    /// Values given on the command line or in the environment (all
    /// optional), and the shape of the configuration file: the settings
    /// every command uses at its top, then one table a section.
    pub struct Overrides {
        /// Where Soloist keeps its database and files.
        #[arg(long, env = "SOLOIST_DATA_DIR", global = true, value_name = "DIR")]
        pub data_dir: Option<PathBuf>,
        /// Log format.
        #[arg(long, env = "SOLOIST_LOG_FORMAT", global = true, value_enum)]
        pub log_format: Option<LogFormat>,
        /// Months of audit trail to keep (whole monthly partitions older are dropped daily; 0 keeps everything).
        #[arg(
            long,
            env = "SOLOIST_AUDIT_RETENTION_MONTHS",
            global = true,
            value_name = "MONTHS"
        )]
        pub audit_retention_months: Option<u32>,
        /// `[server]`: HTTP.
        #[command(flatten)]
        pub server: ServerArgs,
        /// `[database]`: PostgreSQL and the pool.
        #[command(flatten)]
        pub database: DatabaseArgs,
        /// `[mail]`: outgoing mail.
        #[command(flatten)]
        pub mail: MailArgs,
        /// `[github]`: sign-in with GitHub.
        #[command(flatten)]
        pub github: GithubArgs,
        /// `[google]`: sign-in with Google.
        #[command(flatten)]
        pub google: GoogleArgs,
        /// `[stripe]`: billing.
        #[command(flatten)]
        pub stripe: StripeArgs,
        /// `[metrics]`: who may read /metrics.
        #[command(flatten)]
        pub metrics: MetricsArgs,
        /// `[backups]`: scheduled backups.
        #[command(flatten)]
        pub backups: BackupArgs,
    }
}
