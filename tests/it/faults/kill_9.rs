//! `kill -9` of Soloist at random moments of a write load.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{
    Prng, Write, acknowledged, assert_acknowledged_writes_are_whole, create_account, sign_in,
    start_writers,
};
use crate::support::{free_port, processes_in, scratch_dir, serve};

#[tokio::test]
async fn twenty_kill_9s_at_random_moments_of_a_write_load_lose_no_acknowledged_write_and_leave_nothing_half_done()
 {
    const ROUNDS: usize = 20;
    let mut prng = Prng::from_env();
    let dir = scratch_dir();
    let port = free_port();
    let mut running = serve(&dir, port);
    create_account(&dir, "writer@faults.test");
    let writer = Arc::new(sign_in(port, "writer@faults.test").await);
    let mut log: Vec<(String, String)> = Vec::new();
    let mut lost = 0;
    let started = Instant::now();
    for round in 0..ROUNDS {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writers = start_writers(&writer, round, 3, &stop, true);
        let delay = prng.between(30, 600);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        let (status, _) = running.signal_and_wait(Signal::SIGKILL);
        assert_eq!(status.code(), None, "killed by a signal");
        let outcomes: Vec<Write> = writers.join_all().await.into_iter().flatten().collect();
        for outcome in &outcomes {
            match outcome {
                Write::Refused { status, .. } => {
                    panic!("round {round}: a write was answered {status} before the kill")
                }
                Write::Lost { .. } => lost += 1,
                Write::Acknowledged { .. } => {}
            }
        }
        let saved = acknowledged(&outcomes);
        eprintln!(
            "round {round}: killed after {delay} ms, {} writes acknowledged",
            saved.len()
        );
        log.extend(saved);
        // The next start recovers the PostgreSQL that the kill left running.
        running = serve(&dir, port);
    }
    assert!(
        log.len() >= ROUNDS,
        "the load wrote something: {} acknowledged writes",
        log.len()
    );
    let posts = assert_acknowledged_writes_are_whole(&dir, &log).await;
    eprintln!(
        "{} acknowledged writes, {lost} cut off by the kills, {posts} posts in the database, {:?}",
        log.len(),
        started.elapsed()
    );
    assert!(posts <= log.len() + lost, "no post appeared from nowhere");
    let (status, output) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "{output}");
    assert!(processes_in(&dir.join("pgdata")).is_empty());
}
