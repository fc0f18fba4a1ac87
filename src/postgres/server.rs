//! The running embedded server: start (unpack, initialise, recover,
//! upgrade), stop, and the watch that starts it again if it dies.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use postgresql_embedded::{PostgreSQL, Settings, VersionReq};

use super::bundle::{self, Installation};
use super::cluster::{cluster_major, init_cluster, remove_partial_clusters, version_mismatch};
use super::credentials::Credentials;
use super::data_dir::{DataDir, MAX_SOCKET_PATH, PORT, create_private_dir};
use super::process::{self, DataDirLock};
use super::progress::{Progress, Step, timed};
use super::server_config::{rotate_server_log, server_configuration, with_statement_statistics};
use super::user::ServerUser;
use super::{DATABASE_NAME, PostgresError, template, upgrade};

/// How to run the embedded server.
#[derive(Clone, Debug)]
pub struct EmbeddedOptions {
    /// The data directory (created 0700 if missing).
    pub data_dir: PathBuf,
    /// A PostgreSQL installation to use instead of the bundle.
    pub postgres_dir: Option<PathBuf>,
    /// The installation of the older major version that made the cluster,
    /// to upgrade from (otherwise a kept bundle of that version is looked for).
    pub upgrade_from: Option<PathBuf>,
    /// The system user that runs PostgreSQL when Soloist runs as root.
    pub system_user: String,
    /// The Soloist executable the root shims re-execute.
    pub runner: PathBuf,
    /// The server's connection limit: the pool plus room for `soloist psql`,
    /// backups and a second instance's migrations. Every allowed connection
    /// costs shared memory the server touches at start.
    pub max_connections: usize,
}

/// A running embedded PostgreSQL. Stop it with [`EmbeddedPostgres::stop`];
/// if it is dropped instead, postgresql_embedded stops the server.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    /// Locked while the server is being restarted after it died.
    server: tokio::sync::Mutex<PostgreSQL>,
    data_dir: DataDir,
    credentials: Credentials,
    installation: Installation,
    _lock: DataDirLock,
}

impl EmbeddedPostgres {
    /// Unpacks, initialises (first run), recovers (after a crash) and starts
    /// the server on `options.data_dir`, then creates the Soloist database.
    pub async fn start(
        options: &EmbeddedOptions,
        progress: &dyn Progress,
    ) -> Result<Self, PostgresError> {
        create_private_dir(&options.data_dir)?;
        let root = fs::canonicalize(&options.data_dir)?;
        let data_dir = DataDir { root };
        let socket = data_dir.socket_dir().join(format!(".s.PGSQL.{PORT}"));
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(PostgresError::Unsafe(format!(
                "the data directory path is too long for a unix socket ({}); choose a shorter --data-dir",
                socket.display()
            )));
        }
        let lock = DataDirLock::acquire(&data_dir.root)?;
        let user = ServerUser::for_data_dir(&data_dir.root, &options.system_user)?;
        user.check_reachable(&data_dir.root)?;
        process::reap_zombies();

        // A first boot with the bundled programs unpacks the template
        // cluster while the bundle unpacks.
        let template = if options.postgres_dir.is_none()
            && template::available()
            && !data_dir.pgdata().exists()
        {
            remove_partial_clusters(&data_dir, "pgdata.init-")?;
            let partial = data_dir
                .root
                .join(format!("pgdata.init-{}", std::process::id()));
            let target = partial.clone();
            Some((
                partial,
                std::thread::spawn(move || template::unpack(&target)),
            ))
        } else {
            None
        };
        let installation = match &options.postgres_dir {
            Some(dir) => bundle::external_installation(dir)?,
            None if bundle::unpacked_dir(&data_dir.pg_root()).is_some() => {
                bundle::unpack_bundled(&data_dir.pg_root())?
            }
            None => timed(progress, Step::Unpack, || {
                bundle::unpack_bundled(&data_dir.pg_root())
            })?,
        };
        let upgrade_source = match cluster_major(&data_dir)? {
            Some(found) if found < installation.major => {
                match upgrade::find_source(&data_dir, found, options.upgrade_from.as_deref())? {
                    Some(source) => Some(source),
                    None => return Err(version_mismatch(&data_dir, found, &installation)),
                }
            }
            Some(found) if found != installation.major => {
                return Err(version_mismatch(&data_dir, found, &installation));
            }
            _ => None,
        };

