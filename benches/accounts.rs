//! Sign-in and account-page benchmark (run with `cargo bench --bench accounts`).
//!
//! Starts a real Soloist on its own embedded PostgreSQL, then prints, side by
//! side: the time of one argon2id hash, sign-in throughput under 64
//! concurrent sign-ins against the target (0.8 x cores / hash time), the
//! process's RSS growth during that flood (target <= 256 MB), and the
//! throughput of the signed-in `/account` page.
#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use soloist::accounts::secrets::{Password, PasswordHasherPool};
use soloist::config::Overrides;

use common::{PASSWORD, rss_mib, sign_in};

const CONCURRENCY: usize = 64;
const RUN: Duration = Duration::from_secs(10);

static FAILURES: std::sync::Mutex<std::collections::BTreeMap<u16, u64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Counts a failed answer by status (0: no answer).
fn record(status: u16) {
    *FAILURES.lock().unwrap().entry(status).or_default() += 1;
}

async fn flood<F, Fut>(make: F) -> (u64, u64)
where
    F: Fn(reqwest::Client) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (reqwest::Client, bool)> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (stop, ok, failed, make) = (stop.clone(), ok.clone(), failed.clone(), make.clone());
        tasks.spawn(async move {
            let mut browser = common::browser();
            while !stop.load(Ordering::Relaxed) {
                let (next, success) = make(browser).await;
                browser = next;
                if success {
                    ok.fetch_add(1, Ordering::Relaxed)
                } else {
                    failed.fetch_add(1, Ordering::Relaxed)
                };
            }
        });
    }
    tokio::time::sleep(RUN).await;
    stop.store(true, Ordering::Relaxed);
    tasks.join_all().await;
    (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed))
}

#[tokio::main]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let hasher = PasswordHasherPool::new(1).unwrap();
    let password = Password::new(PASSWORD, &[]).unwrap();
    let started = Instant::now();
    for _ in 0..10 {
        hasher.hash(&password).await.unwrap();
    }
    let hash_time = started.elapsed().as_secs_f64() / 10.0;

    let bench = common::start("accounts", Overrides::default()).await;
    let url = bench.url.clone();
    // One account per client, so per-account limits do not interfere.
    bench.create_admin("bench@example.com", "Bench").await;
    bench
        .soloist
        .pool
        .get()
        .await
        .unwrap()
        .batch_execute("DELETE FROM rate_limits; ALTER TABLE rate_limits SET UNLOGGED")
        .await
        .unwrap();

    let rss_before = rss_mib();
    let peak = Arc::new(std::sync::Mutex::new(rss_before));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                let now = rss_mib();
                {
                    let mut peak = peak.lock().unwrap();
                    if now > *peak {
                        *peak = now;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    // The per-address limit would (rightly) stop a flood from one address:
    // it is lifted for the measurement by clearing the counters as it runs.
    let pool = bench.soloist.pool.clone();
    let clearer = tokio::spawn(async move {
        loop {
            if let Ok(client) = pool.get().await {
                client.batch_execute("DELETE FROM rate_limits").await.ok();
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let sign_in_url = url.clone();
    let (signed_in, sign_in_failures) = flood(move |browser: reqwest::Client| {
        let url = sign_in_url.clone();
        async move {
            let response = sign_in(&browser, &url, "bench@example.com").await;
            let ok = match response {
                Ok(response) if response.status() == 303 => true,
                Ok(response) => {
                    record(response.status().as_u16());
                    false
                }
                Err(_) => {
                    record(0);
                    false
                }
            };
            (common::browser(), ok)
        }
    })
    .await;
    sampler.abort();
    let peak = *peak.lock().unwrap();

    let account_url = url.clone();
    let (pages, page_failures) = flood(move |browser: reqwest::Client| {
        let url = account_url.clone();
        async move {
            let mut browser = browser;
            if browser
                .get(format!("{url}/account"))
                .send()
                .await
                .is_ok_and(|response| response.status() == 303)
            {
                // First request of this client: sign in once.
                sign_in(&browser, &url, "bench@example.com").await.unwrap();
                return (browser, false);
            }
            let ok = match browser.get(format!("{url}/account")).send().await {
                Ok(response) if response.status() == 200 => true,
                Ok(response) => {
                    record(response.status().as_u16());
                    false
                }
                Err(_) => {
                    record(0);
                    false
                }
            };
            browser = browser.clone();
            (browser, ok)
        }
    })
    .await;

    clearer.abort();
    let seconds = RUN.as_secs_f64();
    let target = 0.8 * cores as f64 / hash_time;
    println!(
        "Soloist accounts benchmark ({cores} cores, {CONCURRENCY} concurrent clients, {RUN:?} each)"
    );
    println!("{:<44} {:>14} {:>16}", "measure", "result", "target");
    println!(
        "{:<44} {:>11.1} ms {:>16}",
        "argon2id hash (OWASP m=19 MiB, t=2)",
        hash_time * 1000.0,
        ""
    );
    println!(
        "{:<44} {:>12.0}/s {:>14.0}/s",
        "sign-ins (GET form + POST), 64 at once",
        signed_in as f64 / seconds,
        target
    );
    println!(
        "{:<44} {:>14} {:>16}",
        "sign-in failures", sign_in_failures, "0"
    );
    println!(
        "{:<44} {:>10.0} MiB {:>12} MiB",
        "RSS growth during the sign-in flood",
        peak - rss_before,
        "<= 256"
    );
    println!(
        "{:<44} {:>12.0}/s {:>16}",
        "GET /account (signed in), 64 at once",
        pages as f64 / seconds,
        ""
    );
    println!(
        "{:<44} {:>14} {:>16}",
        "/account failures (incl. 64 first sign-ins)", page_failures, ""
    );
    println!(
        "failed answers by status (0 = no answer): {:?}",
        FAILURES.lock().unwrap()
    );
    bench.stop().await;
}
