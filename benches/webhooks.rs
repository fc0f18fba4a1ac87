//! Stripe webhook benchmark (run with `cargo bench --bench webhooks`).
//!
//! Starts a real Soloist on its own embedded PostgreSQL with a webhook
//! secret, gives 1,000 users a subscription, then 64 concurrent senders
//! deliver signed `invoice.paid` events for 10 s: every one is verified,
//! recorded and applied (a payment row and its audit row) in its own
//! committed transaction. Then the same events again (redeliveries: verified,
//! found, no effect), and events with a wrong signature (refused before
//! parsing). Prints events per second and latency beside the target.
#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use soloist::app::Soloist;
use soloist::billing::stripe::signature_header;
use soloist::config::{DatabaseArgs, Overrides, StripeArgs};

use common::quantile;

const CONCURRENCY: usize = 64;
const RUN: Duration = Duration::from_secs(10);
const SECRET: &str = "whsec_bench";
const USERS: usize = 1_000;

fn body(n: u64) -> String {
    let user = n as usize % USERS;
    serde_json::json!({
        "id": format!("evt_bench_{n}"),
        "object": "event",
        "api_version": "2024-06-20",
        "created": time::OffsetDateTime::now_utc().unix_timestamp(),
        "type": "invoice.paid",
        "data": { "object": {
            "id": format!("in_bench_{n}"), "object": "invoice", "customer": format!("cus_{user}"),
            "subscription": format!("sub_{user}"), "amount_due": 1200, "amount_paid": 1200,
            "currency": "usd", "status": "paid", "payment_intent": format!("pi_bench_{n}"),
            "charge": format!("ch_bench_{n}"), "number": format!("B-{n}"),
            "lines": { "object": "list", "data": [{ "description": "1 × Pro" }] }
        }}
    })
    .to_string()
}

/// Sends events numbered from `start` for `RUN`; returns (answered as
/// expected, other, sorted latencies in ms).
async fn flood(
    url: String,
    start: u64,
    cycle: Option<u64>,
    secret: &'static str,
    expect: u16,
) -> (u64, u64, Vec<f64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(start));
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (stop, next, ok, failed, latencies, client, url) = (
            stop.clone(),
            next.clone(),
            ok.clone(),
            failed.clone(),
            latencies.clone(),
            client.clone(),
            url.clone(),
        );
        tasks.spawn(async move {
            let mut mine = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let n = cycle.map_or(n, |cycle| n % cycle.max(1));
                let body = body(n);
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let header = signature_header(secret, now, body.as_bytes());
                let sent = Instant::now();
                let response = client
                    .post(format!("{url}/webhooks/stripe"))
                    .header("Stripe-Signature", header)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await;
                match response {
                    Ok(response) if response.status().as_u16() == expect => {
                        let _ = response.bytes().await;
                        mine.push(sent.elapsed().as_secs_f64() * 1000.0);
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies.lock().unwrap().extend(mine);
        });
    }
    tokio::time::sleep(RUN).await;
    stop.store(true, Ordering::Relaxed);
    tasks.join_all().await;
    let mut latencies = std::mem::take(&mut *latencies.lock().unwrap());
    latencies.sort_by(f64::total_cmp);
    (
        ok.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        latencies,
    )
}

/// Applied events per second, p50 and p99 (as wrk prints them) when wrk
/// sends pre-signed new events for 10 s; `None` without wrk.
async fn wrk_run(
    soloist: &Soloist,
    url: &str,
    dir: &std::path::Path,
) -> Option<(f64, String, String)> {
    if std::process::Command::new("wrk")
        .arg("--version")
        .output()
        .is_err()
    {
        return None;
    }
    const BODIES: u64 = 40_000;
    let script = dir.join("webhooks.lua");
    {
        use std::io::Write;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&script).unwrap());
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        writeln!(file, "local bodies = {{").unwrap();
        for n in 0..BODIES {
            let body = body(30_000_000 + n);
            let header = signature_header(SECRET, now, body.as_bytes());
            writeln!(file, "  {{ {:?}, {:?} }},", body, header).unwrap();
        }
        writeln!(
            file,
            "}}\nlocal counter = 0\nfunction setup(thread)\n  thread:set(\"id\", counter)\n  counter = counter + 1\nend\n\
             local next = nil\nrequest = function()\n  if next == nil then next = id + 1 end\n  local pair = bodies[next]\n\
             next = next + 2\n  if next > #bodies then next = id + 1 end\n\
             return wrk.format(\"POST\", \"/webhooks/stripe\", {{ [\"Stripe-Signature\"] = pair[2], [\"Content-Type\"] = \"application/json\" }}, pair[1])\nend"
        )
        .unwrap();
    }
    let before: i64 = soloist
        .pool
        .get()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM payments", &[])
        .await
        .unwrap()
        .get(0);
    let output = tokio::process::Command::new("wrk")
        .args(["-t2", "-c64", "-d10s", "--latency", "-s"])
        .arg(&script)
        .arg(url)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let after: i64 = soloist
        .pool
        .get()
        .await
        .unwrap()
        .query_one("SELECT count(*) FROM payments", &[])
        .await
        .unwrap()
        .get(0);
    let quantile = |name: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(name))
            .map(|value| value.trim().to_owned())
            .unwrap_or_default()
    };
    Some((
        (after - before) as f64 / 10.0,
        quantile("50%"),
        quantile("99%"),
    ))
}

