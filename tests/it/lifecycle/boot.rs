//! Booting, stopping and restarting `soloist serve`, its cluster's settings,
//! and its command-line flags.

use std::os::unix::fs::PermissionsExt;

use nix::sys::signal::Signal;

use crate::support::{
    command, free_port, http_status, processes_in, query_data_dir, scratch_dir, serve, spawn,
    wait_healthy,
};

#[tokio::test]
async fn serve_boots_stops_on_sigterm_and_keeps_data_across_restarts() {
    let dir = scratch_dir();
    let port = free_port();
    let running = serve(&dir, port);
    let output = running.output();
    assert!(output.contains("Creating the database cluster"), "{output}");
    assert!(
        output.contains(&format!("http://127.0.0.1:{port}")),
        "{output}"
    );
    assert!(
        output.contains(dir.to_str().unwrap()),
        "prints where data lives: {output}"
    );
    assert!(!processes_in(&dir.join("pgdata")).is_empty());

    query_data_dir(
        &dir,
        "INSERT INTO categories (name, slug) VALUES ('Kept', 'kept')",
    )
    .await;
    let (status, output) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "{output}");
    assert!(
        processes_in(&dir.join("pgdata")).is_empty(),
        "postgres outlived soloist"
    );
    assert_eq!(http_status(port, "/healthz"), None);

    let running = serve(&dir, port);
    assert!(
        !running.output().contains("Creating the database cluster"),
        "no second initdb"
    );
    let rows = query_data_dir(&dir, "SELECT name FROM categories").await;
    assert_eq!(rows, ["Kept"]);
    let (status, _) = running.signal_and_wait(Signal::SIGINT);
    assert_eq!(status.code(), Some(0));
    assert!(processes_in(&dir.join("pgdata")).is_empty());
}

#[tokio::test]
async fn each_first_boot_gets_a_cluster_of_its_own_with_soloists_settings() {
    // First boots unpack the template cluster made at build time: each copy
    // must still be its own cluster, reachable only with its own password.
    let (first, second) = (scratch_dir(), scratch_dir());
    let mut identities = Vec::new();
    let mut passwords = Vec::new();
    for dir in [&first, &second] {
        let running = serve(dir, free_port());
        let id = query_data_dir(dir, "SELECT system_identifier FROM pg_control_system()").await;
        identities.push(id[0].clone());
        let credentials = std::fs::read_to_string(dir.join("credentials.json")).unwrap();
        passwords.push(credentials);
        assert_eq!(
            query_data_dir(
                dir,
                "SELECT concat_ws(' ', pg_encoding_to_char(encoding), datlocprovider, datlocale) \
                 FROM pg_database WHERE datname = current_database()"
            )
            .await,
            ["UTF8 b C.UTF-8"]
        );
        assert_eq!(query_data_dir(dir, "SHOW data_checksums").await, ["on"]);
        assert_eq!(query_data_dir(dir, "SHOW TimeZone").await, ["UTC"]);
        assert_eq!(
            query_data_dir(dir, "SHOW password_encryption").await,
            ["scram-sha-256"]
        );
        let hba = std::fs::read_to_string(dir.join("pgdata/pg_hba.conf")).unwrap();
        assert!(
            hba.lines()
                .filter(|line| !line.trim_start().starts_with('#') && !line.trim().is_empty())
                .all(|line| line.trim_end().ends_with("scram-sha-256")),
            "every pg_hba rule asks for a password:\n{hba}"
        );
        let (status, output) = running.signal_and_wait(Signal::SIGTERM);
        assert_eq!(status.code(), Some(0), "{output}");
    }
    assert_ne!(identities[0], identities[1], "system identifiers differ");
    assert_ne!(passwords[0], passwords[1]);
    // Both identifiers are PostgreSQL-shaped: creation time in the high half.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for id in &identities {
        let seconds = id.parse::<u64>().unwrap() >> 32;
        assert!(now - seconds < 600, "{id}");
    }
    // A restart reads the same cluster: pg_control and the WAL agree.
    let running = serve(&first, free_port());
    assert_eq!(
        query_data_dir(&first, "SELECT system_identifier FROM pg_control_system()").await,
        [identities[0].clone()]
    );
    running.signal_and_wait(Signal::SIGTERM);
}

#[tokio::test]
async fn durability_settings_are_on_and_postgres_listens_only_on_its_socket() {
    let dir = scratch_dir();
    let port = free_port();
    let running = serve(&dir, port);
    for setting in ["fsync", "full_page_writes", "synchronous_commit"] {
        assert_eq!(
            query_data_dir(&dir, &format!("SHOW {setting}")).await,
            ["on"],
            "{setting}"
        );
    }
    assert_eq!(query_data_dir(&dir, "SHOW listen_addresses").await, [""]);
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the data dir is private");
    let credentials = std::fs::metadata(dir.join("credentials.json"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(credentials, 0o600);
    assert!(dir.join("run/.s.PGSQL.5432").exists());
    running.signal_and_wait(Signal::SIGTERM);
}

#[tokio::test]
async fn a_taken_port_gets_a_clear_message_before_any_database_work() {
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = blocker.local_addr().unwrap().port();
    let dir = scratch_dir().join("never-created");
    let output = command(&[
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ])
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr.contains("already in use"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    assert!(!dir.exists(), "nothing was created");
}

#[tokio::test]
async fn flags_win_over_environment_variables() {
    let flag_dir = scratch_dir();
    let env_dir = scratch_dir();
    let port = free_port();
    let mut serve_command = command(&["serve", "--data-dir", flag_dir.to_str().unwrap()]);
    serve_command
        .env("SOLOIST_DATA_DIR", &env_dir)
        .env("SOLOIST_LISTEN", format!("127.0.0.1:{port}"));
    let running = spawn(serve_command);
    wait_healthy(&running, port);
    assert!(
        flag_dir.join("pgdata").exists(),
        "the flag's data dir is used"
    );
    assert!(!env_dir.join("pgdata").exists());
    running.signal_and_wait(Signal::SIGTERM);
}
