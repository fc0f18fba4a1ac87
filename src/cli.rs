//! The command line: `soloist serve | migrate | db url | psql`.
//!
//! This is the one place that talks to a person on a terminal, so it is the
//! one place allowed to print.
#![expect(clippy::print_stdout, reason = "the CLI's user-facing output")]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::accounts::model::DisplayName;
use crate::accounts::model::Email;
use crate::app::{Database, Soloist, StartOptions};
use crate::config::{Config, LogFormat, Overrides};
use crate::postgres::process::DataDirLock;
use crate::postgres::user::ServerUser;
use crate::postgres::{Credentials, DATABASE_NAME, DataDir, Progress, Step, bundle};

/// Soloist: a whole SaaS application in one binary, with its own PostgreSQL.
///
/// Run with no command to serve (the same as `soloist serve`).
#[derive(Debug, Parser)]
#[command(name = "soloist", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    overrides: Overrides,
    /// A TOML configuration file (its keys are the long flag names with underscores).
    #[arg(long, env = "SOLOIST_CONFIG", global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start PostgreSQL, migrate, and serve the site (the default).
    Serve {
        /// Open the site in a browser once it is ready.
        #[arg(long)]
        open: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Database helpers.
    Db {
        #[command(subcommand)]
        command: DbCommand,
    },
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Billing with Stripe.
    Billing {
        #[command(subcommand)]
        command: BillingCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Fill the site with demo data (plans, an administrator, people,
    /// subscriptions, payments, posts); with --users/--posts, generate a
    /// large benchmark set instead. Existing rows are kept.
    Seed {
        /// Benchmark set: writers to create (default 1,000 with --posts).
        #[arg(long)]
        users: Option<i32>,
        /// Benchmark set: posts to create (default 10,000 with --users).
        #[arg(long)]
        posts: Option<i32>,
        /// Demo data: the administrator's email.
        #[arg(long, conflicts_with_all = ["users", "posts"])]
        admin_email: Option<String>,
        /// Demo data: read the administrator's password from standard input
        /// (otherwise a new administrator gets a generated one, shown once).
        #[arg(long, conflicts_with_all = ["users", "posts"])]
        password_stdin: bool,
    },
    /// Open the bundled psql on Soloist's database.
    Psql {
        /// Arguments passed on to psql (after `--`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Write a backup of the database (pg_dump, custom format); works while
    /// `serve` runs.
    Backup {
        /// Where to write it: a file, or a directory to put
        /// soloist-YYYYMMDD-HHMMSS.dump in (default: <data dir>/backups).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Dump at this snapshot, exported by a transaction with
        /// pg_export_snapshot() that stays open until the backup ends.
        #[arg(long, hide = true, value_name = "ID")]
        snapshot: Option<String>,
    },
    /// Replace the database with a backup, after backing up the current
    /// data. Soloist must be stopped.
    Restore {
        /// The backup file (made by `soloist backup` or pg_dump -Fc).
        file: PathBuf,
        /// Do not ask for confirmation (needed when stdin is not a terminal).
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
enum BillingCommand {
    /// Read every subscription from the Stripe API and correct drift in
    /// Soloist's rows (each correction is written to the audit trail).
    /// `serve` does the same once a day.
    Sync,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Drop whole monthly partitions older than the retention.
    Prune {
        /// Months to keep (default: the audit_retention_months setting, 24).
        #[arg(long)]
        keep_months: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Make an administrator: promote an existing account, or create one.
    Create {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// The name of a new account.
        #[arg(long, default_value = "Administrator")]
        name: String,
        /// Read a password from standard input (needed for a new account;
        /// replaces the password of an existing one).
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DbCommand {
    /// Print a libpq URL for Soloist's database (psql accepts it).
    Url,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    // The root shims' hidden command runs before anything else: no runtime,
    // no logging, no configuration.
    if args.get(1).map(String::as_str) == Some("__run-as") {
        return run_as(&args[2..]);
    }
    let launched_bare = args.len() == 1;
    let cli = Cli::parse();
    let config = match Config::load(cli.overrides.clone(), cli.config.as_deref()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("soloist: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    crate::postgres::process::spawn_reaper();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("soloist: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            None => serve(&config, launched_bare).await,
            Some(Command::Serve { open }) => serve(&config, open).await,
            Some(Command::Migrate) => migrate(&config).await,
            Some(Command::Db {
                command: DbCommand::Url,
            }) => db_url(&config),
            Some(Command::Psql { args }) => psql(&config, &args).await,
            Some(Command::Backup { out, snapshot }) => backup(&config, out, snapshot).await,
            Some(Command::Restore { file, yes }) => restore(&config, &file, yes).await,
            Some(Command::Seed {
                users: None,
                posts: None,
                admin_email,
                password_stdin,
            }) => seed_demo(&config, admin_email.as_deref(), password_stdin).await,
            Some(Command::Seed { users, posts, .. }) => {
                seed(&config, users.unwrap_or(1000), posts.unwrap_or(10_000)).await
            }
            Some(Command::Audit {
                command: AuditCommand::Prune { keep_months },
            }) => audit_prune(&config, keep_months).await,
            Some(Command::Billing {
                command: BillingCommand::Sync,
            }) => billing_sync(&config).await,
            Some(Command::Admin {
                command:
                    AdminCommand::Create {
                        email,
                        name,
                        password_stdin,
                    },
            }) => admin_create(&config, &email, &name, password_stdin).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("soloist: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_as(args: &[String]) -> ExitCode {
    let [user, program, rest @ ..] = args else {
        eprintln!("usage: soloist __run-as USER PROGRAM [ARGS...]");
        return ExitCode::from(2);
    };
    let error = crate::postgres::user::run_as(user, program, rest);
    eprintln!("soloist: cannot run {program} as {user}: {error}");
    ExitCode::FAILURE
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SOLOIST_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("soloist=info,warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

/// Prints the slow steps of a boot with their duration: on a terminal, the
/// step shows while it runs; in a log, one line when it is done.
struct ConsoleProgress {
    terminal: bool,
}

impl Progress for ConsoleProgress {
    fn begin(&self, step: Step) {
        if self.terminal {
            use std::io::Write;
            eprint!("  {} ... ", step.describe());
            std::io::stderr().flush().ok();
        }
    }
    fn end(&self, step: Step, elapsed: Duration) {
        if self.terminal {
            eprintln!("done ({})", human(elapsed));
        } else {
            eprintln!("  {}: done in {}", step.describe(), human(elapsed));
        }
    }
}

fn human(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(1) {
        format!("{} ms", elapsed.as_millis())
    } else {
        format!("{:.1} s", elapsed.as_secs_f64())
    }
}

fn runner() -> anyhow::Result<PathBuf> {
    std::env::current_exe().context("cannot find the soloist executable")
}

/// Waits for SIGINT or SIGTERM.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> anyhow::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn recv(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

async fn serve(config: &Config, open_browser: bool) -> anyhow::Result<ExitCode> {
    // Handlers go in before PostgreSQL starts: a Ctrl-C during boot must
    // still stop it (pg_ctl detaches the server from our process group).
    let mut signals = Signals::install()?;
    let started = Instant::now();
    eprintln!("Soloist {}", env!("CARGO_PKG_VERSION"));
    match &config.database_url {
        Some(_) => eprintln!("  Database: external PostgreSQL (DATABASE_URL)"),
        None => eprintln!("  Data directory: {}", config.data_dir.display()),
    }
    let progress = ConsoleProgress {
        terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let boot = Soloist::start(
        config,
        StartOptions {
            runner: runner()?,
            progress: &progress,
        },
    );
    tokio::pin!(boot);
    let mut stop_requested = false;
    let mut soloist = tokio::select! {
        soloist = &mut boot => soloist?,
        () = signals.recv() => {
            stop_requested = true;
            eprintln!("  Stopping once the start-up finishes ...");
            boot.await?
        }
    };
    if !soloist.applied_migrations.is_empty() {
        eprintln!(
            "  Applied migrations: {}",
            soloist.applied_migrations.join(", ")
        );
    }
    let url = format!("http://{}", soloist.addr);
    if !stop_requested {
        eprintln!("Ready in {}: open {url}", human(started.elapsed()));
        if soloist.base_url != url {
            eprintln!("  Public URL: {}", soloist.base_url);
        }
        for warning in &soloist.warnings {
            eprintln!("  Warning: {warning}");
        }
        let setup_url = soloist.setup_url();
        if let Some(setup_url) = &setup_url {
            eprintln!(
                "  No administrator yet. Create one at this one-time link (or run `soloist admin create`):"
            );
            eprintln!("    {setup_url}");
        }
        eprintln!("  Press Ctrl-C to stop.");
        if open_browser && is_desktop_session() {
            open_in_browser(setup_url.as_deref().unwrap_or(&url));
        }
        tokio::select! {
            () = signals.recv() => {}
            result = soloist.wait() => {
                if let Err(error) = result {
                    tracing::error!(%error, "the HTTP server stopped");
                }
            }
        }
    }
    eprintln!("Stopping: finishing requests in flight, then PostgreSQL ...");
    let stopping = Instant::now();
    soloist.stop().await?;
    eprintln!("Stopped in {}.", human(stopping.elapsed()));
    Ok(ExitCode::SUCCESS)
}

/// True when a person at a graphical desktop started Soloist: never in CI,
/// over SSH, or under a service manager.
fn is_desktop_session() -> bool {
    let env = |name: &str| std::env::var_os(name).is_some_and(|value| !value.is_empty());
    if env("CI") || env("SSH_CONNECTION") || env("SSH_TTY") || env("INVOCATION_ID") {
        return false;
    }
    if cfg!(target_os = "macos") || cfg!(windows) {
        return true;
    }
    env("DISPLAY") || env("WAYLAND_DISPLAY")
}

fn open_in_browser(url: &str) {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else {
        std::process::Command::new("xdg-open")
    };
    command
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Err(error) = command.spawn() {
        tracing::debug!(%error, "could not open a browser");
    }
}

/// Connects to Soloist's database for a one-off command: the running
/// `serve`'s server if there is one, else an embedded server started just
/// for the command (returned so the caller stops it), or the external one.
async fn open_for_command(
    config: &Config,
) -> anyhow::Result<(tokio_postgres::Config, Option<Database>)> {
    if config.database_url.is_none() && DataDirLock::is_held(&config.data_dir) {
        let data_dir = DataDir {
            root: std::fs::canonicalize(&config.data_dir)?,
        };
        let credentials =
            Credentials::load(&data_dir)?.context("the data directory has no credentials yet")?;
        return Ok((credentials.connect_config(&data_dir, DATABASE_NAME), None));
    }
    let database = Database::open(config, runner()?, &OneOffProgress::new()).await?;
    Ok((database.connect_config(), Some(database)))
}

/// Progress of a one-off command's boot: only the rare, slow steps (first
/// run, recovery, upgrade) are worth a line.
struct OneOffProgress(ConsoleProgress);

impl OneOffProgress {
    fn new() -> Self {
        Self(ConsoleProgress {
            terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        })
    }
}

impl Progress for OneOffProgress {
    fn begin(&self, step: Step) {
        if !matches!(step, Step::Start | Step::Migrate) {
            self.0.begin(step);
        }
    }
    fn end(&self, step: Step, elapsed: Duration) {
        if !matches!(step, Step::Start | Step::Migrate) {
            self.0.end(step, elapsed);
        }
    }
}

async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    let (connect, database) = open_for_command(config).await?;
    let result = async {
        let mut client = crate::db::connect(&connect).await?;
        crate::db::migrate(&mut client).await
    }
    .await;
    if let Some(database) = database {
        database.close().await?;
    }
    let report = result?;
    if report.applied.is_empty() {
        println!(
            "The database is up to date (schema version {}).",
            report.version
        );
    } else {
        for migration in &report.applied {
            println!("Applied {migration}");
        }
        println!("Schema version {}.", report.version);
    }
    Ok(ExitCode::SUCCESS)
}

async fn audit_prune(config: &Config, keep_months: Option<u32>) -> anyhow::Result<ExitCode> {
    let months = keep_months.unwrap_or(config.audit_retention_months);
    if months == 0 {
        println!("The retention is 0 (keep everything): nothing to drop.");
        return Ok(ExitCode::SUCCESS);
    }
    let months =
        i32::try_from(months).map_err(|_| anyhow::anyhow!("--keep-months is too large"))?;
    let (connect, database) = open_for_command(config).await?;
    let result = async {
        let mut client = crate::db::connect(&connect).await?;
        crate::db::migrate(&mut client).await?;
        let dropped: i32 = client
            .query_one("SELECT audit_logs_drop_partitions($1)", &[&months])
            .await?
            .get(0);
        anyhow::Ok(dropped)
    }
    .await;
    if let Some(database) = database {
        database.close().await?;
    }
    let dropped = result?;
    println!("Dropped {dropped} monthly audit partition(s) older than {months} months.");
    Ok(ExitCode::SUCCESS)
}

async fn billing_sync(config: &Config) -> anyhow::Result<ExitCode> {
    let Some(stripe) = config.stripe.as_ref() else {
        anyhow::bail!(
            "Stripe is not configured: set stripe_secret_key (SOLOIST_STRIPE_SECRET_KEY)"
        );
    };
    let Some(client) = crate::billing::stripe::StripeClient::new(stripe)? else {
        anyhow::bail!(
            "Stripe has no secret key: set stripe_secret_key (SOLOIST_STRIPE_SECRET_KEY)"
        );
    };
    let (connect, database) = open_for_command(config).await?;
    let result = async {
        let mut client_db = crate::db::connect(&connect).await?;
        crate::db::migrate(&mut client_db).await?;
        let pool = crate::db::pool(connect.clone(), 2)?;
        let report = crate::billing::sync::run(&pool, &client)
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))?;
        anyhow::Ok(report)
    }
    .await;
    if let Some(database) = database {
        database.close().await?;
    }
    let report = result?;
    println!(
        "Stripe lists {} subscription(s); {} row(s) corrected{}.",
        report.listed,
        report.corrected.len(),
        if report.corrected.is_empty() {
            String::new()
        } else {
            format!(" ({})", report.corrected.join(", "))
        }
    );
    if !report.unmatched.is_empty() {
        println!(
            "Not matched to a Soloist user or plan: {}.",
            report.unmatched.join(", ")
        );
    }
    if !report.superseded.is_empty() {
        println!(
            "Older subscriptions of users who have a newer one: {}.",
            report.superseded.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn seed(config: &Config, users: i32, posts: i32) -> anyhow::Result<ExitCode> {
    if !(0..=1_000_000).contains(&users) || !(0..=10_000_000).contains(&posts) {
        anyhow::bail!("--users takes 0 to 1,000,000 and --posts 0 to 10,000,000");
    }
    let (connect, database) = open_for_command(config).await?;
    let started = std::time::Instant::now();
    let result = async {
        let mut client = crate::db::connect(&connect).await?;
        crate::db::migrate(&mut client).await?;
        let pool = crate::db::pool(connect.clone(), 1)?;
        let mut client = pool.get().await?;
        let transaction = client.transaction().await?;
        crate::content::seed::generate(&transaction, users, posts).await?;
        transaction.commit().await?;
        client
            .batch_execute("VACUUM (ANALYZE) users, posts, tags, post_tags, categories")
            .await?;
        anyhow::Ok(())
    }
    .await;
    if let Some(database) = database {
        database.close().await?;
    }
    result?;
    println!(
        "Generated {users} writers and {posts} posts (existing ones kept) in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

async fn seed_demo(
    config: &Config,
    admin_email: Option<&str>,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    use crate::accounts::secrets::{Password, PasswordHasherPool};
    use crate::demo::{AdminAccount, DEFAULT_ADMIN_EMAIL, DemoOptions, Tally};

    let admin_email = Email::parse(admin_email.unwrap_or(DEFAULT_ADMIN_EMAIL))
        .map(Email::into_string)
        .map_err(anyhow::Error::msg)?;
    let admin_password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let text = line.trim_end_matches(['\n', '\r']);
        Some(Password::new(text, &[&admin_email]).map_err(|error| anyhow::anyhow!("{error}"))?)
    } else {
        None
    };
    let (connect, database) = open_for_command(config).await?;
    let result = async {
        let mut client = crate::db::connect(&connect).await?;
        crate::db::migrate(&mut client).await?;
        let pool = crate::db::pool(connect.clone(), 1)?;
        let hasher = PasswordHasherPool::new(1)?;
        let options = DemoOptions {
            admin_email,
            admin_password,
        };
        anyhow::Ok(crate::demo::seed(&pool, &hasher, &options).await?)
    }
    .await;
    if let Some(database) = database {
        database.close().await?;
    }
    let report = result?;
    let line = |kind: &str, tally: Tally| {
        println!(
            "  {kind:<14} {:>3} created, {:>3} already there",
            tally.created, tally.existing
        );
    };
    println!("Demo data:");
    line("plans", report.plans);
    line("users", report.users);
    line("subscriptions", report.subscriptions);
    println!(
        "  {:<14} {:>3} created",
        "payments", report.payments_created
    );
    line("categories", report.categories);
    line("tags", report.tags);
    line("posts", report.posts);
    match &report.admin {
        AdminAccount::Created {
            generated_password: Some(password),
        } => {
            println!("Administrator: {}", report.admin_email);
            println!("Password:      {password}");
            println!("  (shown only this once; change it at /account/security after signing in)");
        }
        AdminAccount::Created {
            generated_password: None,
        } => println!(
            "Administrator: {} (with the password given)",
            report.admin_email
        ),
        AdminAccount::Promoted => println!(
            "Administrator: {} (an existing account, now an administrator; password unchanged)",
            report.admin_email
        ),
        AdminAccount::Existing => println!(
            "Administrator: {} (already there; password unchanged: `soloist admin create --password-stdin` sets one)",
            report.admin_email
        ),
    }
    if report.nothing_created() {
        println!("Nothing to do: the demo data was already there.");
    }
    Ok(ExitCode::SUCCESS)
}

async fn admin_create(
    config: &Config,
    email: &str,
    name: &str,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    use crate::accounts::admin::{AdminOutcome, create_admin};

    use crate::accounts::secrets::{Password, PasswordHasherPool};

    let email = Email::parse(email)
        .map(Email::into_string)
        .map_err(anyhow::Error::msg)?;
    let name = DisplayName::parse(name)
        .map(DisplayName::into_string)
        .map_err(anyhow::Error::msg)?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let text = line.trim_end_matches(['\n', '\r']);
        Some(Password::new(text, &[&email, &name]).map_err(|error| anyhow::anyhow!("{error}"))?)
    } else {
        None
    };
    let (connect, database) = open_for_command(config).await?;
    let result = async {
        let mut client = crate::db::connect(&connect).await?;
        crate::db::migrate(&mut client).await?;
        let pool = crate::db::pool(connect.clone(), 1)?;
        let hasher = PasswordHasherPool::new(1).map_err(|error| anyhow::anyhow!("{error}"))?;
        create_admin(&pool, &hasher, &email, &name, password.as_ref())
            .await
            .map_err(|error| anyhow::anyhow!("{error}"))
    }
    .await;
    if let Some(database) = database {
        database.close().await?;
    }
    let (user, outcome) = result?;
    match outcome {
        AdminOutcome::Created => {
            println!("Created the administrator {} ({}).", user.email, user.id)
        }
        AdminOutcome::Promoted => println!("{} is now an administrator.", user.email),
        AdminOutcome::AlreadyAdmin => println!("{} was already an administrator.", user.email),
    }
    Ok(ExitCode::SUCCESS)
}

fn db_url(config: &Config) -> anyhow::Result<ExitCode> {
    if let Some(url) = &config.database_url {
        println!("{url}");
        return Ok(ExitCode::SUCCESS);
    }
    let Ok(root) = std::fs::canonicalize(&config.data_dir) else {
        bail!(
            "{} does not exist yet; run `soloist serve` once to create it",
            config.data_dir.display()
        );
    };
    let data_dir = DataDir { root };
    let credentials = Credentials::load(&data_dir)?.with_context(|| {
        format!(
            "{} has no database yet; run `soloist serve` once",
            data_dir.root.display()
        )
    })?;
    println!("{}", credentials.url(&data_dir, DATABASE_NAME));
    if !DataDirLock::is_held(&data_dir.root) {
        eprintln!(
            "note: Soloist is not running on this data directory; the URL works while `soloist serve` runs."
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn backup(
    config: &Config,
    out: Option<PathBuf>,
    snapshot: Option<String>,
) -> anyhow::Result<ExitCode> {
    let (connect, database) = open_for_command(config).await?;
    let result = async {
        let tools = crate::backup::Tools::for_config(config)?;
        let path = match out {
            Some(dir) if dir.is_dir() => {
                crate::backup::unique_path(&dir, time::OffsetDateTime::now_utc(), None)
            }
            Some(path) => path,
            None => {
                let root = std::fs::canonicalize(&config.data_dir)?;
                let dir = crate::backup::backups_dir(&root);
                crate::backup::create_dir(&dir, &tools)?;
                crate::backup::unique_path(&dir, time::OffsetDateTime::now_utc(), None)
            }
        };
        anyhow::Ok(crate::backup::dump(&tools, &connect, &path, snapshot.as_deref()).await?)
    }
    .await;
    if let Some(database) = database {
        database.close().await?;
    }
    let file = result?;
    println!(
        "Backup written: {} ({})",
        file.path.display(),
        crate::backup::pages::human_size(file.bytes)
    );
    Ok(ExitCode::SUCCESS)
}

async fn restore(config: &Config, file: &std::path::Path, yes: bool) -> anyhow::Result<ExitCode> {
    use std::io::{BufRead, IsTerminal, Write};
    crate::backup::restore::preflight(config, file)?;
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!(
                "a restore replaces all data in {} with {}; pass --yes to confirm \
                 (standard input is not a terminal, so there is no one to ask)",
                config.data_dir.display(),
                file.display()
            );
        }
        print!(
            "This replaces all data in {} with {}.\n\
             A backup of the current data is taken first. Type yes to continue: ",
            config.data_dir.display(),
            file.display()
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            println!("Nothing was changed.");
            return Ok(ExitCode::FAILURE);
        }
    }
    let started = Instant::now();
    let report = crate::backup::restore::restore(config, file, runner()?, |safety| {
        println!(
            "Backup of the current data: {} ({})",
            safety.path.display(),
            crate::backup::pages::human_size(safety.bytes)
        );
    })
    .await?;
    println!(
        "Restored {} in {} (schema version {}).",
        file.display(),
        human(started.elapsed()),
        report.schema_version
    );
    Ok(ExitCode::SUCCESS)
}

async fn psql(config: &Config, args: &[String]) -> anyhow::Result<ExitCode> {
    let started_here = if config.database_url.is_none() && !DataDirLock::is_held(&config.data_dir) {
        Some(Database::open(config, runner()?, &crate::postgres::Quiet).await?)
    } else {
        None
    };
    let result = run_psql(config, args);
    if let Some(database) = started_here {
        database.close().await?;
    }
    result
}

fn run_psql(config: &Config, args: &[String]) -> anyhow::Result<ExitCode> {
    let data_dir = || -> anyhow::Result<DataDir> {
        let root = std::fs::canonicalize(&config.data_dir)
            .with_context(|| format!("{} does not exist", config.data_dir.display()))?;
        Ok(DataDir { root })
    };
    let program = match &config.postgres_dir {
        Some(dir) => dir.join("bin/psql"),
        None => bundle::unpacked_dir(&data_dir()?.pg_root())
            .context("the bundled PostgreSQL is not unpacked yet; run `soloist serve` once")?
            .join("bin/psql"),
    };
    let url = match &config.database_url {
        Some(url) => url.clone(),
        None => {
            let data_dir = data_dir()?;
            Credentials::load(&data_dir)?
                .context("the data directory has no credentials yet")?
                .url(&data_dir, DATABASE_NAME)
        }
    };
    // As root, the bundled programs run as the server user: they live in a
    // directory that user owns, and root must not execute what it could alter.
    let mut command = match std::fs::canonicalize(&config.data_dir) {
        Ok(root) => {
            let user = ServerUser::for_data_dir(&root, &config.system_user)?;
            let mut command = user.command(&program);
            if user.switch {
                command.env("PSQL_HISTORY", root.join("run/.psql_history"));
            }
            command
        }
        Err(_) => std::process::Command::new(&program),
    };
    let status = command
        .arg(&url)
        .args(args)
        .status()
        .with_context(|| format!("cannot run {}", program.display()))?;
    Ok(ExitCode::from(
        u8::try_from(status.code().unwrap_or(1)).unwrap_or(1),
    ))
}
