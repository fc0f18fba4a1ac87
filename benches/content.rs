//! Blog benchmark (run with `cargo bench --bench content`; needs `wrk`).
//!
//! Starts a real Soloist on its own embedded PostgreSQL, generates 1,000
//! writers and 10,000 posts, and starts beside it a minimal actix-web +
//! tokio-postgres + askama server that runs the same SQL and renders a bare
//! page: the ceiling of this stack. Then, one after the other, `wrk` drives
//! each with 64 connections for 10 s on `/blog` and on `/blog/{slug}` (a
//! random published post per request), and a fixed-rate client measures
//! Soloist's latency at half its maximum rate. Figures are printed side by
//! side against the targets.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use askama::Template;
use deadpool_postgres::Pool;
use soloist::app::{Soloist, StartOptions};
use soloist::config::{Config, Overrides};
use soloist::content::store::{BLOG_PAGE, PUBLIC_POST};
use soloist::postgres::Quiet;

const CONNECTIONS: usize = 64;
const RUN: &str = "10s";
const USERS: i32 = 1_000;
const POSTS: i32 = 10_000;

struct Card {
    title: String,
    slug: String,
    excerpt: String,
    author: String,
    date: String,
    category: Option<String>,
    tags: Vec<(String, String)>,
}

fn card(row: &tokio_postgres::Row) -> Card {
    let tags: serde_json::Value = row.get("tags");
    Card {
        title: row.get("title"),
        slug: row.get("slug"),
        excerpt: row.get("excerpt"),
        author: row.get("author_name"),
        date: row
            .get::<_, time::OffsetDateTime>("published_at")
            .date()
            .to_string(),
        category: row.get("category_name"),
        tags: tags
            .as_array()
            .unwrap()
            .iter()
            .map(|tag| {
                (
                    tag["name"].as_str().unwrap().to_owned(),
                    tag["slug"].as_str().unwrap().to_owned(),
                )
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(
    ext = "html",
    source = "<!doctype html><html><head><title>Blog</title></head><body><h1>Blog</h1>\
{% for card in cards %}<article><h2><a href=\"/blog/{{ card.slug }}\">{{ card.title }}</a></h2>\
<p>{{ card.date }} · {{ card.author }}{% if let Some(category) = card.category %} · {{ category }}{% endif %}</p>\
<p>{{ card.excerpt }}</p>{% for tag in card.tags %}<a href=\"/tags/{{ tag.1 }}\">#{{ tag.0 }}</a> {% endfor %}</article>{% endfor %}\
</body></html>"
)]
struct MinimalBlog {
    cards: Vec<Card>,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = "<!doctype html><html><head><title>{{ card.title }}</title></head><body>\
<h1>{{ card.title }}</h1><p>{{ card.date }} · {{ card.author }}</p><div>{{ content }}</div>\
{% for tag in card.tags %}<a href=\"/tags/{{ tag.1 }}\">#{{ tag.0 }}</a> {% endfor %}</body></html>"
)]
struct MinimalPost {
    card: Card,
    content: String,
}

async fn minimal_blog(pool: web::Data<Pool>) -> HttpResponse {
    let client = pool.get().await.unwrap();
    let statement = client.prepare_cached(BLOG_PAGE).await.unwrap();
    let first = time::macros::datetime!(9999-12-31 0:00 UTC);
    let rows = client
        .query(&statement, &[&first, &uuid::Uuid::max()])
        .await
        .unwrap();
    let page = MinimalBlog {
        cards: rows.iter().take(20).map(card).collect(),
    };
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page.render().unwrap())
}

async fn minimal_post(pool: web::Data<Pool>, slug: web::Path<String>) -> HttpResponse {
    let client = pool.get().await.unwrap();
    let statement = client.prepare_cached(PUBLIC_POST).await.unwrap();
    match client
        .query_opt(&statement, &[&slug.as_str()])
        .await
        .unwrap()
    {
        Some(row) => {
            let page = MinimalPost {
                card: card(&row),
                content: row.get("content"),
            };
            HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .body(page.render().unwrap())
        }
        None => HttpResponse::NotFound().finish(),
    }
}

/// (requests per second, p99 in ms, non-2xx or socket errors) from wrk.
fn wrk(url: &str, script: Option<&PathBuf>, duration: &str) -> (f64, f64, u64) {
    let mut command = Command::new("wrk");
    command.args([
        "-t2",
        &format!("-c{CONNECTIONS}"),
        &format!("-d{duration}"),
        "--latency",
    ]);
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let rps = text
        .lines()
        .find_map(|line| line.strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no Requests/sec in wrk output:\n{text}"));
    let p99 = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
        .map(|value| milliseconds(value.trim()))
        .unwrap_or(f64::NAN);
    let errors = text
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            if let Some(rest) = line.strip_prefix("Non-2xx or 3xx responses:") {
                rest.trim().parse::<u64>().ok()
            } else {
                line.strip_prefix("Socket errors:").map(|rest| {
                    rest.split(',')
                        .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                        .sum()
                })
            }
        })
        .sum();
    (rps, p99, errors)
}

