//! A full disk: clear 503s for writes, reads go on, writes work again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{Prng, Writer, assert_acknowledged_writes_are_whole, create_account, sign_in, tags_of};
use crate::support::{free_port, query_data_dir, scratch_dir, serve};

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
