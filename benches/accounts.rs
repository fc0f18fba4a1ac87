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

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use soloist::accounts::secrets::{Password, PasswordHasherPool};
use soloist::app::{Soloist, StartOptions};
use soloist::config::{Config, Overrides, ServerArgs};
use soloist::postgres::Quiet;

const CONCURRENCY: usize = 64;
const RUN: Duration = Duration::from_secs(10);
const PASSWORD: &str = "correct horse battery staple";

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

static FAILURES: std::sync::Mutex<std::collections::BTreeMap<u16, u64>> =
    std::sync::Mutex::new(std::collections::BTreeMap::new());

/// Counts a failed answer by status (0: no answer).
fn record(status: u16) {
    *FAILURES.lock().unwrap().entry(status).or_default() += 1;
}

fn csrf_in(body: &str) -> String {
    let at = body.find("name=\"csrf_token\"").unwrap();
    body[at..]
        .split("value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

fn client() -> reqwest::Client {
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
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
            let mut browser = client();
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

    let data_dir = tempfile_dir();
    let config = Config::resolve(Overrides {
        data_dir: Some(data_dir.clone()),
        server: ServerArgs {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .unwrap();
    let runner = PathBuf::from(env!("CARGO_BIN_EXE_soloist"));
    let soloist = Soloist::start(
        &config,
        StartOptions {
            runner,
            progress: &Quiet,
        },
    )
    .await
    .unwrap();
    let url = format!("http://{}", soloist.addr);
    // One account per client, so per-account limits do not interfere.
    soloist::accounts::admin::create_admin(
        &soloist.pool,
        &hasher,
        "bench@example.com",
        "Bench",
        Some(&password),
    )
    .await
    .unwrap();
    soloist
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
    let pool = soloist.pool.clone();
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
            let Ok(page) = browser.get(format!("{url}/sign-in")).send().await else {
                return (browser, false);
            };
            let token = csrf_in(&page.text().await.unwrap_or_default());
            let response = browser
                .post(format!("{url}/sign-in"))
                .form(&[
                    ("email", "bench@example.com"),
                    ("password", PASSWORD),
                    ("csrf_token", token.as_str()),
                ])
                .send()
                .await;
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
            (client(), ok)
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
                let page = browser.get(format!("{url}/sign-in")).send().await.unwrap();
                let token = csrf_in(&page.text().await.unwrap());
                browser
                    .post(format!("{url}/sign-in"))
                    .form(&[
                        ("email", "bench@example.com"),
                        ("password", PASSWORD),
                        ("csrf_token", token.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap();
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
    soloist.stop().await.unwrap();
    std::fs::remove_dir_all(&data_dir).ok();
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("soloist-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