fn milliseconds(value: &str) -> f64 {
    let (number, unit) = value.split_at(
        value
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(value.len()),
    );
    let number: f64 = number.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => f64::NAN,
    }
}

/// Sends `rate` requests per second for `seconds` (open loop: each request
/// is due at its own time, and its latency counts from then), at most
/// `CONNECTIONS` at once. Returns (p50, p99 in ms, failures, sent).
async fn fixed_rate(urls: Arc<Vec<String>>, rate: f64, seconds: u64) -> (f64, f64, u64, usize) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let permits = Arc::new(tokio::sync::Semaphore::new(CONNECTIONS));
    let interval = Duration::from_secs_f64(1.0 / rate);
    let total = (rate * seconds as f64) as usize;
    let started = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0..total {
        let due = started + interval.mul_f64(index as f64);
        tokio::time::sleep_until(due).await;
        let (client, permits, urls) = (client.clone(), permits.clone(), urls.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            let url = &urls[index % urls.len()];
            let ok = match client.get(url).send().await {
                Ok(response) if response.status().is_success() => response.bytes().await.is_ok(),
                _ => false,
            };
            (due.elapsed().as_secs_f64() * 1000.0, ok)
        });
    }
    let mut latencies = Vec::with_capacity(total);
    let mut failures = 0;
    while let Some(result) = tasks.join_next().await {
        let (latency, ok) = result.unwrap();
        latencies.push(latency);
        failures += u64::from(!ok);
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    (at(0.50), at(0.99), failures, total)
}