        let credentials = match Credentials::load(&data_dir)? {
            Some(credentials) => credentials,
            None if data_dir.pgdata().exists() => {
                return Err(PostgresError::Unsafe(format!(
                    "{} has a database cluster but no {}; restore that file from a backup",
                    data_dir.root.display(),
                    data_dir.credentials_file().display()
                )));
            }
            None => {
                let credentials = Credentials::generate()?;
                credentials.save(&data_dir)?;
                credentials
            }
        };
        create_private_dir(&data_dir.socket_dir())?;
        // The cluster is walked only when its top is not the user's yet:
        // a large pgdata must not cost a recursive walk on every boot.
        // A template cluster being unpacked is handed over once it is done.
        for entry in fs::read_dir(&data_dir.root)? {
            let entry = entry?;
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("pgdata.init-")
            {
                continue;
            }
            let path = entry.path();
            if path != data_dir.pgdata() || !user.owns(&path)? {
                user.take_ownership(&path)?;
            }
        }
        user.take_ownership_of(&data_dir.root)?;

        if let Some(source) = upgrade_source {
            let started = Instant::now();
            progress.begin(Step::Upgrade);
            let kept = upgrade::upgrade(&data_dir, &source, &installation, &user, &credentials)?;
            progress.end(Step::Upgrade, started.elapsed());
            bundle::remove_kept_bundles(&data_dir.pg_root(), source.major)?;
            tracing::warn!(
                old_cluster = %kept.display(),
                "upgraded the cluster to PostgreSQL {}; the old cluster is kept unchanged (delete it once you are satisfied)",
                installation.major
            );
        }
        if !data_dir.pgdata().join("PG_VERSION").exists() {
            let started = Instant::now();
            progress.begin(Step::InitDb);
            init_cluster(&data_dir, &installation, &user, &credentials, template)?;
            progress.end(Step::InitDb, started.elapsed());
        }
        if data_dir.pgdata().join("postmaster.pid").exists() {
            timed(progress, Step::Recover, || {
                process::recover_stale_server(&data_dir.pgdata())
            })?;
        }

