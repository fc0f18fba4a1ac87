//! The embedded PostgreSQL server: bundle unpacking, initdb, start and stop,
//! root, stale servers and locking. See the README's "Data directory" section
//! for the layout this module owns.

pub mod bundle;
pub mod process;
mod template;
pub mod upgrade;
pub mod user;

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use postgresql_embedded::{PostgreSQL, Settings, VersionReq};
use serde::{Deserialize, Serialize};

pub use bundle::{BUNDLE_VERSION, Installation};
use process::DataDirLock;
use user::ServerUser;

/// The database Soloist keeps its data in.
pub const DATABASE_NAME: &str = "soloist";
/// The superuser created by initdb.
const SUPERUSER: &str = "postgres";
/// The port only names the socket file (`.s.PGSQL.5432`): there is no TCP listener.
const PORT: u16 = 5432;
/// The longest unix socket path the kernel accepts, less a margin.
const MAX_SOCKET_PATH: usize = 100;

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

/// The slow steps of a boot, reported as they start and finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Unpacking the bundled programs.
    Unpack,
    /// Creating the database cluster.
    InitDb,
    /// Starting the server.
    Start,
    /// Recovering from a server left by a killed Soloist.
    Recover,
    /// Applying database migrations.
    Migrate,
    /// Upgrading the cluster from an older major version (pg_upgrade).
    Upgrade,
}

impl Step {
    /// What the step does, for progress output.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Unpack => "Unpacking PostgreSQL",
            Self::InitDb => "Creating the database cluster (first run)",
            Self::Start => "Starting PostgreSQL",
            Self::Recover => "Stopping a PostgreSQL left by an earlier run",
            Self::Migrate => "Migrating the database",
            Self::Upgrade => "Upgrading the database cluster to a new PostgreSQL version",
        }
    }
}

/// Receives progress of the slow steps.
pub trait Progress: Send + Sync {
    /// A step began.
    fn begin(&self, step: Step);
    /// The step ended after `elapsed`.
    fn end(&self, step: Step, elapsed: Duration);
}

/// Progress that goes nowhere (tests, library use).
pub struct Quiet;

impl Progress for Quiet {
    fn begin(&self, _: Step) {}
    fn end(&self, _: Step, _: Duration) {}
}

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

/// Paths inside a data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    /// The data directory itself.
    pub root: PathBuf,
}

impl DataDir {
    /// The PostgreSQL cluster.
    pub fn pgdata(&self) -> PathBuf {
        self.root.join("pgdata")
    }
    /// The unix socket directory.
    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("run")
    }
    /// Where the bundled programs are unpacked.
    pub fn pg_root(&self) -> PathBuf {
        self.root.join("pg")
    }
    /// The superuser's credentials.
    pub fn credentials_file(&self) -> PathBuf {
        self.root.join("credentials.json")
    }
}

/// The superuser name and password, persisted in the data directory so that
/// every later boot (and `soloist db url`) can log in.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// The superuser's name.
    pub user: String,
    /// Its password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Reads the credentials of a data directory, if it has any.
    pub fn load(data_dir: &DataDir) -> Result<Option<Self>, PostgresError> {
        let Some(text) = process::read_optional(&data_dir.credentials_file())? else {
            return Ok(None);
        };
        serde_json::from_str(&text).map(Some).map_err(|error| {
            PostgresError::Unsafe(format!(
                "{} is damaged: {error}",
                data_dir.credentials_file().display()
            ))
        })
    }

    fn generate() -> Result<Self, PostgresError> {
        Ok(Self {
            user: SUPERUSER.to_owned(),
            password: random_password()?,
        })
    }

    fn save(&self, data_dir: &DataDir) -> Result<(), PostgresError> {
        let path = data_dir.credentials_file();
        let partial = path.with_extension("json.partial");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        write_private(&partial, text.as_bytes())?;
        fs::rename(&partial, &path)?;
        Ok(())
    }

    /// A tokio-postgres configuration for `database` over the socket of `data_dir`.
    pub fn connect_config(&self, data_dir: &DataDir, database: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(data_dir.socket_dir())
            .port(PORT)
            .user(&self.user)
            .password(&self.password)
            .dbname(database)
            .application_name("soloist")
            .connect_timeout(Duration::from_secs(5));
        config
    }

    /// A libpq URL for `database` that `psql` accepts.
    pub fn url(&self, data_dir: &DataDir, database: &str) -> String {
        format!(
            "postgresql://{}:{}@/{}?host={}&port={PORT}",
            percent_encode(&self.user),
            percent_encode(&self.password),
            percent_encode(database),
            percent_encode(&data_dir.socket_dir().to_string_lossy()),
        )
    }
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn random_password() -> Result<String, PostgresError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| PostgresError::Unsafe(format!("no randomness: {error}")))?;
    Ok(bytes
        .iter()
        .map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]))
        .collect())
}

