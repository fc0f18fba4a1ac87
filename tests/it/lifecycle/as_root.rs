//! Running as root and as pid 1: the unprivileged server user, and reaping.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::{
    command, free_port, http_status, processes_in, query_data_dir, scratch_dir, serve, spawn,
    uid_of, wait_healthy,
};

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
