//! Backups and restores with the real binary: `soloist backup` while serving
//! under writes and while stopped, `soloist restore` into a fresh data dir,
//! its refusals, and the admin backups page.

mod admin_page;
mod restore;
mod schedule;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use soloist::postgres::{Credentials, DataDir};

use crate::support::{Running, command, spawn, wait_healthy};

fn run(mut command: Command) -> Output {
    command.stdin(Stdio::null()).output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn data_dir_arg(dir: &Path) -> [&str; 2] {
    ["--data-dir", dir.to_str().unwrap()]
}

/// `soloist serve` without scheduled backups, so each test controls which
/// backups exist.
fn serve_without_schedule(dir: &Path, port: u16) -> Running {
    let running = spawn(command(&[
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--backup-interval-hours",
        "0",
    ]));
    wait_healthy(&running, port);
    running
}

async fn connect(dir: &Path) -> tokio_postgres::Client {
    let data_dir = DataDir {
        root: std::fs::canonicalize(dir).unwrap(),
    };
    let credentials = Credentials::load(&data_dir).unwrap().unwrap();
    let client = soloist::db::connect(&credentials.connect_config(&data_dir, "soloist"))
        .await
        .unwrap();
    // Row texts include timestamps: the same zone on both sides.
    client.batch_execute("SET TimeZone = 'UTC'").await.unwrap();
    client
}

/// The path in "Backup written: PATH (SIZE)".
fn written_path(output: &Output) -> PathBuf {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("Backup written: "))
        .unwrap_or_else(|| panic!("no backup path in: {}", text(output)));
    PathBuf::from(line.rsplit_once(" (").unwrap().0)
}
