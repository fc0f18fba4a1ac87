//! The admin backups page: list, back up, download, for admins only.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{data_dir_arg, run, serve_without_schedule, text, written_path};
use crate::support::{PASSWORD, browser, command, csrf_in, free_port, query_data_dir, scratch_dir};

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
    // Until it is written, the page says so and reloads itself (the claim
    // is taken before the answer, so a backup not listed yet is running).
    let (_, watching) = get(&admin, format!("{base}/admin/backups")).await;
    if listed(&watching).is_empty() {
        assert!(watching.contains("Backup in progress…"), "{watching}");
        assert!(
            watching.contains(
                "<meta http-equiv=\"refresh\" content=\"2; url=/admin/backups?progress=1\">"
            ),
            "{watching}"
        );
        let status = watching.split("role=\"status\"").nth(1).unwrap_or_default();
        assert!(status.contains("<progress"), "{watching}");
    }
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
    // Done: the page it reloads says how it went and stops reloading.
    let done = loop {
        let (_, page) = get(&admin, format!("{base}/admin/backups?progress=1")).await;
        if !page.contains("Backup in progress") {
            break page;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(done.contains("Backup done: "), "{done}");
    assert!(done.contains(&first), "{done}");
    assert!(!done.contains("http-equiv=\"refresh\""), "{done}");
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
