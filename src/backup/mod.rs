//! Backups of Soloist's database: `soloist backup` and `soloist restore`,
//! the scheduled backups `serve` makes, and the admin page that lists them.
//!
//! A backup is a `pg_dump --format=custom` archive made by the PostgreSQL
//! client programs of the bundle (or of `--postgres-dir`). pg_dump reads one
//! snapshot, so a backup taken while Soloist serves is consistent without
//! stopping anything. Files live in `<data dir>/backups/` unless told
//! otherwise, are 0600 in a 0700 directory, and appear under their final
//! name only once pg_dump has succeeded and the archive reads back.

mod files;
pub mod pages;
pub mod restore;
mod run;
pub mod schedule;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;

pub use files::{
    BackupFile, backup_name, backups_dir, create_dir, is_backup_name, list, newest, prune,
    unique_path,
};
pub use run::{Tools, dump};

/// Everything that can go wrong with a backup or a restore.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// A file or a process could not be handled.
    #[error("{context}: {reason}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed (shown in the message, so not also a `source`).
        reason: std::io::Error,
    },
    /// pg_dump or pg_restore failed.
    #[error("{program} failed: {message}")]
    Tool {
        /// The program.
        program: &'static str,
        /// Its last lines of output.
        message: String,
    },
    /// The file is not a pg_dump archive in custom format.
    #[error("{0} is not a Soloist backup (a pg_dump archive in custom format)")]
    NotAnArchive(PathBuf),
    /// The embedded server or the data directory is not usable.
    #[error(transparent)]
    Postgres(#[from] crate::postgres::PostgresError),
    /// The database answered with an error.
    #[error("PostgreSQL: {0}")]
    Sql(#[from] tokio_postgres::Error),
    /// Starting the embedded database failed.
    #[error(transparent)]
    Start(#[from] crate::app::StartError),
    /// Migrating the restored database failed.
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    /// The request cannot be carried out as asked.
    #[error("{0}")]
    Refused(String),
}

impl BackupError {
    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, reason: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            reason,
        }
    }
}

/// The last backup that succeeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastBackup {
    /// When it finished (for files found at start, their modification time).
    pub at: OffsetDateTime,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its file name in the backups directory.
    pub name: String,
}

/// How a running Soloist makes backups of its embedded database.
#[derive(Clone, Debug)]
pub struct BackupJob {
    /// The client programs and who runs them.
    pub tools: Tools,
    /// How pg_dump reaches the database.
    pub connect: tokio_postgres::Config,
}

/// The backups of a running Soloist, shared by the scheduler, the admin page
/// and the metrics: where they go, how to make one, and how the last went.
#[derive(Clone, Default)]
pub struct Backups {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    dir: Option<PathBuf>,
    job: Option<BackupJob>,
    last_success: Mutex<Option<LastBackup>>,
    last_failure: Mutex<Option<OffsetDateTime>>,
    running: Arc<tokio::sync::Mutex<()>>,
}

impl Backups {
    /// Backups in `dir`, made by `job` when Soloist can make them itself
    /// (the embedded database), else only listed. The newest file already
    /// in `dir` counts as the last success.
    pub fn new(dir: PathBuf, job: Option<BackupJob>) -> Self {
        let last = newest(&dir).map(|file| LastBackup {
            at: file.modified,
            bytes: file.bytes,
            name: file.name,
        });
        Self {
            inner: Arc::new(Inner {
                dir: Some(dir),
                job,
                last_success: Mutex::new(last),
                last_failure: Mutex::new(None),
                running: Arc::new(tokio::sync::Mutex::new(())),
            }),
        }
    }

    /// Where backups go, if this Soloist has a data directory.
    pub fn dir(&self) -> Option<&Path> {
        self.inner.dir.as_deref()
    }

    /// True when this Soloist can make backups itself.
    pub fn can_back_up(&self) -> bool {
        self.inner.dir.is_some() && self.inner.job.is_some()
    }

    /// The last backup that succeeded (made by this process, or the newest
    /// file found at start).
    pub fn last_success(&self) -> Option<LastBackup> {
        self.inner
            .last_success
            .lock()
            .map(|last| last.clone())
            .unwrap_or_default()
    }

    /// When the last backup of this process failed, if it did after the
    /// last success.
    pub fn last_failure(&self) -> Option<OffsetDateTime> {
        self.inner
            .last_failure
            .lock()
            .map(|last| *last)
            .unwrap_or_default()
    }

    /// True while a backup runs.
    pub fn is_running(&self) -> bool {
        self.inner.running.try_lock().is_err()
    }

    /// Claims the right to run the one backup at a time, or None while one
    /// runs. The claim ends when the returned guard is dropped.
    pub fn claim(&self) -> Option<BackupClaim> {
        let guard = self.inner.running.clone().try_lock_owned().ok()?;
        Some(BackupClaim {
            backups: self.clone(),
            _guard: guard,
        })
    }
}

/// The right to run a backup now (see [`Backups::claim`]).
pub struct BackupClaim {
    backups: Backups,
    _guard: RunningGuard,
}

type RunningGuard = tokio::sync::OwnedMutexGuard<()>;

impl BackupClaim {
    /// Makes a backup named `name` in the backups directory, records its
    /// outcome, and returns the file.
    pub async fn run(self, name: &str) -> Result<BackupFile, BackupError> {
        let inner = &self.backups.inner;
        let (Some(dir), Some(job)) = (&inner.dir, &inner.job) else {
            return Err(BackupError::Refused(
                "this Soloist uses an external database: make backups with `soloist backup`"
                    .to_owned(),
            ));
        };
        let result = async {
            files::create_dir(dir, &job.tools)?;
            dump(&job.tools, &job.connect, &dir.join(name), None).await
        }
        .await;
        match &result {
            Ok(file) => {
                if let Ok(mut last) = inner.last_success.lock() {
                    *last = Some(LastBackup {
                        at: file.modified,
                        bytes: file.bytes,
                        name: file.name.clone(),
                    });
                }
                if let Ok(mut failure) = inner.last_failure.lock() {
                    *failure = None;
                }
            }
            Err(_) => {
                if let Ok(mut failure) = inner.last_failure.lock() {
                    *failure = Some(OffsetDateTime::now_utc());
                }
            }
        }
        result
    }

    /// A fresh name for a backup made now.
    pub fn next_name(&self) -> String {
        let now = OffsetDateTime::now_utc();
        match self.backups.dir() {
            Some(dir) => unique_path(dir, now, None)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_else(|| backup_name(now, None)),
            None => backup_name(now, None),
        }
    }
}

/// The last backup that succeeded on the Soloist serving `state` (what the
/// metrics report as the backups' last success).
pub fn last_success(state: &crate::web::AppState) -> Option<LastBackup> {
    state.backups.last_success()
}

/// The backups of a Soloist about to serve on `database`: made by the
/// bundled pg_dump for the embedded database, only listed (from
/// `<data dir>/backups`, where `soloist backup` puts them) for an external one.
pub fn for_serve(
    config: &crate::config::Config,
    database: &crate::app::Database,
) -> Result<Backups, BackupError> {
    match database {
        crate::app::Database::Embedded(server) => {
            let data_dir = server.data_dir();
            let tools = Tools::new(
                server.installation().dir.clone(),
                &data_dir.root,
                &config.system_user,
            )?;
            Ok(Backups::new(
                backups_dir(&data_dir.root),
                Some(BackupJob {
                    tools,
                    connect: server.connect_config(crate::postgres::DATABASE_NAME),
                }),
            ))
        }
        crate::app::Database::External(_) => Ok(Backups::new(backups_dir(&config.data_dir), None)),
    }
}
