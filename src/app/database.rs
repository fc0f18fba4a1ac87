//! Where the database lives: the embedded server, or an external one.

use std::path::PathBuf;
use std::sync::Arc;

use super::{MAIN_POOL_SIZE, StartError};
use crate::config::Config;
use crate::postgres::{DATABASE_NAME, EmbeddedOptions, EmbeddedPostgres, PostgresError, Progress};

/// Where the database lives.
pub enum Database {
    /// The embedded server, stopped with Soloist (shared with the task that
    /// restarts it if it dies).
    Embedded(Arc<EmbeddedPostgres>),
    /// An external server named by `DATABASE_URL`.
    External(Box<tokio_postgres::Config>),
}

impl Database {
    /// Boots the embedded server, or parses `DATABASE_URL`.
    pub async fn open(
        config: &Config,
        runner: PathBuf,
        progress: &dyn Progress,
    ) -> Result<Self, StartError> {
        match &config.database_url {
            Some(url) => url
                .parse::<tokio_postgres::Config>()
                .map(|config| Self::External(Box::new(config)))
                .map_err(|error| StartError::DatabaseUrl(error.to_string())),
            None => {
                let options = EmbeddedOptions {
                    data_dir: config.data_dir.clone(),
                    postgres_dir: config.postgres_dir.clone(),
                    upgrade_from: config.upgrade_from.clone(),
                    system_user: config.system_user.clone(),
                    runner,
                    // The workers' pools (each share rounded up), the main
                    // pool, and room for the operator and backups.
                    max_connections: (config.pool_size + config.workers + MAIN_POOL_SIZE + 15)
                        .max(25),
                };
                Ok(Self::Embedded(Arc::new(
                    EmbeddedPostgres::start(&options, progress).await?,
                )))
            }
        }
    }

    /// How to connect to Soloist's database.
    pub fn connect_config(&self) -> tokio_postgres::Config {
        match self {
            Self::Embedded(server) => server.connect_config(DATABASE_NAME),
            Self::External(config) => (**config).clone(),
        }
    }

    /// Stops the embedded server; nothing to do for an external one.
    pub async fn close(self) -> Result<(), PostgresError> {
        match self {
            Self::Embedded(server) => match Arc::try_unwrap(server) {
                Ok(server) => server.stop().await,
                Err(_) => Err(PostgresError::Unsafe(
                    "the embedded PostgreSQL is still in use and was not stopped".to_owned(),
                )),
            },
            Self::External(_) => Ok(()),
        }
    }

    /// Starts the task that restarts the embedded server if it dies.
    pub(super) fn supervise(&self) -> Option<tokio::task::JoinHandle<()>> {
        match self {
            Self::Embedded(server) => Some(tokio::spawn(server.clone().supervise())),
            Self::External(_) => None,
        }
    }
}