/// Writes a 0600 file. Never follows a symlink at `path`: when Soloist runs
/// as root, the data directory belongs to the server user.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Creates `dir` (and parents) with mode 0700 if missing, and makes sure it
/// is 0700 if it exists.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
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

/// The server settings passed on its command line. Values go through `sh`
/// unquoted: no spaces.
fn server_configuration(max_connections: usize, major: u32) -> HashMap<String, String> {
    let max_connections = max_connections.to_string();
    [
        // postgresql_embedded passes -F (fsync off); these come after it and win.
        ("fsync", "on"),
        ("full_page_writes", "on"),
        ("synchronous_commit", "on"),
        // Unix socket only: no TCP listener at all.
        ("listen_addresses", "''"),
        ("unix_socket_permissions", "0700"),
        // Small-machine process set: synchronous I/O instead of three I/O
        // worker processes (PostgreSQL 18's default), no logical replication
        // launcher (an embedded server is never a publisher's subscriber),
        // and no logging collector: the server's stderr goes to
        // pgdata/start.log, which `rotate_server_log` keeps bounded.
        ("io_method", "sync"),
        ("max_logical_replication_workers", "0"),
        ("logging_collector", "off"),
        ("max_connections", max_connections.as_str()),
        // WAL buffers are flushed at every commit; 1 MB holds many web
        // transactions, and the walwriter touches all of it (the default,
        // 1/32 of shared_buffers, is 4 MB of resident memory).
        ("wal_buffers", "1MB"),
        // Before crash recovery the server flushes the whole cluster: one
        // syncfs instead of an fsync per file (2.4 s on this project's
        // disk after a kill under load, against 0.1 s).
        ("recovery_init_sync_method", "syncfs"),
    ]
    .into_iter()
    // io_method is new in PostgreSQL 18; older servers refuse to start on
    // a setting they do not know. syncfs is Linux's, and PostgreSQL 14's.
    .filter(|(key, _)| major >= 18 || *key != "io_method")
    .filter(|(key, _)| {
        (cfg!(target_os = "linux") && major >= 14) || *key != "recovery_init_sync_method"
    })
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect()
}

/// Preloads pg_stat_statements (the admin "Database" page's slowest
/// statements) when the installation has it: the bundle always does, a
/// `postgres_dir` installation may not, and a server told to preload a
/// library it lacks would not start.
fn with_statement_statistics(
    mut configuration: HashMap<String, String>,
    installation: &Installation,
) -> HashMap<String, String> {
    if installation
        .dir
        .join("lib")
        .join("pg_stat_statements.so")
        .is_file()
    {
        configuration.insert(
            "shared_preload_libraries".to_owned(),
            "pg_stat_statements".to_owned(),
        );
        // Soloist runs a few hundred distinct statements; 1,000 entries
        // keep them with room for an operator's own queries, in less shared
        // memory than the default 5,000.
        configuration.insert("pg_stat_statements.max".to_owned(), "1000".to_owned());
    }
    configuration
}

/// The server's log grows only with warnings, errors and checkpoints; at
/// each start a log past `SERVER_LOG_LIMIT` becomes `start.log.1` (replacing
/// the previous one), so the two together stay under twice that.
const SERVER_LOG_LIMIT: u64 = 16 * 1024 * 1024;

