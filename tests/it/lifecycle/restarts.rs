//! Starting after a crash, beside a second instance, or on a data dir of
//! another PostgreSQL version.

use nix::sys::signal::Signal;

use crate::support::{
    command, free_port, http_status, processes_in, query_data_dir, scratch_dir, serve,
};

#[tokio::test]
async fn after_kill_9_of_soloist_the_next_start_recovers_the_orphaned_server() {
    let dir = scratch_dir();
    let port = free_port();
    let running = serve(&dir, port);
    query_data_dir(
        &dir,
        "INSERT INTO tags (name, slug) VALUES ('survivor', 'survivor')",
    )
    .await;
    let (_, _) = running.signal_and_wait(Signal::SIGKILL);
    let orphans = processes_in(&dir.join("pgdata"));
    assert!(
        !orphans.is_empty(),
        "pg_ctl detaches postgres: it survives a kill -9 of soloist"
    );
    assert!(dir.join("pgdata/postmaster.pid").exists());

    let running = serve(&dir, port);
    assert!(
        running.output().contains("left by an earlier run"),
        "{}",
        running.output()
    );
    for pid in orphans {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
                || !processes_in(&dir.join("pgdata")).contains(&pid)
        );
    }
    assert_eq!(
        query_data_dir(&dir, "SELECT name FROM tags").await,
        ["survivor"]
    );
    let (status, _) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0));
}

#[tokio::test]
async fn a_stale_postmaster_pid_naming_an_unrelated_process_does_not_block_the_start() {
    let dir = scratch_dir();
    let port = free_port();
    let running = serve(&dir, port);
    running.signal_and_wait(Signal::SIGTERM);
    // A pid file left by a crash, whose pid now belongs to someone else.
    let unrelated = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    let pid_file = dir.join("pgdata/postmaster.pid");
    std::fs::write(
        &pid_file,
        format!("{}\n{}\n", unrelated.id(), dir.join("pgdata").display()),
    )
    .unwrap();
    let running = serve(&dir, port);
    assert_eq!(http_status(port, "/healthz"), Some(200));
    let (status, _) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0));
    let mut unrelated = unrelated;
    assert!(
        unrelated.try_wait().unwrap().is_none(),
        "the unrelated process was left alone"
    );
    unrelated.kill().ok();
}

#[tokio::test]
async fn a_second_soloist_on_the_same_data_dir_is_refused_and_the_first_keeps_serving() {
    let dir = scratch_dir();
    let port = free_port();
    let first = serve(&dir, port);
    let output = command(&[
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
    ])
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("already running"), "{stderr}");
    assert!(
        stderr.contains(&first.child.id().to_string()),
        "names the running pid: {stderr}"
    );
    assert_eq!(
        http_status(port, "/healthz"),
        Some(200),
        "the first instance still serves"
    );
    assert_eq!(query_data_dir(&dir, "SELECT 1").await, ["1"]);
    first.signal_and_wait(Signal::SIGTERM);
}

#[tokio::test]
async fn a_data_dir_from_another_postgres_major_version_is_refused_untouched() {
    let dir = scratch_dir();
    let pgdata = dir.join("pgdata");
    std::fs::create_dir_all(&pgdata).unwrap();
    std::fs::write(pgdata.join("PG_VERSION"), "99\n").unwrap();
    std::fs::write(pgdata.join("precious"), "data").unwrap();
    let output = command(&[
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("PostgreSQL 99") && stderr.contains("nothing was changed"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(pgdata.join("precious")).unwrap(),
        "data"
    );
    assert_eq!(
        std::fs::read_to_string(pgdata.join("PG_VERSION")).unwrap(),
        "99\n"
    );
}