#[tokio::main]
async fn main() {
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("This benchmark drives the servers with wrk: apt-get install wrk");
        std::process::exit(1);
    }
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let data_dir =
        std::env::temp_dir().join(format!("soloist-bench-content-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let config = Config::resolve(Overrides {
        data_dir: Some(data_dir.clone()),
        listen: Some("127.0.0.1:0".parse().unwrap()),
        ..Overrides::default()
    })
    .unwrap();
    let soloist = Soloist::start(
        &config,
        StartOptions {
            runner: PathBuf::from(env!("CARGO_BIN_EXE_soloist")),
            progress: &Quiet,
        },
    )
    .await
    .unwrap();
    let soloist_url = format!("http://{}", soloist.addr);

    let seeding = Instant::now();
    {
        let mut client = soloist.pool.get().await.unwrap();
        let transaction = client.transaction().await.unwrap();
        soloist::content::seed::generate(&transaction, USERS, POSTS)
            .await
            .unwrap();
        transaction.commit().await.unwrap();
        client
            .batch_execute("VACUUM (ANALYZE) users, posts, tags, post_tags, categories")
            .await
            .unwrap();
    }
    let seeded_in = seeding.elapsed();
    let client = soloist.pool.get().await.unwrap();
    let counts = client
        .query_one(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM posts), \
                    (SELECT count(*) FROM posts WHERE status = 'published'), (SELECT count(*) FROM post_tags)",
            &[],
        )
        .await
        .unwrap();
    let slugs: Vec<String> = client
        .query(
            "SELECT slug FROM posts WHERE status = 'published' ORDER BY md5(slug) LIMIT 2000",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    drop(client);

    let pool = web::Data::new(soloist.pool.clone());
    let reference = HttpServer::new(move || {
        App::new()
            .app_data(pool.clone())
            .route("/blog", web::get().to(minimal_blog))
            .route("/blog/{slug}", web::get().to(minimal_post))
    })
    .workers(cores)
    .disable_signals()
    .bind("127.0.0.1:0")
    .unwrap();
    let reference_url = format!("http://{}", reference.addrs()[0]);
    let reference = reference.run();
    let reference_handle = reference.handle();
    tokio::spawn(reference);

    let script = data_dir.join("slugs.lua");
    {
        let mut file = std::fs::File::create(&script).unwrap();
        writeln!(file, "local paths = {{").unwrap();
        for slug in &slugs {
            writeln!(file, "  \"/blog/{slug}\",").unwrap();
        }
        writeln!(file, "}}\nmath.randomseed(7)\nrequest = function()\n  return wrk.format(nil, paths[math.random(#paths)])\nend").unwrap();
    }

    let mut rows = Vec::new();
    for (name, path, script, target) in [
        ("/blog", "/blog", None, 0.35),
        ("/blog/{slug}", "", Some(&script), 0.6),
    ] {
        // Warm both servers (caches, prepared statements) before measuring.
        let _ = wrk(&format!("{soloist_url}{path}"), script, "3s");
        let _ = wrk(&format!("{reference_url}{path}"), script, "3s");
        let (soloist_rps, soloist_p99, soloist_errors) =
            wrk(&format!("{soloist_url}{path}"), script, RUN);
        let (reference_rps, reference_p99, reference_errors) =
            wrk(&format!("{reference_url}{path}"), script, RUN);
        let urls: Arc<Vec<String>> = Arc::new(if script.is_some() {
            slugs
                .iter()
                .map(|slug| format!("{soloist_url}/blog/{slug}"))
                .collect()
        } else {
            vec![format!("{soloist_url}/blog")]
        });
        let half = soloist_rps / 2.0;
        let (p50, p99_half, failures, sent) = fixed_rate(urls, half, 10).await;
        rows.push((
            name,
            soloist_rps,
            soloist_p99,
            soloist_errors,
            reference_rps,
            reference_p99,
            reference_errors,
            target,
            half,
            p50,
            p99_half,
            failures,
            sent,
        ));
    }
    reference_handle.stop(true).await;
    soloist.stop().await.unwrap();
    std::fs::remove_dir_all(&data_dir).ok();

    println!(
        "Soloist blog benchmark: {cores} cores, {} users, {} posts ({} published, {} tag links), \
         generated in {:.1} s; wrk, {CONNECTIONS} connections, {RUN} per run",
        counts.get::<_, i64>(0),
        counts.get::<_, i64>(1),
        counts.get::<_, i64>(2),
        counts.get::<_, i64>(3),
        seeded_in.as_secs_f64()
    );
    println!(
        "{:<14} {:>12} {:>12} {:>8} {:>8} {:>11} {:>11} {:>9} {:>9} {:>8} {:>4}",
        "page",
        "Soloist r/s",
        "minimal r/s",
        "ratio",
        "target",
        "p99 @max",
        "min p99",
        "half r/s",
        "p50 @½",
        "p99 @½",
        "ok"
    );
    for (
        name,
        rps,
        p99,
        errors,
        reference_rps,
        reference_p99,
        reference_errors,
        target,
        half,
        p50,
        p99_half,
        failures,
        sent,
    ) in rows
    {
        let ratio = rps / reference_rps;
        let ok = ratio >= target && p99_half <= 10.0 && errors == 0 && failures == 0;
        println!(
            "{name:<14} {rps:>12.0} {reference_rps:>12.0} {ratio:>7.2}x {:>7.2}x {p99:>9.1}ms {reference_p99:>9.1}ms {half:>9.0} {p50:>6.1}ms {p99_half:>6.1}ms {:>4}",
            target,
            if ok { "yes" } else { "NO" }
        );
        if errors + reference_errors + failures > 0 {
            println!(
                "  errors: Soloist {errors}, minimal {reference_errors}, fixed-rate {failures} of {sent}"
            );
        }
    }
    println!(
        "targets: Soloist / minimal >= the target ratio; p99 at half of Soloist's maximum rate <= 10 ms"
    );
}
