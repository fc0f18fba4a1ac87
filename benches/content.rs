//! Blog benchmark (run with `cargo bench --bench content`; needs `wrk`).
//!
//! Starts a real Soloist on its own embedded PostgreSQL, generates 1,000
//! writers and 10,000 posts, and starts beside it a minimal actix-web +
//! tokio-postgres + askama server that runs the same SQL and renders a bare
//! page: the ceiling of this stack. Then, one after the other, `wrk` drives
//! each with 64 connections for 10 s on `/blog` and on `/blog/{slug}` (a
//! random published post per request), and a paced open-loop client measures
//! Soloist's latency at half its maximum rate. Figures are printed side by
//! side against the targets.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

mod common;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::rc::Rc;
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use askama::Template;
use deadpool_postgres::Pool;
use soloist::config::Overrides;
use soloist::content::store::{BLOG_PAGE, PUBLIC_POST};

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

/// Sends `rate` requests per second for `seconds` over `CONNECTIONS`
/// kept-alive connections, open loop: request `i` is due at `i / rate`
/// seconds and its latency counts from then, so a slow answer delays the
/// requests queued behind it and they count that wait (no coordinated
/// omission). A pacer thread releases each request at its due time with
/// `thread::sleep` (tens of microseconds late at most, where tokio's timer
/// rounds up to the next millisecond); one single-threaded runtime sends the
/// prepared request bytes and reads just enough of each response to find its
/// end. That costs far less CPU per request than a general HTTP client,
/// which matters because on two cores the client's CPU is taken from the
/// server it measures. Returns (p50, p99 in ms, failures, sent).
fn paced(addr: SocketAddr, paths: &[String], rate: f64, seconds: u64) -> (f64, f64, u64, usize) {
    let total = (rate * seconds as f64) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let started = Instant::now() + Duration::from_millis(50);
    let due = move |index: usize| started + interval.mul_f64(index as f64);
    let (release, released) = tokio::sync::mpsc::unbounded_channel::<usize>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for index in 0..total {
                let wait = due(index).saturating_duration_since(Instant::now());
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
                if release.send(index).is_err() {
                    return;
                }
            }
        });
        scope
            .spawn(move || {
                let requests: Rc<Vec<Vec<u8>>> = paths
                    .iter()
                    .map(|path| {
                        format!(
                            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: soloist-bench\r\n\r\n"
                        )
                        .into_bytes()
                    })
                    .collect::<Vec<_>>()
                    .into();
                let released = Rc::new(tokio::sync::Mutex::new(released));
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                let local = tokio::task::LocalSet::new();
                local.block_on(&runtime, async move {
                    let connections: Vec<_> = (0..CONNECTIONS)
                        .map(|_| {
                            let (released, requests) = (released.clone(), requests.clone());
                            tokio::task::spawn_local(async move {
                                let mut latencies = Vec::new();
                                let mut failures = 0_u64;
                                let mut stream = None;
                                let mut buffer = Vec::with_capacity(64 * 1024);
                                loop {
                                    // A free connection takes the oldest released
                                    // request; the lock is let go before it is sent.
                                    let next = released.lock().await.recv().await;
                                    let Some(index) = next else { break };
                                    let request = &requests[index % requests.len()];
                                    let ok =
                                        exchange(&mut stream, addr, request, &mut buffer).await;
                                    latencies.push(due(index).elapsed().as_secs_f64() * 1000.0);
                                    if !ok {
                                        failures += 1;
                                        stream = None;
                                    }
                                }
                                (latencies, failures)
                            })
                        })
                        .collect();
                    let mut latencies = Vec::with_capacity(total);
                    let mut failures = 0;
                    for connection in connections {
                        let (mut part, failed) = connection.await.unwrap();
                        latencies.append(&mut part);
                        failures += failed;
                    }
                    latencies.sort_by(f64::total_cmp);
                    let at = |q: f64| {
                        latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)]
                    };
                    (at(0.50), at(0.99), failures, total)
                })
            })
            .join()
            .unwrap()
    })
}

/// One request and its whole response on a kept-alive connection (opened
/// when there is none). True when the answer was a complete 200.
async fn exchange(
    stream: &mut Option<tokio::net::TcpStream>,
    addr: SocketAddr,
    request: &[u8],
    buffer: &mut Vec<u8>,
) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    if stream.is_none() {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(connected) => {
                connected.set_nodelay(true).ok();
                *stream = Some(connected);
            }
            Err(_) => return false,
        }
    }
    let Some(connection) = stream.as_mut() else {
        return false;
    };
    if connection.write_all(request).await.is_err() {
        return false;
    }
    buffer.clear();
    let mut wanted = None;
    loop {
        if let Some(length) = wanted
            && buffer.len() >= length
        {
            return buffer.starts_with(b"HTTP/1.1 200 ");
        }
        let mut chunk = [0_u8; 16 * 1024];
        match connection.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(read) => buffer.extend_from_slice(&chunk[..read]),
        }
        if wanted.is_none() {
            let Some(end) = buffer.windows(4).position(|window| window == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|value| value.trim().parse::<usize>().ok());
            match length {
                Some(length) => wanted = Some(end + 4 + length),
                // Bodies here always have a length; anything else is a failure.
                None => return false,
            }
        }
    }
}

#[tokio::main]
async fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("This benchmark drives the servers with wrk: apt-get install wrk");
        std::process::exit(1);
    }
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let bench = common::start("content", Overrides::default()).await;
    let (soloist, soloist_url, data_dir) =
        (&bench.soloist, bench.url.clone(), bench.data_dir.clone());

    let seeding = Instant::now();
    {
        let mut client = soloist.pool.get().await.unwrap();
        let transaction = client.transaction().await.unwrap();
        soloist::content::seed::generate(&transaction, USERS, POSTS)
            .await
            .unwrap();
        transaction.commit().await.unwrap();
        // The load's pages are vacuumed, analysed and on disk before any
        // measurement: a checkpoint writing them out would be timed too.
        client
            .batch_execute("VACUUM (ANALYZE) users, posts, tags, post_tags, categories")
            .await
            .unwrap();
        client.batch_execute("CHECKPOINT").await.unwrap();
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

    // The minimal page's pool is deadpool-postgres as it comes, of the same
    // size: its connections live on the worker that opened them.
    let plain = deadpool_postgres::Manager::from_config(
        soloist
            .embedded()
            .unwrap()
            .connect_config(soloist::postgres::DATABASE_NAME),
        tokio_postgres::NoTls,
        deadpool_postgres::ManagerConfig {
            recycling_method: deadpool_postgres::RecyclingMethod::Fast,
        },
    );
    let pool = web::Data::new(
        Pool::builder(plain)
            .max_size(bench.config.pool_size)
            .build()
            .unwrap(),
    );
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
        let paths: Vec<String> = if script.is_some() {
            slugs.iter().map(|slug| format!("/blog/{slug}")).collect()
        } else {
            vec!["/blog".to_owned()]
        };
        let half = soloist_rps / 2.0;
        let (p50, p99_half, failures, sent) =
            tokio::task::block_in_place(|| paced(soloist.addr, &paths, half, 10));
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
    bench.stop().await;

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
                "  errors: Soloist {errors}, minimal {reference_errors}, paced {failures} of {sent}"
            );
        }
    }
    println!(
        "targets: Soloist / minimal >= the target ratio; p99 at half of Soloist's maximum rate <= 10 ms"
    );
}
