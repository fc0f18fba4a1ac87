//! Faults under load, with the real binary on data directories of its own:
//! Soloist killed with `kill -9` in the middle of writes (again and again),
//! its PostgreSQL killed under concurrent load, a full disk, and SIGTERM
//! while requests are in flight. Every write the server acknowledged must
//! be in the database afterwards, and every row there must be whole.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::smtp::SmtpSink;
use crate::support::{
    Running, browser, command, connect_data_dir, csrf_in, form_token, free_port, http_status,
    processes_in, query_data_dir, scratch_dir, serve, spawn, wait_healthy,
};

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

/// A small tmpfs, unmounted (lazily, so a failed test cannot block it) when
/// dropped.
struct SmallDisk {
    path: std::path::PathBuf,
}

impl SmallDisk {
    fn mount(path: std::path::PathBuf, size: &str) -> Self {
        std::fs::create_dir_all(&path).unwrap();
        let output = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "mount: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Self { path }
    }

    /// Writes a filler file until the disk refuses another byte.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.path.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        for chunk in [1 << 20, 4096, 1] {
            let block = vec![0x5a_u8; chunk];
            while file.write_all(&block).is_ok() {}
        }
        file.sync_all().ok();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .output()
            .ok();
    }
}

/// The id in a `/posts/<id>/edit?...` location.
fn post_id(location: &str) -> String {
    location
        .trim_start_matches("/posts/")
        .split('/')
        .next()
        .unwrap_or("")
        .to_owned()
}

/// Markdown that does not compress: every post needs pages of its own.
fn incompressible_text(prng: &mut Prng, chars: usize) -> String {
    let mut text = String::with_capacity(chars + 8);
    while text.len() < chars {
        text.push_str(&format!("{:016x} ", prng.next()));
    }
    text
}

impl Writer {
    /// `POST /posts` with `content`; the status and the page.
    async fn post_with(&self, title: &str, content: &str) -> (u16, String) {
        let tags = tags_of(title).join(", ");
        let response = self
            .http
            .post(format!("{}/posts", self.url))
            .form(&[
                ("title", title),
                ("content", content),
                ("tags", &tags),
                ("csrf_token", &self.token),
            ])
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = response.text().await.unwrap();
        (status, if status == 303 { location } else { body })
    }

    async fn get(&self, path: &str) -> (u16, Duration) {
        let asked = Instant::now();
        let status = match self
            .http
            .get(format!("{}{path}", self.url))
            .timeout(Duration::from_secs(10))
            .send()
            .await
        {
            Ok(response) => response.status().as_u16(),
            Err(_) => 0,
        };
        (status, asked.elapsed())
    }
}