        rotate_server_log(&data_dir.pgdata())?;
        let embedded_dir =
            user.installation_for_embedded(&installation, &data_dir.root, &options.runner)?;
        let settings = Settings {
            releases_url: String::new(),
            version: VersionReq::STAR,
            installation_dir: embedded_dir,
            password_file: data_dir.root.join("pwfile"),
            data_dir: data_dir.pgdata(),
            host: "localhost".to_owned(),
            port: PORT,
            username: credentials.user.clone(),
            password: credentials.password.clone(),
            temporary: false,
            timeout: Some(Duration::from_secs(120)),
            configuration: with_statement_statistics(
                server_configuration(options.max_connections, installation.major),
                &installation,
            ),
            trust_installation_dir: true,
            socket_dir: Some(data_dir.socket_dir()),
        };
        let mut server = PostgreSQL::new(settings);
        let started = Instant::now();
        progress.begin(Step::Start);
        if let Err(error) = server.start().await {
            let log = fs::read_to_string(data_dir.pgdata().join("start.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(8).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            return Err(PostgresError::Unsafe(format!(
                "PostgreSQL did not start: {error}\n{}",
                tail.join("\n")
            )));
        }
        progress.end(Step::Start, started.elapsed());

        let embedded = Self {
            server: tokio::sync::Mutex::new(server),
            data_dir,
            credentials,
            installation,
            _lock: lock,
        };
        // On any error from here, dropping `embedded` stops the server.
        embedded.check_durability().await?;
        embedded.create_database(DATABASE_NAME).await?;
        Ok(embedded)
    }

    /// The data directory.
    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    /// The installation in use.
    pub fn installation(&self) -> &Installation {
        &self.installation
    }

    /// The superuser credentials.
    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// A connection configuration for `database`.
    pub fn connect_config(&self, database: &str) -> tokio_postgres::Config {
        self.credentials.connect_config(&self.data_dir, database)
    }

    async fn connect(&self, database: &str) -> Result<tokio_postgres::Client, PostgresError> {
        let (client, connection) = self
            .connect_config(database)
            .connect(tokio_postgres::NoTls)
            .await?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "maintenance connection closed");
            }
        });
        Ok(client)
    }

    /// Refuses to serve unless writes are durable: postgresql_embedded
    /// starts the server with `-F` (fsync off), which the configuration
    /// overrides; this proves the override took.
    async fn check_durability(&self) -> Result<(), PostgresError> {
        let client = self.connect("postgres").await?;
        for setting in ["fsync", "full_page_writes", "synchronous_commit"] {
            let row = client.query_one(&format!("SHOW {setting}"), &[]).await?;
            let value: String = row.get(0);
            if value != "on" {
                return Err(PostgresError::Unsafe(format!(
                    "PostgreSQL reports {setting} = {value}; Soloist only serves with fsync, full_page_writes and synchronous_commit on"
                )));
            }
        }
        Ok(())
    }

    /// Creates `database` unless it exists.
    pub async fn create_database(&self, database: &str) -> Result<(), PostgresError> {
        let client = self.connect("postgres").await?;
        let exists = client
            .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&database])
            .await?
            .is_some();
        if !exists {
            let quoted = format!("\"{}\"", database.replace('"', "\"\""));
            client
                .batch_execute(&format!("CREATE DATABASE {quoted}"))
                .await?;
        }
        Ok(())
    }

    /// Stops the server (fast shutdown: sessions are ended, committed data
    /// is checkpointed) and releases the data directory.
    pub async fn stop(self) -> Result<(), PostgresError> {
        self.server.into_inner().stop().await?;
        Ok(())
    }

    /// Whether the postmaster that serves the data directory is alive: its
    /// pid file names a live, non-zombie process working in the cluster.
    pub fn is_alive(&self) -> bool {
        process::postmaster_alive(&self.data_dir.pgdata())
    }

    /// Starts the server again after it died (killed, or crashed past its
    /// own recovery): processes it left are stopped, the stale pid file is
    /// removed, and PostgreSQL replays its WAL at start, so every committed
    /// transaction is still there. Does nothing when the server is alive.
    pub async fn restart_if_dead(&self) -> Result<bool, PostgresError> {
        let mut server = self.server.lock().await;
        if self.is_alive() {
            return Ok(false);
        }
        let pgdata = self.data_dir.pgdata();
        tokio::task::spawn_blocking(move || process::recover_stale_server(&pgdata))
            .await
            .map_err(std::io::Error::other)??;
        server.start().await?;
        drop(server);
        self.check_durability().await?;
        Ok(true)
    }

    /// Watches the server and starts it again whenever it dies, until the
    /// task is dropped. Failed restarts are retried with a growing pause
    /// (up to 30 s), so a full disk or a broken cluster does not spin.
    pub async fn supervise(self: std::sync::Arc<Self>) {
        let mut pause = SUPERVISE_INTERVAL;
        loop {
            tokio::time::sleep(pause).await;
            if self.is_alive() {
                pause = SUPERVISE_INTERVAL;
                continue;
            }
            tracing::error!("PostgreSQL stopped unexpectedly; starting it again");
            let started = Instant::now();
            match self.restart_if_dead().await {
                Ok(_) => {
                    tracing::info!(
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "PostgreSQL is running again"
                    );
                    pause = SUPERVISE_INTERVAL;
                }
                Err(error) => {
                    pause = (pause * 2).clamp(Duration::from_secs(1), Duration::from_secs(30));
                    tracing::error!(%error, retry_in_s = pause.as_secs(), "restarting PostgreSQL failed");
                }
            }
        }
    }
}

/// How often [`EmbeddedPostgres::supervise`] checks that the server lives.
const SUPERVISE_INTERVAL: Duration = Duration::from_millis(200);