fn rotate_server_log(pgdata: &Path) -> Result<(), PostgresError> {
    let log = pgdata.join("start.log");
    match fs::metadata(&log) {
        Ok(metadata) if metadata.len() > SERVER_LOG_LIMIT => {
            fs::rename(&log, pgdata.join("start.log.1"))?;
            Ok(())
        }
        _ => Ok(()),
    }
}

fn timed<T>(
    progress: &dyn Progress,
    step: Step,
    work: impl FnOnce() -> Result<T, PostgresError>,
) -> Result<T, PostgresError> {
    let started = Instant::now();
    progress.begin(step);
    let result = work()?;
    progress.end(step, started.elapsed());
    Ok(result)
}

/// The major version of the cluster in the data directory, if there is one.
fn cluster_major(data_dir: &DataDir) -> Result<Option<u32>, PostgresError> {
    let Some(found) = process::read_optional(&data_dir.pgdata().join("PG_VERSION"))? else {
        return Ok(None);
    };
    found.trim().parse().map(Some).map_err(|_| {
        PostgresError::Unsafe(format!(
            "{} holds an unreadable PG_VERSION ({:?}); nothing was changed",
            data_dir.pgdata().display(),
            found.trim()
        ))
    })
}

/// Refuses a cluster made by another major version that cannot be upgraded
/// from here: never initdb over data.
fn version_mismatch(data_dir: &DataDir, found: u32, installation: &Installation) -> PostgresError {
    PostgresError::VersionMismatch {
        pgdata: data_dir.pgdata(),
        found: found.to_string(),
        expected: installation.major,
    }
}

/// A template cluster being unpacked into `pgdata.init-<pid>`.
type TemplateJob = (PathBuf, std::thread::JoinHandle<Result<(), PostgresError>>);

/// Makes a new cluster in `pgdata.init-<pid>` (from the template being
/// unpacked there, else with initdb) and renames it into place on success,
/// so a crash half-way never leaves a cluster that looks finished.
fn init_cluster(
    data_dir: &DataDir,
    installation: &Installation,
    user: &ServerUser,
    credentials: &Credentials,
    template: Option<TemplateJob>,
) -> Result<(), PostgresError> {
    let pgdata = data_dir.pgdata();
    let from_template = match template {
        Some((partial, job)) => {
            let unpacked = job.join().unwrap_or_else(|_| {
                Err(PostgresError::Installation(
                    "the template unpacking thread panicked".to_owned(),
                ))
            });
            match unpacked
                .and_then(|()| adopt_template(data_dir, &partial, installation, user, credentials))
            {
                Ok(()) => Some(partial),
                Err(error) => {
                    tracing::warn!(%error, "the template cluster could not be used; running initdb");
                    fs::remove_dir_all(&partial).ok();
                    None
                }
            }
        }
        None => None,
    };
    if pgdata.exists() {
        return Err(PostgresError::Unsafe(format!(
            "{} exists but has no PG_VERSION: it is not a PostgreSQL cluster; move it away and start again",
            pgdata.display()
        )));
    }
    let partial = match from_template {
        Some(partial) => partial,
        None => {
            remove_partial_clusters(data_dir, "pgdata.init-")?;
            let partial = data_dir
                .root
                .join(format!("pgdata.init-{}", std::process::id()));
            initdb(data_dir, &partial, installation, user, credentials, None)?;
            partial
        }
    };
    fs::rename(&partial, &pgdata)?;
    fs::File::open(&data_dir.root)?.sync_all()?;
    Ok(())
}

