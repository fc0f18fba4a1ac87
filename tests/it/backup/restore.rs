//! `soloist backup` while serving and while stopped, and `soloist restore`.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio_postgres::GenericClient;

use super::{connect, data_dir_arg, run, serve_without_schedule, text, written_path};
use crate::support::{command, free_port, processes_in, query_data_dir, scratch_dir, serve};

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
