//! The command line: `soloist serve | migrate | db url | psql | ...`, one
//! module per command group; this one parses the arguments and dispatches.
//! Commands that work on the database open it, run and close it with the
//! one helper in `database`.
//!
//! This is the one place that talks to a person on a terminal, so it is the
//! one place allowed to print.
#![expect(clippy::print_stdout, reason = "the CLI's user-facing output")]

mod admin;
mod audit;
mod backup;
mod billing;
mod database;
mod migrate;
mod progress;
mod psql;
mod seed;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, LogFormat, Overrides};
use admin::{AdminCommand, admin_create};
use audit::{AuditCommand, audit_prune};
use backup::{backup, restore};
use billing::{BillingCommand, billing_sync};
use migrate::migrate;
use psql::{DbCommand, db_url, psql};
use seed::{seed, seed_demo};
use serve::serve;

/// Soloist: a whole SaaS application in one binary, with its own PostgreSQL.
///
/// Run with no command to serve (the same as `soloist serve`).
#[derive(Debug, Parser)]
#[command(name = "soloist", version, about, long_about = None)]
pub struct Cli {
    /// A TOML configuration file (a table a section: `listen` under `[server]`, `secret_key` under `[stripe]`).
    #[arg(long, env = "SOLOIST_CONFIG", global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    overrides: Overrides,
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
    let (config, moved_keys) = match Config::load(cli.overrides, cli.config.as_deref()) {
        Ok(loaded) => loaded,
        Err(error) => {
            eprintln!("soloist: {error}");
            return ExitCode::from(2);
        }
    };
    init_logging(config.log_format);
    if let Some(file) = &cli.config {
        for moved in &moved_keys {
            tracing::warn!("the configuration file {}: {moved}", file.display());
        }
    }
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

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
