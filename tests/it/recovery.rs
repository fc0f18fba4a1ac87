//! PostgreSQL dying under a serving Soloist, and a cluster made by an older
//! PostgreSQL major version: the real binary on data directories of its own.

use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::support::{
    command, free_port, http_status, processes_in, query_data_dir, scratch_dir, serve,
};

/// Debian's PostgreSQL 15, an older major version than the bundle's (`.ci/run`
/// installs it when it is missing).
const OLD_POSTGRES: &str = "/usr/lib/postgresql/15";

fn postmaster_pid(pgdata: &Path) -> i32 {
    std::fs::read_to_string(pgdata.join("postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn when_postgres_is_killed_requests_get_503_at_once_and_soloist_restarts_it_with_the_data() {
    let dir = scratch_dir();
    let port = free_port();
    let running = serve(&dir, port);
    let pgdata = dir.join("pgdata");
    query_data_dir(
        &dir,
        "INSERT INTO categories (name, slug) VALUES ('Committed', 'committed')",
    )
    .await;
    assert_eq!(http_status(port, "/blog"), Some(200));
    let killed = postmaster_pid(&pgdata);
    for pid in processes_in(&pgdata) {
        kill(Pid::from_raw(pid), Signal::SIGKILL).ok();
    }

    let outage = Instant::now();
    let mut statuses = Vec::new();
    let recovered = loop {
        for path in ["/blog", "/healthz"] {
            let asked = Instant::now();
            let status = http_status(port, path);
            let took = asked.elapsed();
            assert!(
                took < Duration::from_secs(1),
                "{path} took {took:?} while PostgreSQL was down"
            );
            statuses.push(status);
        }
        if statuses[statuses.len() - 2..] == [Some(200), Some(200)] {
            break outage.elapsed();
        }
        assert!(
            outage.elapsed() < Duration::from_secs(20),
            "PostgreSQL did not come back: {statuses:?}\n{}",
            running.output()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        statuses.first(),
        Some(&Some(503)),
        "the first request after the kill is refused, not hung: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|status| matches!(status, Some(200 | 503))),
        "only 503s during the outage, never a 500: {statuses:?}"
    );
    assert!(recovered < Duration::from_secs(10), "took {recovered:?}");
    assert_ne!(postmaster_pid(&pgdata), killed, "a new postmaster serves");
    let rows = query_data_dir(&dir, "SELECT name FROM categories").await;
    assert_eq!(rows, ["Committed"], "committed data survives");
    // Pages can be served again a moment before the supervisor logs it.
    let logged = Instant::now();
    while !running.output().contains("PostgreSQL is running again")
        && logged.elapsed() < Duration::from_secs(5)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = running.output();
    assert!(
        output.contains("PostgreSQL is running again"),
        "the restart is logged: {output}"
    );

    let (status, output) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "{output}");
    assert!(
        processes_in(&pgdata).is_empty(),
        "the restarted postgres is stopped with Soloist"
    );
}

fn soloist(args: &[&str]) -> std::process::Output {
    command(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn a_cluster_made_by_an_older_postgres_major_is_upgraded_with_pg_upgrade_keeping_data_and_the_old_cluster()
 {
    assert!(
        Path::new(OLD_POSTGRES).join("bin/postgres").exists(),
        "this test needs PostgreSQL 15 in {OLD_POSTGRES} (apt-get install postgresql-15)"
    );
    let dir = scratch_dir();
    let data_dir = dir.to_str().unwrap();
    let pgdata = dir.join("pgdata");

    let made = soloist(&[
        "migrate",
        "--data-dir",
        data_dir,
        "--postgres-dir",
        OLD_POSTGRES,
    ]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    assert_eq!(
        std::fs::read_to_string(pgdata.join("PG_VERSION")).unwrap(),
        "15\n"
    );
    let written = soloist(&[
        "psql",
        "--data-dir",
        data_dir,
        "--postgres-dir",
        OLD_POSTGRES,
        "--",
        "-c",
        "INSERT INTO categories (name, slug) VALUES ('From fifteen', 'from-fifteen')",
    ]);
    assert!(written.status.success(), "{}", text(&written.stderr));

    // Without the old programs there is nothing to upgrade with: refused, untouched.
    let refused = soloist(&["migrate", "--data-dir", data_dir]);
    assert!(!refused.status.success());
    let message = text(&refused.stderr);
    assert!(
        message.contains("PostgreSQL 15") && message.contains("--upgrade-from"),
        "{message}"
    );
    assert_eq!(
        std::fs::read_to_string(pgdata.join("PG_VERSION")).unwrap(),
        "15\n"
    );

    let upgraded = soloist(&[
        "migrate",
        "--data-dir",
        data_dir,
        "--upgrade-from",
        OLD_POSTGRES,
    ]);
    assert!(
        upgraded.status.success(),
        "{}{}",
        text(&upgraded.stdout),
        text(&upgraded.stderr)
    );
    assert!(text(&upgraded.stderr).contains("Upgrading the database cluster"));
    assert_eq!(
        std::fs::read_to_string(pgdata.join("PG_VERSION")).unwrap(),
        "18\n"
    );
    let kept: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("pgdata.pg15-before-upgrade-")
        })
        .collect();
    assert_eq!(kept.len(), 1, "the old cluster is kept beside the new one");
    assert_eq!(
        std::fs::read_to_string(kept[0].path().join("PG_VERSION")).unwrap(),
        "15\n"
    );

    let port = free_port();
    let running = serve(&dir, port);
    let rows = query_data_dir(&dir, "SELECT name FROM categories").await;
    assert_eq!(rows, ["From fifteen"]);
    let version = query_data_dir(&dir, "SHOW server_version").await;
    assert!(version[0].starts_with("18."), "{version:?}");
    assert_eq!(http_status(port, "/blog"), Some(200));
    let (status, output) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "{output}");
}

#[tokio::test]
async fn a_newer_build_with_another_bundle_of_the_same_major_starts_on_the_old_data() {
    let dir = scratch_dir();
    let data_dir = dir.to_str().unwrap();
    let made = soloist(&["migrate", "--data-dir", data_dir]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let written = soloist(&[
        "psql",
        "--data-dir",
        data_dir,
        "--",
        "-c",
        "INSERT INTO categories (name, slug) VALUES ('Minor', 'minor')",
    ]);
    assert!(written.status.success(), "{}", text(&written.stderr));
    // Make the unpacked bundle look like an earlier build's (another minor
    // version, another hash): this binary then sees its own bundle missing.
    let pg = dir.join("pg");
    let current = std::fs::read_dir(&pg)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let earlier = pg.join("18.0-000000000000");
    std::fs::rename(&current, &earlier).unwrap();

    let port = free_port();
    let running = serve(&dir, port);
    assert!(
        running.output().contains("Unpacking PostgreSQL"),
        "{}",
        running.output()
    );
    assert!(
        !earlier.exists(),
        "the earlier bundle of the same major is removed"
    );
    assert!(current.exists());
    let rows = query_data_dir(&dir, "SELECT name FROM categories").await;
    assert_eq!(rows, ["Minor"]);
    let (status, output) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "{output}");
}
