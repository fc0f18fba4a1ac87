//! The embedded PostgreSQL server: bundle unpacking, initdb, start and stop,
//! root, stale servers and locking. See the README's "Data directory" section
//! for the layout this module owns.
//!
//! - `data_dir`: the data directory's paths and private files;
//! - `credentials`: the superuser's credentials kept there;
//! - `cluster`: the cluster on disk, made with the template or initdb;
//! - `server_config`: the settings the server runs with;
//! - `server`: the running server, its start, stop and supervision;
//! - `progress`: the slow boot steps, as they are reported.

pub mod bundle;
mod cluster;
mod credentials;
mod data_dir;
pub mod process;
mod progress;
mod server;
mod server_config;
mod template;
pub mod upgrade;
pub mod user;

use std::path::PathBuf;

pub use bundle::{BUNDLE_VERSION, Installation};
pub use credentials::Credentials;
pub use data_dir::{DataDir, create_private_dir};
pub use progress::{Progress, Quiet, Step};
pub use server::{EmbeddedOptions, EmbeddedPostgres};

/// The database Soloist keeps its data in.
pub const DATABASE_NAME: &str = "soloist";

/// Everything that can go wrong with the embedded server.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// A filesystem or process error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Another Soloist holds the data directory.
    #[error(
        "another Soloist{} is already running on {}; stop it first or choose another --data-dir",
        pid.map(|pid| format!(" (pid {pid})")).unwrap_or_default(),
        data_dir.display()
    )]
    AlreadyRunning {
        /// The data directory.
        data_dir: PathBuf,
        /// The holder's pid, when it wrote one.
        pid: Option<u32>,
    },
    /// The PostgreSQL programs are missing or unusable.
    #[error("PostgreSQL installation: {0}")]
    Installation(String),
    /// Switching to the server user failed.
    #[error("{0}")]
    User(String),
    /// The data directory was made by another PostgreSQL major version.
    #[error(
        "{pgdata} holds a PostgreSQL {found} cluster but this Soloist runs PostgreSQL {expected}; \
         nothing was changed. To upgrade an older cluster, start with --upgrade-from DIR (SOLOIST_UPGRADE_FROM) naming \
         the PostgreSQL {found} installation that made it (a directory with bin/), or run the Soloist that made it."
    )]
    VersionMismatch {
        /// The cluster directory.
        pgdata: PathBuf,
        /// Its major version.
        found: String,
        /// The bundle's major version.
        expected: u32,
    },
    /// Something is unsafe to run on.
    #[error("{0}")]
    Unsafe(String),
    /// Processes from an earlier run would not stop.
    #[error(
        "PostgreSQL processes {0:?} from an earlier run are still using the data directory and would not stop"
    )]
    Orphans(Vec<i32>),
    /// initdb failed.
    #[error("initdb failed: {0}")]
    InitDb(String),
    /// postgresql_embedded failed to start or stop the server.
    #[error("{0}")]
    Server(#[from] postgresql_embedded::Error),
    /// The server answered with an error.
    #[error("PostgreSQL: {0}")]
    Sql(#[from] tokio_postgres::Error),
}