#[tokio::test]
async fn when_the_disk_is_full_writes_get_a_clear_503_reads_go_on_and_writes_work_again_once_space_is_freed()
 {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "this test mounts a small tmpfs for the data directory: run it as root (CI does)"
    );
    let mut prng = Prng::from_env();
    let disk = SmallDisk::mount(scratch_dir().join("m"), "160m");
    let dir = disk.path.join("d");
    let port = free_port();
    let running = serve(&dir, port);
    let soloist_pid = running.child.id();
    create_account(&dir, "full@faults.test");
    let writer = sign_in(port, "full@faults.test").await;
    let (status, location) = writer
        .post_with("Fault 0-0-0", "# Readable\n\nStill here.")
        .await;
    assert_eq!(status, 303, "{location}");
    let id = post_id(&location);
    let published = writer
        .http
        .post(format!("{}/posts/{id}/status", writer.url))
        .form(&[
            ("status", "published"),
            ("csrf_token", writer.token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(published.status(), 303);
    let mut log = vec![("Fault 0-0-0".to_owned(), id)];

    // Full: a write fails once PostgreSQL needs a new page (SQLSTATE 53100),
    // with a page that says why; reads go on.
    let filler = disk.fill();
    let mut refusal = None;
    for n in 1..200 {
        let title = format!("Fault 1-0-{n}");
        let (status, body) = writer
            .post_with(&title, &incompressible_text(&mut prng, 6000))
            .await;
        if status == 303 {
            log.push((title, post_id(&body)));
        } else {
            refusal = Some((n, status, body));
            break;
        }
    }
    let (attempts, status, body) = refusal.expect("200 writes fitted on a full disk");
    eprintln!("the disk was full at write {attempts}: {status}");
    assert_eq!(status, 503, "a full disk is a 503: {body}");
    assert!(
        body.contains("Storage is full"),
        "the page says why: {body}"
    );
    for path in ["/blog", "/blog/fault-0-0-0", "/posts", "/healthz"] {
        assert_eq!(writer.get(path).await.0, 200, "{path} reads on a full disk");
    }
    let (status, body) = writer
        .post_with("Fault 1-1-0", &incompressible_text(&mut prng, 6000))
        .await;
    assert_eq!(status, 503, "still full");
    assert!(body.contains("Storage is full"));

    // Then WAL needs a new segment, which cannot be created: PostgreSQL
    // stops itself (PANIC) and cannot start again while the disk is full.
    // Everything is a quick 503 meanwhile, reads too.
    query_data_dir(&dir, "SELECT pg_switch_wal()::text").await;
    let outage = Instant::now();
    let mut seen = BTreeMap::new();
    for n in 0.. {
        let (write, _) = writer.post_with(&format!("Fault 3-0-{n}"), "Short.").await;
        let (read, took) = writer.get("/blog").await;
        assert!(took < Duration::from_secs(2), "a read took {took:?}");
        *seen.entry((write, read)).or_insert(0) += 1;
        if outage.elapsed() > Duration::from_secs(3) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    eprintln!("(write, read) statuses with no room for WAL: {seen:?}");
    assert!(
        seen.keys()
            .all(|(write, read)| *write == 503 && [200, 503].contains(read)),
        "never a 500 or a hang: {seen:?}"
    );

    // Space comes back: writes work again without restarting Soloist (the
    // supervisor's next try starts PostgreSQL, which replays its WAL).
    std::fs::remove_file(&filler).unwrap();
    let freed = Instant::now();
    let location = loop {
        let (status, location) = writer
            .post_with("Fault 2-0-0", &incompressible_text(&mut prng, 6000))
            .await;
        if status == 303 {
            break location;
        }
        assert_eq!(status, 503, "{location}");
        assert!(
            freed.elapsed() < Duration::from_secs(40),
            "writes did not come back after space was freed\n{}",
            running.output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!(
        "writes worked again {:?} after space was freed",
        freed.elapsed()
    );
    log.push(("Fault 2-0-0".to_owned(), post_id(&location)));
    for path in ["/blog", "/blog/fault-0-0-0"] {
        assert_eq!(
            writer.get(path).await.0,
            200,
            "{path} after space was freed"
        );
    }
    assert_eq!(running.child.id(), soloist_pid);
    assert_acknowledged_writes_are_whole(&dir, &log).await;
    let (status, output) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "{output}");
    drop(disk);
}

#[tokio::test]
async fn sigterm_under_load_lets_every_in_flight_request_finish_then_exits_0_with_postgres_stopped()
{
    const SIGN_INS: usize = 16;
    let dir = scratch_dir();
    let port = free_port();
    let running = serve(&dir, port);
    let pgdata = dir.join("pgdata");
    create_account(&dir, "term@faults.test");
    let writer = Arc::new(sign_in(port, "term@faults.test").await);
    let url = writer.url.clone();
    // Sign-ins are the slow requests (a password hash each, one per core at
    // a time): these are certainly in flight when SIGTERM comes.
    let mut forms = Vec::new();
    for _ in 0..SIGN_INS {
        // A connection of its own for each sign-in, opened when it is sent.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let page = http
            .get(format!("{url}/sign-in"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        forms.push((http, csrf_in(&page).unwrap()));
    }
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers = start_writers(&writer, 0, 3, &stop, true);
    let readers = start_readers(port, &["/blog", "/", "/posts/new", "/healthz"], 3, &stop);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sign_ins = tokio::task::JoinSet::new();
    for (http, token) in forms {
        let url = url.clone();
        sign_ins.spawn(async move {
            let (status, cookie) = post_sign_in(&http, &url, "term@faults.test", &token).await?;
            Ok::<_, String>((status, cookie, Instant::now()))
        });
    }
    // In flight: the server has read each of them and counted it against
    // the sign-in limit (before hashing), and has not answered them all.
    let counted = "SELECT coalesce(sum(hits), 0) FROM rate_limits WHERE bucket LIKE 'sign-in:ip:%'";
    let begun = Instant::now();
    while query_data_dir(&dir, counted).await != [(SIGN_INS + 1).to_string()] {
        assert!(
            begun.elapsed() < Duration::from_secs(10),
            "the sign-ins did not start"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let signalled = Instant::now();
    kill(Pid::from_raw(running.child.id() as i32), Signal::SIGTERM).unwrap();
    let sign_ins = sign_ins.join_all().await;
    let (status, output) =
        tokio::task::spawn_blocking(move || running.signal_and_wait(Signal::SIGTERM))
            .await
            .unwrap();
    let stopped = signalled.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let writes: Vec<Write> = writers.join_all().await.into_iter().flatten().collect();
    let reads: Vec<Read> = readers.join_all().await.into_iter().flatten().collect();

    assert_eq!(status.code(), Some(0), "{output}");
    assert!(
        processes_in(&pgdata).is_empty(),
        "PostgreSQL stopped with Soloist"
    );
    assert!(
        stopped < Duration::from_secs(10),
        "stopping took {stopped:?}"
    );
    let mut after_signal = 0;
    for sign_in in &sign_ins {
        let Ok((status, cookie, finished)) = sign_in else {
            panic!("an in-flight sign-in got no complete answer: {sign_in:?}");
        };
        assert_eq!(
            (*status, *cookie),
            (303, true),
            "an in-flight sign-in finished with its session; errors logged: {}",
            errors_in(&output)
        );
        after_signal += usize::from(*finished > signalled);
    }
    assert!(
        after_signal > 0,
        "some sign-ins were answered after SIGTERM"
    );
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    for write in &writes {
        let key = match write {
            Write::Acknowledged { .. } => "write 303".to_owned(),
            Write::Refused { status, .. } => format!("write {status}"),
            Write::Lost { refused: true, .. } => "write refused after the stop".to_owned(),
            Write::Lost { error, .. } if error.starts_with("body") => {
                panic!("a response was cut off: {error}")
            }
            Write::Lost { .. } => "write unanswered after the stop".to_owned(),
        };
        *answers.entry(key).or_default() += 1;
    }
    for (answer, _) in &reads {
        let key = match answer {
            Answer::Status(status) => format!("read {status}"),
            Answer::Refused => "read refused after the stop".to_owned(),
            Answer::Broken(error) if error.starts_with("body") => {
                panic!("a response was cut off: {error}")
            }
            // A request still unread on a kept-alive connection when the
            // server drains it is closed unanswered (HTTP lets a server close
            // an idle connection; clients retry it): only after the signal.
            Answer::Broken(_) => "read unanswered after the stop".to_owned(),
        };
        *answers.entry(key).or_default() += 1;
    }
    eprintln!(
        "stopped {stopped:?} after SIGTERM; {after_signal} of {SIGN_INS} sign-ins answered after it; {answers:?}"
    );
    assert!(
        answers
            .keys()
            .all(|key| key.ends_with(" 200") || key.ends_with(" 303") || key.ends_with("stop")),
        "complete answers only: {answers:?}"
    );
    let running = serve(&dir, port);
    assert_acknowledged_writes_are_whole(&dir, &acknowledged(&writes)).await;
    running.signal_and_wait(Signal::SIGTERM);
}

/// Posts the sign-in form; its status and whether it set a cookie, once
/// the whole answer is read (or what broke the exchange).
async fn post_sign_in(
    http: &reqwest::Client,
    url: &str,
    email: &str,
    token: &str,
) -> Result<(u16, bool), String> {
    let response = http
        .post(format!("{url}/sign-in"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", token),
        ])
        .send()
        .await
        .map_err(|error| format!("{error:?}"))?;
    let status = response.status().as_u16();
    let cookie = response.headers().contains_key("set-cookie");
    response
        .bytes()
        .await
        .map_err(|error| format!("body: {error:?}"))?;
    Ok((status, cookie))
}

/// The lines of a Soloist's output that report errors.
fn errors_in(output: &str) -> String {
    output
        .lines()
        .filter(|line| line.contains("ERROR") || line.contains("\"level\":\"error\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `soloist serve` on `dir` with extra arguments, once /healthz answers.
fn serve_with(dir: &Path, port: u16, extra: &[&str]) -> Running {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec![
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        &listen,
    ];
    args.extend_from_slice(extra);
    let running = spawn(command(&args));
    wait_healthy(&running, port);
    running
}

/// Each HTTP worker stops as soon as its own requests are done, while
/// another may still be answering one: that request's database connection
/// must not die with the idle worker (it did when the workers shared one
/// pool and a connection lived on the worker that opened it).
#[tokio::test]
async fn a_request_still_running_on_one_worker_keeps_its_database_connection_when_another_worker_stops_first()
 {
    let dir = scratch_dir();
    let port = free_port();
    // Two workers, one connection each (one in all, when they shared a pool).
    let running = serve_with(&dir, port, &["--workers", "2", "--pool-size", "1"]);
    create_account(&dir, "shift@faults.test");
    let url = format!("http://127.0.0.1:{port}");
    // Pooled connections are opened again by the next requests.
    query_data_dir(
        &dir,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = 'soloist' AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let client = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_provider(jar.clone())
            .build()
            .unwrap()
    };
    // One TCP connection, so one worker: the sign-in form, and the home
    // page, whose query opens a database connection on that worker.
    let first = client();
    let token = form_token(&first, &format!("{url}/sign-in")).await;
    assert_eq!(
        first.get(format!("{url}/")).send().await.unwrap().status(),
        200
    );
    drop(first);
    // The next connection goes to the other worker (they take turns). Its
    // sign-in takes a database connection and waits on a lock the test holds.
    let locker = connect_data_dir(&dir).await;
    locker
        .batch_execute("BEGIN; LOCK TABLE rate_limits IN EXCLUSIVE MODE")
        .await
        .unwrap();
    let second = client();
    let sign_in =
        tokio::spawn(async move { post_sign_in(&second, &url, "shift@faults.test", &token).await });
    let waiting = "SELECT count(*) FROM pg_stat_activity \
                   WHERE datname = 'soloist' AND wait_event_type = 'Lock'";
    let begun = Instant::now();
    while query_data_dir(&dir, waiting).await != ["1"] {
        assert!(
            begun.elapsed() < Duration::from_secs(10),
            "the sign-in did not reach the lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill(Pid::from_raw(running.child.id() as i32), Signal::SIGTERM).unwrap();
    // The idle worker stops at once; the other waits for its sign-in.
    tokio::time::sleep(Duration::from_millis(800)).await;
    locker.batch_execute("COMMIT").await.unwrap();
    let answer = sign_in.await.unwrap();
    let (status, output) =
        tokio::task::spawn_blocking(move || running.signal_and_wait(Signal::SIGTERM))
            .await
            .unwrap();
    assert_eq!(
        answer,
        Ok((303, true)),
        "the sign-in finished with its session; errors logged: {}",
        errors_in(&output)
    );
    assert_eq!(status.code(), Some(0), "{output}");
}

/// A mail asked for just before SIGTERM is still sent: the stop waits for
/// mail on its way (a password reset asked for during a restart arrives).
#[tokio::test]
async fn a_reset_mail_asked_for_just_before_sigterm_is_sent_before_soloist_exits() {
    let sink = SmtpSink::start_greeting_after(Duration::from_millis(1500)).await;
    let dir = scratch_dir();
    let port = free_port();
    let running = serve_with(&dir, port, &["--smtp-url", &sink.url]);
    create_account(&dir, "late@faults.test");
    let url = format!("http://127.0.0.1:{port}");
    let http = browser();
    let token = form_token(&http, &format!("{url}/reset-password")).await;
    let response = http
        .post(format!("{url}/reset-password"))
        .form(&[("email", "late@faults.test"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        sink.count_to("late@faults.test"),
        0,
        "the mail is on its way"
    );
    let (status, output) =
        tokio::task::spawn_blocking(move || running.signal_and_wait(Signal::SIGTERM))
            .await
            .unwrap();
    assert_eq!(status.code(), Some(0), "{output}");
    assert_eq!(
        sink.count_to("late@faults.test"),
        1,
        "the reset mail was sent before the exit; errors logged: {}",
        errors_in(&output)
    );
    assert!(
        sink.wait_for("late@faults.test", 1)
            .await
            .link()
            .contains("/reset-password/confirm?token="),
        "it is the reset link"
    );
}
