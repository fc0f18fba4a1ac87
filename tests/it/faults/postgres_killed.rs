//! PostgreSQL killed under concurrent reads and writes.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::{
    Answer, Read, Write, acknowledged, assert_acknowledged_writes_are_whole, create_account,
    sign_in, start_readers, start_writers,
};
use crate::support::{free_port, http_status, processes_in, scratch_dir, serve};

fn postmaster_pid(pgdata: &Path) -> Option<i32> {
    std::fs::read_to_string(pgdata.join("postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

#[tokio::test]
async fn postgres_killed_under_concurrent_load_gives_quick_503s_then_recovers_without_losing_an_acknowledged_write()
 {
    let dir = scratch_dir();
    let port = free_port();
    let running = serve(&dir, port);
    let pgdata = dir.join("pgdata");
    create_account(&dir, "load@faults.test");
    let writer = Arc::new(sign_in(port, "load@faults.test").await);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = start_writers(&writer, 0, 4, &stop, false);
    let readers = start_readers(
        port,
        &["/blog", "/", "/healthz", "/search?q=fault"],
        3,
        &stop,
    );
    tokio::time::sleep(Duration::from_millis(800)).await;

    let killed = postmaster_pid(&pgdata);
    for pid in processes_in(&pgdata) {
        kill(Pid::from_raw(pid), Signal::SIGKILL).ok();
    }
    let outage = Instant::now();
    // Load goes on until the site has answered /blog for a second again.
    let mut healthy_since: Option<Instant> = None;
    let back = loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ok = http_status(port, "/blog") == Some(200);
        match (ok, healthy_since) {
            (true, None) => healthy_since = Some(Instant::now()),
            (true, Some(since)) if since.elapsed() > Duration::from_secs(1) => break since,
            (false, _) => healthy_since = None,
            _ => {}
        }
        assert!(
            outage.elapsed() < Duration::from_secs(30),
            "PostgreSQL did not come back\n{}",
            running.output()
        );
    };
    let recovered = back - outage;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let writes: Vec<Write> = writers.join_all().await.into_iter().flatten().collect();
    let reads: Vec<Read> = readers.join_all().await.into_iter().flatten().collect();

    assert_ne!(postmaster_pid(&pgdata), killed, "a new postmaster serves");
    let mut statuses: BTreeMap<String, usize> = BTreeMap::new();
    let mut slowest = Duration::ZERO;
    for write in &writes {
        let key = match write {
            Write::Acknowledged { .. } => "write 303".to_owned(),
            Write::Refused { status, took } => {
                slowest = slowest.max(*took);
                format!("write {status}")
            }
            Write::Lost { error, .. } => panic!("a write got no complete answer: {error}"),
        };
        *statuses.entry(key).or_default() += 1;
    }
    for (status, took) in &reads {
        slowest = slowest.max(*took);
        let Answer::Status(status) = status else {
            panic!("a read got no complete answer: {status:?}");
        };
        *statuses.entry(format!("read {status}")).or_default() += 1;
    }
    eprintln!("recovered after {recovered:?}; slowest refusal or read {slowest:?}; {statuses:?}");
    assert!(
        statuses
            .keys()
            .all(|key| key.ends_with(" 200") || key.ends_with(" 303") || key.ends_with(" 503")),
        "only successes and 503s, never a 500: {statuses:?}"
    );
    assert!(
        statuses.keys().any(|key| key.ends_with(" 503")),
        "the outage was seen as 503s: {statuses:?}"
    );
    assert!(
        slowest < Duration::from_secs(3),
        "requests are refused quickly, not held: the slowest took {slowest:?}"
    );
    assert!(recovered < Duration::from_secs(10), "took {recovered:?}");
    let log = acknowledged(&writes);
    assert!(log.len() > 10, "the load wrote: {statuses:?}");
    assert_acknowledged_writes_are_whole(&dir, &log).await;
    let (status, output) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "{output}");
    assert!(processes_in(&pgdata).is_empty());
}