/// Makes the unpacked template in `partial` this installation's own: the
/// server user's, with a new system identifier and the superuser password
/// of `credentials` (set in single-user mode, so no server ever runs with
/// the template's), then durable.
fn adopt_template(
    data_dir: &DataDir,
    partial: &Path,
    installation: &Installation,
    user: &ServerUser,
    credentials: &Credentials,
) -> Result<(), PostgresError> {
    user.take_ownership(partial)?;
    template::give_identity(partial)?;
    let password = credentials.password.replace('\'', "''");
    let role = credentials.user.replace('"', "\"\"");
    let mut command = user.command(&installation.program("postgres"));
    command
        .args(["--single", "-F", "-D"])
        .arg(partial)
        .arg("template1")
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env_remove("LANG")
        .current_dir(&data_dir.root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(format!("ALTER ROLE \"{role}\" PASSWORD '{password}'\n").as_bytes())?;
    }
    let output = child.wait_with_output()?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() || said.contains("ERROR") || said.contains("FATAL") {
        return Err(PostgresError::InitDb(format!(
            "setting the superuser password failed: {}",
            said.trim()
        )));
    }
    sync_cluster(data_dir, partial, installation, user)
}

/// Removes clusters that an interrupted initdb or upgrade left under
/// `prefix`: no data was ever served from them.
fn remove_partial_clusters(data_dir: &DataDir, prefix: &str) -> Result<(), PostgresError> {
    for entry in fs::read_dir(&data_dir.root)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// Creates a new, durable cluster in `target` (removed again on failure).
/// `checksums` forces data checksums on or off (an upgrade must match the
/// old cluster); `None` keeps the version's default.
fn initdb(
    data_dir: &DataDir,
    target: &Path,
    installation: &Installation,
    user: &ServerUser,
    credentials: &Credentials,
    checksums: Option<bool>,
) -> Result<(), PostgresError> {
    let pwfile = data_dir.root.join("pwfile");
    write_private(&pwfile, credentials.password.as_bytes())?;
    user.take_ownership(&pwfile)?;

    let mut command = user.command(&installation.program("initdb"));
    command
        .arg("--pgdata")
        .arg(target)
        .args(["--username", &credentials.user])
        .arg(format!("--pwfile={}", pwfile.display()))
        .args(["--auth-local=scram-sha-256", "--auth-host=scram-sha-256"])
        .args(["--encoding=UTF8", "--locale=C", "--no-instructions"])
        .env("LC_ALL", "C")
        // The server's time zone is UTC, as in the template cluster.
        .env("TZ", "UTC")
        .env_remove("LANG")
        .current_dir(&data_dir.root);
    if installation.major >= 17 {
        command.args(["--locale-provider=builtin", "--builtin-locale=C.UTF-8"]);
    }
    match checksums {
        Some(true) => {
            command.arg("--data-checksums");
        }
        Some(false) if installation.major >= 18 => {
            command.arg("--no-data-checksums");
        }
        _ => {}
    }
    // Bootstrap without per-file fsyncs, then make the whole cluster durable
    // with one syncfs (initdb --sync-only) before it is renamed into place:
    // as durable as initdb's default, in about half the time.
    command.arg("--no-sync");
    let output = command.output();
    fs::remove_file(&pwfile).ok();
    let output = output?;
    if !output.status.success() {
        fs::remove_dir_all(target).ok();
        return Err(PostgresError::InitDb(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    if let Err(error) = sync_cluster(data_dir, target, installation, user) {
        fs::remove_dir_all(target).ok();
        return Err(error);
    }
    Ok(())
}

/// Flushes a whole cluster to disk (one syncfs where the version has it).
fn sync_cluster(
    data_dir: &DataDir,
    target: &Path,
    installation: &Installation,
    user: &ServerUser,
) -> Result<(), PostgresError> {
    let sync = |method: Option<&str>| {
        let mut sync = user.command(&installation.program("initdb"));
        sync.arg("--pgdata").arg(target).arg("--sync-only");
        if let Some(method) = method {
            sync.arg(format!("--sync-method={method}"));
        }
        sync.current_dir(&data_dir.root).output()
    };
    let synced = match sync(Some("syncfs")) {
        Ok(output) if output.status.success() => output,
        _ => sync(None)?,
    };
    if !synced.status.success() {
        return Err(PostgresError::InitDb(
            String::from_utf8_lossy(&synced.stderr).trim().to_owned(),
        ));
    }
    Ok(())
}