#[tokio::main]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let bench = common::start(
        "webhooks",
        Overrides {
            stripe: StripeArgs {
                webhook_secret: Some(SECRET.to_owned()),
                ..StripeArgs::default()
            },
            database: DatabaseArgs {
                pool_size: std::env::var("BENCH_POOL_SIZE")
                    .ok()
                    .and_then(|size| size.parse().ok()),
                ..DatabaseArgs::default()
            },
            ..Overrides::default()
        },
    )
    .await;
    let (soloist, url, data_dir) = (&bench.soloist, bench.url.clone(), bench.data_dir.clone());
    soloist
        .pool
        .get()
        .await
        .unwrap()
        .batch_execute(&format!(
            "INSERT INTO subscription_plans (name, price_cents, interval, stripe_price_id) VALUES ('Pro', 1200, 'month', 'price_pro'); \
             INSERT INTO users (email, name) SELECT 'payer-' || n || '@example.com', 'Payer ' || n FROM generate_series(0, {last}) n; \
             INSERT INTO subscriptions (user_id, plan_id, status, stripe_customer_id, stripe_subscription_id) \
               SELECT u.id, p.id, 'active', 'cus_' || substr(u.email, 7, position('@' in u.email) - 7), \
                      'sub_' || substr(u.email, 7, position('@' in u.email) - 7) \
               FROM users u, subscription_plans p WHERE u.email LIKE 'payer-%'; \
             ANALYZE users, subscriptions, subscription_plans",
            last = USERS - 1
        ))
        .await
        .unwrap();

    // Warm up, then the three runs.
    let _ = flood(url.clone(), 10_000_000, None, SECRET, 200).await;
    let (applied, applied_failed, applied_latency) = flood(url.clone(), 0, None, SECRET, 200).await;
    let (duplicates, duplicate_failed, duplicate_latency) =
        flood(url.clone(), 0, Some(applied), SECRET, 200).await;
    let (refused, refused_failed, refused_latency) =
        flood(url.clone(), 20_000_000, None, "whsec_wrong", 400).await;
    // The same work driven by wrk, a separate and lighter sender: bodies
    // are signed beforehand (each wrk thread takes every other one), and
    // what was applied is counted in the database.
    let wrk = wrk_run(soloist, &url, &data_dir).await;
    let client = soloist.pool.get().await.unwrap();
    let payments: i64 = client
        .query_one("SELECT count(*) FROM payments WHERE substring(stripe_invoice_id from 10)::bigint < 10000000", &[])
        .await
        .unwrap()
        .get(0);
    drop(client);
    bench.stop().await;

    let seconds = RUN.as_secs_f64();
    println!(
        "Soloist webhook benchmark: {cores} cores, {CONCURRENCY} concurrent senders, {} s per run",
        RUN.as_secs()
    );
    println!(
        "{:<44} {:>10} {:>9} {:>9} {:>8} {:>10}",
        "run", "events/s", "p50", "p99", "errors", "target"
    );
    let rows = [
        (
            "new events (verified, recorded, applied)",
            applied,
            applied_failed,
            &applied_latency,
            Some(2000.0),
        ),
        (
            "redeliveries (verified, no effect)",
            duplicates,
            duplicate_failed,
            &duplicate_latency,
            None,
        ),
        (
            "wrong signature (refused)",
            refused,
            refused_failed,
            &refused_latency,
            None,
        ),
    ];
    for (name, ok, failed, latency, target) in rows {
        let rate = ok as f64 / seconds;
        println!(
            "{name:<44} {rate:>10.0} {:>7.1}ms {:>7.1}ms {failed:>8} {:>10}",
            quantile(latency, 0.5),
            quantile(latency, 0.99),
            match target {
                Some(target) if rate >= target => format!(">= {target:.0} yes"),
                Some(target) => format!(">= {target:.0} NO"),
                None => String::new(),
            }
        );
    }
    println!("payments written by the first run: {payments} (one per applied event: {applied})");
    match wrk {
        Some((rate, p50, p99)) => println!(
            "{:<44} {rate:>10.0} {p50:>9} {p99:>9} {:>8} {:>10}",
            "new events, sent by wrk (applied in the db)",
            "",
            if rate >= 2000.0 {
                ">= 2000 yes"
            } else {
                ">= 2000 NO"
            }
        ),
        None => println!(
            "(wrk is not installed: apt-get install wrk, for the run with an external sender)"
        ),
    }
}
