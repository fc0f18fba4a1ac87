//! Request counters and latency histograms, kept cheap on the hot path:
//! each worker thread counts into its own shard (an uncontended lock and no
//! allocation once a route has been seen), and a scrape adds the shards up.
//! Routes are the matched patterns (`/blog/{slug}`), never raw paths, so
//! the number of series stays bounded.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::Method;

/// Upper bounds of the latency buckets, in seconds.
pub const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The route label of requests that matched no route.
pub const UNMATCHED: &str = "unmatched";

const SHARDS: usize = 16;

/// Answers counted for one route.
#[derive(Clone, Debug, Default)]
struct RouteStats {
    /// (method, status) -> answers; a handful per route, so a list.
    answers: Vec<(&'static str, u16, u64)>,
    /// Answers per latency bucket (not cumulative; the last is +Inf).
    buckets: [u64; BUCKETS.len() + 1],
    /// Seconds spent, summed.
    seconds: f64,
}

impl RouteStats {
    fn count(&mut self, method: &'static str, status: u16, elapsed: Duration) {
        match self
            .answers
            .iter_mut()
            .find(|(seen_method, seen_status, _)| *seen_method == method && *seen_status == status)
        {
            Some((_, _, answers)) => *answers += 1,
            None => self.answers.push((method, status, 1)),
        }
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(BUCKETS.len());
        self.buckets[bucket] += 1;
        self.seconds += seconds;
    }

    fn add(&mut self, other: &Self) {
        for (method, status, answers) in &other.answers {
            match self
                .answers
                .iter_mut()
                .find(|(seen_method, seen_status, _)| {
                    seen_method == method && seen_status == status
                }) {
                Some((_, _, total)) => *total += answers,
                None => self.answers.push((method, *status, *answers)),
            }
        }
        for (total, count) in self.buckets.iter_mut().zip(other.buckets) {
            *total += count;
        }
        self.seconds += other.seconds;
    }
}

/// HTTP answers by route, method and status, with latencies by route.
#[derive(Debug)]
pub struct HttpMetrics {
    shards: Box<[Mutex<HashMap<String, RouteStats>>]>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }
}

/// The shard of the current thread: threads are numbered as they first
/// count, so the few HTTP workers get shards of their own.
fn shard_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    INDEX.with(|index| *index)
}

/// The method label: the standard methods by name, anything else as one
/// label, so a client cannot add series by inventing methods.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

impl HttpMetrics {
    /// Counts one answer. `route` is the matched pattern, none when no
    /// route matched.
    pub fn record(&self, route: Option<&str>, method: &Method, status: u16, elapsed: Duration) {
        let route = route.unwrap_or(UNMATCHED);
        let method = method_label(method);
        let Some(shard) = self.shards.get(shard_index()) else {
            return;
        };
        let mut routes = shard.lock().unwrap_or_else(PoisonError::into_inner);
        match routes.get_mut(route) {
            Some(stats) => stats.count(method, status, elapsed),
            None => {
                let mut stats = RouteStats::default();
                stats.count(method, status, elapsed);
                routes.insert(route.to_owned(), stats);
            }
        }
    }

    fn totals(&self) -> Vec<(String, RouteStats)> {
        let mut totals: HashMap<String, RouteStats> = HashMap::new();
        for shard in &self.shards {
            let routes = shard.lock().unwrap_or_else(PoisonError::into_inner);
            for (route, stats) in routes.iter() {
                totals.entry(route.clone()).or_default().add(stats);
            }
        }
        let mut totals: Vec<(String, RouteStats)> = totals.into_iter().collect();
        totals.sort_by(|left, right| left.0.cmp(&right.0));
        totals
    }

    /// Writes the counters and histograms in Prometheus' text format.
    pub fn write(&self, out: &mut String) {
        let totals = self.totals();
        out.push_str(
            "# HELP soloist_http_requests_total HTTP requests answered, by matched route, method and status.\n\
             # TYPE soloist_http_requests_total counter\n",
        );
        for (route, stats) in &totals {
            let mut answers = stats.answers.clone();
            answers.sort_unstable();
            for (method, status, count) in answers {
                writeln!(
                    out,
                    "soloist_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {count}",
                    escape_label(route)
                )
                .ok();
            }
        }
        out.push_str(
            "# HELP soloist_http_request_duration_seconds Time from receiving a request to its answer, by matched route.\n\
             # TYPE soloist_http_request_duration_seconds histogram\n",
        );
        for (route, stats) in &totals {
            let route = escape_label(route);
            let mut cumulative = 0;
            for (bound, count) in BUCKETS.iter().zip(stats.buckets) {
                cumulative += count;
                writeln!(
                    out,
                    "soloist_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                )
                .ok();
            }
            cumulative += stats.buckets[BUCKETS.len()];
            writeln!(
                out,
                "soloist_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}\n\
                 soloist_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 soloist_http_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}",
                stats.seconds
            )
            .ok();
        }
    }
}

/// A label value with `\`, `"` and newlines escaped, as the format wants.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_several_threads_add_up_per_route_method_and_status() {
        let metrics = std::sync::Arc::new(HttpMetrics::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let metrics = metrics.clone();
                std::thread::spawn(move || {
                    for _ in 0..250 {
                        metrics.record(
                            Some("/blog/{slug}"),
                            &Method::GET,
                            200,
                            Duration::from_millis(3),
                        );
                    }
                    metrics.record(
                        None,
                        &Method::from_bytes(b"BREW").unwrap(),
                        404,
                        Duration::from_secs(20),
                    );
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let mut text = String::new();
        metrics.write(&mut text);
        assert!(text.contains(
            "soloist_http_requests_total{route=\"/blog/{slug}\",method=\"GET\",status=\"200\"} 1000\n"
        ));
        assert!(text.contains(
            "soloist_http_requests_total{route=\"unmatched\",method=\"OTHER\",status=\"404\"} 4\n"
        ));
        assert!(text.contains(
            "soloist_http_request_duration_seconds_bucket{route=\"/blog/{slug}\",le=\"0.0025\"} 0\n"
        ));
        assert!(text.contains(
            "soloist_http_request_duration_seconds_bucket{route=\"/blog/{slug}\",le=\"0.005\"} 1000\n"
        ));
        assert!(text.contains(
            "soloist_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"10\"} 0\n"
        ));
        assert!(text.contains(
            "soloist_http_request_duration_seconds_bucket{route=\"unmatched\",le=\"+Inf\"} 4\n"
        ));
        assert!(
            text.contains("soloist_http_request_duration_seconds_count{route=\"unmatched\"} 4\n")
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
