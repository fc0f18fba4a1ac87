//! `soloist serve`: start, print where the site is, stop on a signal.

use std::process::ExitCode;
use std::time::Instant;

use super::database::runner;
use super::progress::{ConsoleProgress, human};
use crate::app::{Soloist, StartOptions};
use crate::config::Config;

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

pub(super) async fn serve(config: &Config, open_browser: bool) -> anyhow::Result<ExitCode> {
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
