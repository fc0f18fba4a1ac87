//! Assembles a running Soloist: database (embedded or external), pool,
//! migrations and the HTTP server. `serve`, the tests and the benchmarks all
//! start Soloist through [`Soloist::start`].

mod database;
mod listen;
mod maintenance;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use deadpool_postgres::Pool;

use crate::config::Config;
use crate::db::{self, DbError};
use crate::postgres::{EmbeddedPostgres, PostgresError, Progress, Step};
use crate::web::{self, Site};
pub use database::Database;
use listen::{base_url_is_loopback, bind};
use maintenance::maintain;

/// Why Soloist could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The HTTP address could not be bound.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// A sentence for the operator.
        reason: String,
    },
    /// The embedded PostgreSQL failed.
    #[error(transparent)]
    Postgres(#[from] PostgresError),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// `DATABASE_URL` is not a PostgreSQL URL.
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    DatabaseUrl(String),
    /// The HTTP server failed.
    #[error("HTTP server: {0}")]
    Io(#[from] std::io::Error),
    /// A part of the application could not be set up.
    #[error("{0}")]
    Setup(String),
    /// The first-run setup token could not be made.
    #[error("making the first-run setup token")]
    SetupToken(#[source] crate::accounts::AccountError),
}

/// How to start Soloist.
pub struct StartOptions<'a> {
    /// The Soloist executable (root shims re-execute it).
    pub runner: PathBuf,
    /// Receives progress of the slow boot steps.
    pub progress: &'a dyn Progress,
}

/// A running Soloist.
pub struct Soloist {
    /// The address the HTTP server is bound to.
    pub addr: SocketAddr,
    /// The public URL.
    pub base_url: String,
    /// The one-time first-run setup token, while no administrator exists.
    pub setup_token: Option<String>,
    /// What the operator should fix, said at boot.
    pub warnings: Vec<String>,
    /// The main database pool: background work, maintenance, and callers
    /// of the library (requests use [`Soloist::request_pools`]).
    pub pool: Pool,
    /// The schema version after migrating.
    pub schema_version: i32,
    /// Migrations applied by this boot.
    pub applied_migrations: Vec<String>,
    server: actix_web::dev::ServerHandle,
    server_task: tokio::task::JoinHandle<std::io::Result<()>>,
    maintenance: tokio::task::JoinHandle<()>,
    views: crate::content::views::ViewCounter,
    view_writer: tokio::task::JoinHandle<()>,
    backup_schedule: Option<tokio::task::JoinHandle<()>>,
    supervisor: Option<tokio::task::JoinHandle<()>>,
    /// Mail and backups that requests started.
    background: crate::background::Background,
    worker_pools: db::WorkerPools,
    idle_connections: tokio::task::JoinHandle<()>,
    database: Database,
}

/// A new first-run setup token while no administrator exists (its hash
/// stored, so any instance's token works), else none.
async fn first_run_token(pool: &Pool) -> Result<Option<String>, crate::accounts::AccountError> {
    let client = pool.get().await?;
    if crate::accounts::store::admin_exists(&client).await? {
        return Ok(None);
    }
    let token = crate::accounts::secrets::random_token()?;
    crate::accounts::store::add_setup_token(&client, &crate::accounts::secrets::token_hash(&token))
        .await?;
    Ok(Some(token))
}

/// The most connections of the main pool, which serves background work
/// (mail to the outbox, view counts, maintenance), not requests.
const MAIN_POOL_SIZE: usize = 4;

/// How long the stop waits for mail and backups that requests started,
/// after the requests themselves (up to 30 s): together they stay under
/// the systemd unit's `TimeoutStopSec=45`.
const BACKGROUND_LIMIT: Duration = Duration::from_secs(10);

impl Soloist {
    /// Binds the HTTP address, opens the database, migrates it and serves.
    pub async fn start(config: &Config, options: StartOptions<'_>) -> Result<Self, StartError> {
        // One TLS crypto provider (ring) for every client in the process:
        // SMTP over TLS and the OAuth providers.
        rustls::crypto::ring::default_provider()
            .install_default()
            .ok();
        // Bind first: a taken port should fail before any database work.
        let listener = bind(config.listen)?;
        let addr = listener.local_addr()?;
        let database = Database::open(config, options.runner, options.progress).await?;
        match Self::serve(config, listener, addr, database, options.progress).await {
            Ok(soloist) => Ok(soloist),
            Err((error, database)) => {
                if let Err(stop_error) = database.close().await {
                    tracing::error!(%stop_error, "stopping PostgreSQL after a failed start");
                }
                Err(error)
            }
        }
    }

    async fn serve(
        config: &Config,
        listener: TcpListener,
        addr: SocketAddr,
        database: Database,
        progress: &dyn Progress,
    ) -> Result<Self, (StartError, Database)> {
        let main_pool = match db::pool_with_timeout(
            database.connect_config(),
            config.pool_size.min(MAIN_POOL_SIZE),
            config.pool_timeout,
        ) {
            Ok(pool) => pool,
            Err(error) => return Err((error.into(), database)),
        };
        let migrating = std::time::Instant::now();
        progress.begin(Step::Migrate);
        let prepared = async {
            let mut client = db::connect(&database.connect_config()).await?;
            let report = db::migrate(&mut client).await?;
            let version = db::server_version(&client).await?;
            Ok::<_, DbError>((report, version))
        }
        .await;
        let (report, server_version) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return Err((error.into(), database)),
        };
        progress.end(Step::Migrate, migrating.elapsed());
        let site = Site {
            database: match &database {
                Database::Embedded(server) => {
                    format!("Embedded {}", server.installation().description)
                }
                Database::External(_) => format!("External PostgreSQL {server_version}"),
            },
            data_dir: match &database {
                Database::Embedded(server) => Some(server.data_dir().root.display().to_string()),
                Database::External(_) => None,
            },
            schema_version: report.version,
        };
        let base_url = match &config.base_url {
            Some(url) => url.clone(),
            None => format!("http://{addr}"),
        };
        let hasher = match crate::accounts::secrets::PasswordHasherPool::new(
            std::thread::available_parallelism().map_or(2, usize::from),
        ) {
            Ok(hasher) => hasher,
            Err(error) => return Err((StartError::Setup(error.to_string()), database)),
        };
        let mailer = match crate::mail::Mailer::new(
            config.smtp_url.as_deref(),
            &config.mail_from,
            main_pool.clone(),
        ) {
            Ok(mailer) => mailer,
            Err(error) => return Err((StartError::Setup(error.to_string()), database)),
        };
        tracing::info!(mail = mailer.describe(), "outgoing mail");
        let mut warnings = Vec::new();
        // Bound to loopback, with a plain-http base URL on loopback: only
        // this machine reaches the site (an https base URL means a proxy
        // brings visitors from elsewhere).
        let local_only = addr.ip().is_loopback()
            && base_url_is_loopback(&base_url)
            && !base_url.starts_with("https://");
        if matches!(mailer, crate::mail::Mailer::Outbox { .. }) && !local_only {
            warnings.push(
                "No SMTP server is set (SOLOIST_SMTP_URL): no mail leaves this server. Sign-up \
                 confirmations, password resets and sign-in links wait in the development outbox \
                 (/admin/outbox), where each admin sees only their own."
                    .to_owned(),
            );
        }
        let any_host = config.base_url.is_none() && addr.ip().is_unspecified();
        if any_host {
            warnings.push(format!(
                "No base URL is set while listening on every interface ({addr}): links in mail \
                 name {base_url}, and requests are not checked against a host name. Set \
                 SOLOIST_BASE_URL to the site's public URL."
            ));
        }
        for warning in &warnings {
            tracing::warn!("{warning}");
        }
        let setup_token = match first_run_token(&main_pool).await {
            Ok(token) => token,
            Err(error) => return Err((StartError::SetupToken(error), database)),
        };
        if let Some(token) = &setup_token {
            tracing::warn!(
                url = %format!("{base_url}/setup?token={token}"),
                "no administrator yet: open the setup link to create one, or run `soloist admin create`"
            );
        }
        // A pool for each HTTP worker (see `db::runtime`), all built now:
        // one that cannot be built stops the start.
        let worker_pools = match db::WorkerPools::new(
            &database.connect_config(),
            config.pool_size,
            config.workers,
            config.pool_timeout,
        ) {
            Ok(pools) => pools,
            Err(error) => {
                return Err((
                    StartError::Setup(format!("the HTTP workers' database pools: {error}")),
                    database,
                ));
            }
        };
        let mut state = web::AppState::new(
            main_pool.clone(),
            worker_pools.clone(),
            site,
            &base_url,
            hasher,
            mailer,
        );
        state.allowed_hosts = web::host::AllowedHosts::new(&base_url, addr, any_host);
        state.local_only = local_only;
        state.share_image = config.share_image.clone();
        if !config.oauth.is_empty() {
            state.http = match crate::accounts::oauth::http_client() {
                Ok(http) => Some(http),
                Err(error) => return Err((StartError::Setup(error.to_string()), database)),
            };
            state.oauth = config.oauth.clone();
        }
        if let Some(stripe) = &config.stripe {
            state.stripe_client = match crate::billing::stripe::StripeClient::new(stripe) {
                Ok(client) => client,
                Err(error) => return Err((StartError::Setup(error.to_string()), database)),
            };
            state.stripe = Some(stripe.clone());
        }
        state.backups = match crate::backup::for_serve(config, &database) {
            Ok(backups) => backups,
            Err(error) => return Err((StartError::Setup(error.to_string()), database)),
        };
        let backups = state.backups.clone();
        state.trusted_proxies = web::client_ip::TrustedProxies::new(config.trusted_proxies.clone());
        state.monitoring = std::sync::Arc::new(crate::monitoring::Monitoring::new(
            crate::monitoring::MetricsAccess {
                allow: config.metrics_allow.clone(),
                token: config.metrics_token.clone(),
            },
        ));
        let views = state.views.clone();
        let background = state.background.clone();
        let stripe_client = state.stripe_client.clone();
        let server = match web::server(listener, state, config.workers) {
            Ok(server) => server,
            Err(error) => return Err((error.into(), database)),
        };
        let handle = server.handle();
        let server_task = tokio::spawn(server);
        let maintenance = tokio::spawn(maintain(
            main_pool.clone(),
            config.audit_retention_months,
            stripe_client,
        ));
        let idle_connections = tokio::spawn(db::close_idle_connections_periodically(
            main_pool.clone(),
            worker_pools.clone(),
        ));
        let view_writer = tokio::spawn(views.clone().run(main_pool.clone()));
        let backup_schedule =
            (config.backup_interval_hours > 0 && backups.can_back_up()).then(|| {
                tokio::spawn(crate::backup::schedule::run(
                    backups,
                    Duration::from_secs(u64::from(config.backup_interval_hours) * 3600),
                    usize::try_from(config.backup_keep).unwrap_or(usize::MAX),
                ))
            });
        let supervisor = database.supervise();
        Ok(Self {
            addr,
            base_url,
            setup_token,
            warnings,
            pool: main_pool,
            schema_version: report.version,
            applied_migrations: report.applied,
            server: handle,
            server_task,
            maintenance,
            views,
            view_writer,
            backup_schedule,
            supervisor,
            idle_connections,
            background,
            worker_pools,
            database,
        })
    }

    /// The first-run setup link, while no administrator exists.
    pub fn setup_url(&self) -> Option<String> {
        self.setup_token
            .as_ref()
            .map(|token| format!("{}/setup?token={token}", self.base_url))
    }

    /// The pools the HTTP workers answer requests with, one per worker.
    pub fn request_pools(&self) -> Vec<Pool> {
        self.worker_pools.all().to_vec()
    }

    /// The embedded server, when Soloist runs one.
    pub fn embedded(&self) -> Option<&EmbeddedPostgres> {
        match &self.database {
            Database::Embedded(server) => Some(server),
            Database::External(_) => None,
        }
    }

    /// Writes the post views counted so far (they are otherwise written
    /// every 30 seconds and at stop).
    pub async fn flush_views(&self) -> Result<(), crate::content::ContentError> {
        self.views.flush(&self.pool).await
    }

    /// Waits until the HTTP server stops by itself (it normally does not).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        match (&mut self.server_task).await {
            Ok(result) => result,
            Err(error) => Err(std::io::Error::other(error)),
        }
    }

    /// Stops accepting connections, lets in-flight requests finish (up to
    /// 30 s) and the mail and backups they started (up to 10 s more), then
    /// stops PostgreSQL.
    pub async fn stop(self) -> Result<(), StartError> {
        self.server.stop(true).await;
        // Mail asked for by the last requests is sent before the exit.
        let stopped = self.background.finish(BACKGROUND_LIMIT).await;
        if stopped > 0 {
            tracing::warn!(
                tasks = stopped,
                "background work (mail, a backup) stopped unfinished at the stop"
            );
        }
        if let Some(supervisor) = self.supervisor {
            supervisor.abort();
            // The task holds the server; it must be gone before the stop.
            supervisor.await.ok();
        }
        self.maintenance.abort();
        self.idle_connections.abort();
        self.view_writer.abort();
        if let Some(backup_schedule) = self.backup_schedule {
            backup_schedule.abort();
            // A pg_dump it runs is stopped before PostgreSQL is.
            backup_schedule.await.ok();
        }
        if let Err(error) = self.views.flush(&self.pool).await {
            tracing::warn!(
                error = %crate::error_chain::Chain(&error),
                "writing the last view counts failed"
            );
        }
        self.pool.close();
        self.database.close().await?;
        Ok(())
    }
}
