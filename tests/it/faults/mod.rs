//! Faults under load, with the real binary on data directories of its own:
//! Soloist killed with `kill -9` in the middle of writes (again and again),
//! its PostgreSQL killed under concurrent load, a full disk, and SIGTERM
//! while requests are in flight. Every write the server acknowledged must
//! be in the database afterwards, and every row there must be whole.

mod full_disk;
mod kill_9;
mod postgres_killed;
mod sigterm;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::{browser, command, csrf_in, query_data_dir};

const PASSWORD: &str = "a long fault-test passphrase";

/// A small seeded PRNG (splitmix64): the seed is printed, so a failing run
/// can be repeated with `FAULTS_SEED=<seed>`.
struct Prng(u64);

impl Prng {
    fn from_env() -> Self {
        let seed = std::env::var("FAULTS_SEED")
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |since| since.as_nanos() as u64)
            });
        eprintln!("fault seed: {seed} (FAULTS_SEED={seed} repeats this run)");
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `low..high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

/// Makes an account with `soloist admin create` (works while `serve` runs).
fn create_account(dir: &Path, email: &str) {
    use std::io::Write;
    let mut create = command(&[
        "admin",
        "create",
        "--data-dir",
        dir.to_str().unwrap(),
        "--email",
        email,
        "--password-stdin",
    ]);
    create
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = create.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A browser signed in through the real form, and the CSRF token of its
/// session (it stays valid as long as the session, across restarts).
struct Writer {
    http: reqwest::Client,
    url: String,
    token: String,
}

async fn sign_in(port: u16, email: &str) -> Writer {
    let url = format!("http://127.0.0.1:{port}");
    let http = crate::support::sign_in_at(&url, email, PASSWORD).await;
    let page = http
        .get(format!("{url}/posts/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_in(&page).unwrap();
    Writer { http, url, token }
}

/// The tags a fault-test post gets, from its title `Fault <a>-<b>-<c>`:
/// one shared by all, one per group `<a>` and one of its own.
fn tags_of(title: &str) -> Vec<String> {
    let key = title.trim_start_matches("Fault ");
    let group = key.split('-').next().unwrap_or("");
    let mut tags = vec!["shared".to_owned(), format!("g{group}"), format!("p{key}")];
    tags.sort();
    tags
}

/// What became of one write request.
#[derive(Clone, Debug)]
enum Write {
    /// Answered 303 to the new post's editor: the server says it is saved.
    Acknowledged { title: String, id: String },
    /// Answered with another status.
    Refused { status: u16, took: Duration },
    /// No complete answer: refused (nothing listens), or cut off.
    Lost { error: String, refused: bool },
}

impl Writer {
    /// Creates a post through the editor form (`POST /posts`).
    async fn create_post(&self, title: &str) -> Write {
        let tags = tags_of(title).join(", ");
        let started = Instant::now();
        let sent = self
            .http
            .post(format!("{}/posts", self.url))
            .form(&[
                ("title", title),
                ("content", "Written while faults were injected."),
                ("tags", &tags),
                ("csrf_token", &self.token),
            ])
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => {
                return Write::Lost {
                    refused: error.is_connect(),
                    error: format!("{error:?}"),
                };
            }
        };
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        if let Err(error) = response.bytes().await {
            return Write::Lost {
                error: format!("body: {error:?}"),
                refused: false,
            };
        }
        match (status, location) {
            (303, Some(location)) if location.starts_with("/posts/") => Write::Acknowledged {
                title: title.to_owned(),
                id: location
                    .trim_start_matches("/posts/")
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_owned(),
            },
            (status, _) => Write::Refused {
                status,
                took: started.elapsed(),
            },
        }
    }
}

/// Runs one SQL statement whose rows are `a|b|...`, split.
async fn rows(dir: &Path, sql: &str) -> Vec<Vec<String>> {
    query_data_dir(dir, sql)
        .await
        .into_iter()
        .map(|row| row.split('|').map(str::to_owned).collect())
        .collect()
}

/// Compares the database with the writes the server acknowledged: each one
/// is there with the same id, and every post, tag and audit row present is
/// whole (a post has its three tags and exactly one CREATE audit row with its
/// title; each tag has exactly one CREATE audit row; no audit row names a
/// post or tag that is not there). Returns how many posts there are.
async fn assert_acknowledged_writes_are_whole(
    dir: &Path,
    acknowledged: &[(String, String)],
) -> usize {
    let posts = rows(
        dir,
        "SELECT p.id::text || '|' || p.title || '|' || \
           coalesce((SELECT string_agg(t.slug, ',' ORDER BY t.slug) FROM post_tags pt \
                     JOIN tags t ON t.id = pt.tag_id WHERE pt.post_id = p.id), '') || '|' || \
           (SELECT count(*) FROM audit_logs a WHERE a.entity = 'posts' AND a.action = 'CREATE' \
              AND a.entity_id = p.id AND a.changes->'title'->>'after' = p.title) || '|' || \
           (SELECT count(*) FROM audit_logs a WHERE a.entity = 'posts' AND a.entity_id = p.id \
              AND a.action = 'CREATE') \
         FROM posts p",
    )
    .await;
    let mut by_title: BTreeMap<String, String> = BTreeMap::new();
    for post in &posts {
        let [id, title, tags, create_audits, audits] = &post[..] else {
            panic!("a post row with an odd shape: {post:?}");
        };
        assert_eq!(
            tags.split(',').map(str::to_owned).collect::<Vec<_>>(),
            tags_of(title),
            "post {title:?} has all its tags and no others"
        );
        assert_eq!(
            (create_audits.as_str(), audits.as_str()),
            ("1", "1"),
            "post {title:?} has exactly one CREATE audit row, with its title"
        );
        assert!(
            by_title.insert(title.clone(), id.clone()).is_none(),
            "post {title:?} was saved twice"
        );
    }
    for (title, id) in acknowledged {
        assert_eq!(
            by_title.get(title),
            Some(id),
            "the acknowledged post {title:?} is in the database"
        );
    }
    let tags = rows(
        dir,
        "SELECT t.slug || '|' || (SELECT count(*) FROM audit_logs a WHERE a.entity = 'tags' \
           AND a.action = 'CREATE' AND a.entity_id = t.id) FROM tags t",
    )
    .await;
    for tag in &tags {
        assert_eq!(
            tag[1], "1",
            "tag {} has exactly one CREATE audit row",
            tag[0]
        );
    }
    let expected_tags: BTreeSet<String> =
        by_title.keys().flat_map(|title| tags_of(title)).collect();
    let found_tags: BTreeSet<String> = tags.iter().map(|tag| tag[0].clone()).collect();
    assert_eq!(
        found_tags, expected_tags,
        "tags exist exactly for the saved posts"
    );
    let orphans = query_data_dir(
        dir,
        "SELECT count(*) FROM audit_logs a WHERE a.action = 'CREATE' AND ( \
           (a.entity = 'posts' AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = a.entity_id)) \
           OR (a.entity = 'tags' AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.id = a.entity_id)))",
    )
    .await;
    assert_eq!(
        orphans,
        ["0"],
        "no audit row for a change that is not there"
    );
    posts.len()
}

/// Writers that create posts `Fault <group>-<writer>-<n>` until told to
/// stop or until a request gets no answer; returns every outcome.
fn start_writers(
    writer: &Arc<Writer>,
    group: usize,
    count: usize,
    stop: &Arc<std::sync::atomic::AtomicBool>,
    stop_when_lost: bool,
) -> tokio::task::JoinSet<Vec<Write>> {
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..count {
        let (writer, stop) = (writer.clone(), stop.clone());
        tasks.spawn(async move {
            let mut outcomes = Vec::new();
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let outcome = writer.create_post(&format!("Fault {group}-{n}-{i}")).await;
                let lost = matches!(outcome, Write::Lost { .. });
                outcomes.push(outcome);
                if lost && stop_when_lost {
                    break;
                }
            }
            outcomes
        });
    }
    tasks
}

fn acknowledged(outcomes: &[Write]) -> Vec<(String, String)> {
    outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            Write::Acknowledged { title, id } => Some((title.clone(), id.clone())),
            _ => None,
        })
        .collect()
}

/// What one reader's request got.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Answer {
    /// A complete response.
    Status(u16),
    /// The connection was refused: nothing listens.
    Refused,
    /// The response was cut off, or never came.
    Broken(String),
}

/// One reader's request: what it got and how long it took.
type Read = (Answer, Duration);

/// Readers that GET `paths` in turn until told to stop.
fn start_readers(
    port: u16,
    paths: &'static [&'static str],
    count: usize,
    stop: &Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinSet<Vec<Read>> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..count {
        let stop = stop.clone();
        tasks.spawn(async move {
            let http = browser();
            let mut reads = Vec::new();
            for path in paths.iter().cycle() {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let asked = Instant::now();
                let answer = match http
                    .get(format!("http://127.0.0.1:{port}{path}"))
                    .send()
                    .await
                {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        match response.bytes().await {
                            Ok(_) => Answer::Status(status),
                            Err(error) => Answer::Broken(format!("body: {error:?}")),
                        }
                    }
                    Err(error) if error.is_connect() => Answer::Refused,
                    Err(error) => Answer::Broken(format!("{error:?}")),
                };
                let refused = answer == Answer::Refused;
                reads.push((answer, asked.elapsed()));
                if refused {
                    break;
                }
            }
            reads
        });
    }
    tasks
}
