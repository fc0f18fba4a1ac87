//! Audit trail benchmark (run with `cargo bench --bench audit`).
//!
//! Starts a real Soloist on its own embedded PostgreSQL, writes 1,000,000
//! audit rows by 1,000 actors over 12 monthly partitions, signs in as an
//! admin, and prints p50/p99 of filtered `/admin/audit` pages (first and
//! later keyset pages) and the throughput of the streamed CSV export, with
//! the process's RSS before and after exporting everything.
#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark binary"
)]

mod common;

use std::time::Instant;

use soloist::config::Overrides;

use common::{quantile, rss_mib};

const ROWS: i64 = 1_000_000;
const ACTORS: i64 = 1_000;
const REQUESTS: usize = 200;

#[tokio::main]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let bench = common::start("audit", Overrides::default()).await;
    let url = bench.url.clone();
    bench.create_admin("bench-admin@example.com", "Bench").await;

    // 12 monthly partitions back from this month, then a million rows.
    let generating = Instant::now();
    let client = bench.soloist.pool.get().await.unwrap();
    client
        .batch_execute(&format!(
            "DO $$ DECLARE m integer; start timestamptz; BEGIN \
               FOR m IN 1..11 LOOP \
                 start := (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => m)) AT TIME ZONE 'UTC'; \
                 EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF audit_logs FOR VALUES FROM (%L) TO (%L)', \
                   'audit_logs_y' || to_char(start AT TIME ZONE 'UTC', 'YYYY') || 'm' || to_char(start AT TIME ZONE 'UTC', 'MM'), \
                   start, start + interval '1 month'); \
               END LOOP; END $$; \
             INSERT INTO users (email, name) SELECT 'actor-' || n || '@example.com', 'Actor ' || n FROM generate_series(1, {ACTORS}) n; \
             INSERT INTO audit_logs (user_id, action, entity, entity_id, changes, ip_address, user_agent, metadata, created_at) \
             SELECT u.ids[1 + n % {ACTORS}], \
                    (ARRAY['CREATE','UPDATE','DELETE','LOGIN','LOGIN_FAILED','LOGOUT'])[1 + n % 6], \
                    (ARRAY['users','posts','tags','sessions','subscriptions','payments','categories'])[1 + (n / 7) % 7], \
                    md5(n::text)::uuid, \
                    jsonb_build_object('title', jsonb_build_object('before', 'Title ' || n, 'after', 'Title ' || (n + 1))), \
                    '203.0.113.' || (n % 250), 'Mozilla/5.0 (bench)', jsonb_build_object('request_id', n), \
                    now() - make_interval(secs => (n::double precision / {ROWS}) * 330 * 86400) \
             FROM generate_series(1, {ROWS}) n, (SELECT array_agg(id ORDER BY email) AS ids FROM users WHERE email LIKE 'actor-%') u; \
             ANALYZE audit_logs"
        ))
        .await
        .unwrap();
    let partitions: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'audit_logs'::regclass AND EXISTS (SELECT 1 FROM audit_logs WHERE tableoid = c.oid)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let total: i64 = client
        .query_one("SELECT count(*) FROM audit_logs", &[])
        .await
        .unwrap()
        .get(0);
    // Filter values taken from real rows, so every filter matches some.
    let sample = client
        .query_one(
            "SELECT a.entity, a.entity_id::text, u.email, a.action FROM audit_logs a JOIN users u ON u.id = a.user_id \
             WHERE a.created_at BETWEEN now() - interval '59 days' AND now() - interval '31 days' \
             ORDER BY a.created_at LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let (entity, entity_id, actor, action): (String, String, String, String) =
        (sample.get(0), sample.get(1), sample.get(2), sample.get(3));
    let actor = actor.replace('@', "%40");
    drop(client);
    let generated_in = generating.elapsed();

    let browser = common::browser();
    let signed_in = common::sign_in(&browser, &url, "bench-admin@example.com")
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);

    let month_ago = (time::OffsetDateTime::now_utc() - time::Duration::days(30)).date();
    let two_months_ago = (time::OffsetDateTime::now_utc() - time::Duration::days(60)).date();
    let filters = [
        ("no filter".to_owned(), String::new()),
        (
            "actor".to_owned(),
            "actor=actor-42%40example.com".to_owned(),
        ),
        (
            "action + entity".to_owned(),
            "action=UPDATE&entity=posts".to_owned(),
        ),
        (
            "entity + entity id".to_owned(),
            format!("entity={entity}&entity_id={entity_id}"),
        ),
        (
            "one month".to_owned(),
            format!("from={two_months_ago}&to={month_ago}"),
        ),
        (
            "actor + action + month".to_owned(),
            format!("actor={actor}&action={action}&from={two_months_ago}&to={month_ago}"),
        ),
        (
            "action + entity, page 5".to_owned(),
            "action=UPDATE&entity=posts&pages=5".to_owned(),
        ),
    ];
    let mut rows = Vec::new();
    let mut everything = Vec::new();
    for (name, query) in &filters {
        let (query, pages) = match query.strip_suffix("&pages=5") {
            Some(query) => (query.to_owned(), 5),
            None => (query.clone(), 1),
        };
        // The URL of the page to time: follow "Older" links for later pages.
        let mut target = format!("{url}/admin/audit?{query}");
        for _ in 1..pages {
            let body = browser
                .get(&target)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let href = body
                .split("rel=\"next\"")
                .next()
                .unwrap()
                .rsplit("href=\"")
                .next()
                .unwrap();
            target = format!(
                "{url}{}",
                href.split('"').next().unwrap().replace("&#38;", "&")
            );
        }
        let mut latencies = Vec::with_capacity(REQUESTS);
        let mut shown = 0;
        for _ in 0..REQUESTS {
            let started = Instant::now();
            let response = browser.get(&target).send().await.unwrap();
            assert_eq!(response.status(), 200, "{target}");
            let body = response.text().await.unwrap();
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            shown = body.matches("<a href=\"/admin/audit/").count();
        }
        latencies.sort_by(f64::total_cmp);
        everything.extend(latencies.iter().copied());
        rows.push((
            name.clone(),
            quantile(&latencies, 0.5),
            quantile(&latencies, 0.99),
            shown,
        ));
    }
    everything.sort_by(f64::total_cmp);

    let mut exports = Vec::new();
    for (name, query) in [
        (
            "one month".to_owned(),
            format!("from={two_months_ago}&to={month_ago}"),
        ),
        ("everything".to_owned(), String::new()),
    ] {
        let before = rss_mib();
        let started = Instant::now();
        let mut response = browser
            .get(format!("{url}/admin/audit.csv?{query}"))
            .send()
            .await
            .unwrap();
        let (mut bytes, mut lines, mut peak) = (0_usize, 0_usize, before);
        while let Some(chunk) = response.chunk().await.unwrap() {
            bytes += chunk.len();
            lines += chunk.iter().filter(|byte| **byte == b'\n').count();
            peak = peak.max(rss_mib());
        }
        let seconds = started.elapsed().as_secs_f64();
        exports.push((name, lines.saturating_sub(1), seconds, bytes, peak - before));
    }
    bench.stop().await;

    println!(
        "Soloist audit benchmark: {cores} cores, {total} audit rows over {partitions} monthly partitions \
         (generated in {:.0} s), {REQUESTS} sequential requests per filter",
        generated_in.as_secs_f64()
    );
    println!(
        "{:<28} {:>9} {:>9} {:>6} {:>12}",
        "filtered /admin/audit page", "p50", "p99", "rows", "target p99"
    );
    for (name, p50, p99, shown) in &rows {
        println!(
            "{name:<28} {p50:>7.1}ms {p99:>7.1}ms {shown:>6} {:>12}",
            if *p99 <= 50.0 {
                "<= 50 ms yes"
            } else {
                "<= 50 ms NO"
            }
        );
    }
    println!(
        "{:<28} {:>7.1}ms {:>7.1}ms",
        "all of the above",
        quantile(&everything, 0.5),
        quantile(&everything, 0.99)
    );
    println!(
        "{:<28} {:>10} {:>9} {:>12} {:>10} {:>14}",
        "CSV export", "rows", "seconds", "rows/s", "MB/s", "RSS growth"
    );
    for (name, lines, seconds, bytes, growth) in exports {
        println!(
            "{name:<28} {lines:>10} {seconds:>9.1} {:>12.0} {:>10.1} {growth:>11.1} MiB",
            lines as f64 / seconds,
            bytes as f64 / 1e6 / seconds
        );
    }
}
