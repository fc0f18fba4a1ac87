//! Failures keep their causes: a 5xx page shows the request id (and nothing
//! internal), and the error behind it is logged once, on a line that
//! carries the same id and the error's causes.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{
    Running, command, connect_data_dir, free_port, scratch_dir, spawn, wait_healthy,
};

/// A superuser connection to the `postgres` database of the data dir's
/// server, for changing the `soloist` database itself.
async fn maintenance_connection(data_dir: &std::path::Path) -> tokio_postgres::Client {
    use soloist::postgres::{Credentials, DataDir};
    let data_dir = DataDir {
        root: std::fs::canonicalize(data_dir).unwrap(),
    };
    let credentials = Credentials::load(&data_dir).unwrap().unwrap();
    soloist::db::connect(&credentials.connect_config(&data_dir, "postgres"))
        .await
        .unwrap()
}

/// GETs `path` and returns the status, the `X-Request-Id` and the page.
async fn get(port: u16, path: &str) -> (u16, String, String) {
    let response = crate::support::browser()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    (status, request_id, response.text().await.unwrap())
}

/// The error lines logged while answering `request_id`, read once the
/// request's last line ("answered") is out.
fn error_lines(running: &Running, request_id: &str) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let output = running.output();
        let lines: Vec<Value> = output
            .lines()
            .filter(|line| line.contains(request_id))
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect();
        if lines
            .iter()
            .any(|line| line["fields"]["message"] == "answered")
        {
            return lines
                .into_iter()
                .filter(|line| line["level"] == "ERROR")
                .collect();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no log line answering {request_id}:\n{output}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Asserts that `page` names `request_id` and says nothing of `hidden`.
fn assert_shows_only_the_request_id(page: &str, request_id: &str, hidden: &[&str]) {
    assert!(
        page.contains(&format!("<code>{request_id}</code>")),
        "{page}"
    );
    for secret in hidden {
        assert!(!page.contains(secret), "{secret} in: {page}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_or_503_page_shows_the_request_id_that_the_one_log_line_of_its_error_carries_with_its_causes()
 {
    let data_dir = scratch_dir();
    let port = free_port();
    let mut serve = command(&[
        "serve",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--log-format",
        "json",
    ]);
    serve.env("SOLOIST_LOG", "soloist=debug");
    let running = spawn(serve);
    wait_healthy(&running, port);
    let sql = connect_data_dir(&data_dir).await;

    // A bug: a statement on a table that is not there (42P01) is a 500.
    sql.batch_execute("ALTER TABLE posts RENAME TO posts_elsewhere")
        .await
        .unwrap();
    let (status, request_id, page) = get(port, "/blog").await;
    assert_eq!(status, 500, "{page}");
    assert!(page.contains("Something went wrong"), "{page}");
    assert_shows_only_the_request_id(
        &page,
        &request_id,
        &["posts", "does not exist", "db error", "42P01"],
    );
    let errors = error_lines(&running, &request_id);
    assert_eq!(errors.len(), 1, "logged once: {errors:?}");
    let fields = &errors[0]["fields"];
    assert_eq!(fields["message"], "request failed", "{fields}");
    assert_eq!(fields["request_id"], request_id.as_str(), "{fields}");
    assert_eq!(errors[0]["span"]["request_id"], request_id.as_str());
    assert_eq!(fields["status"], 500, "{fields}");
    assert_eq!(fields["sqlstate"], "42P01", "{fields}");
    let chain = fields["error"].as_str().unwrap();
    assert!(
        chain.starts_with("internal error: caused by: db error: caused by: ERROR: relation")
            && chain.contains("does not exist"),
        "{chain}"
    );
    sql.batch_execute("ALTER TABLE posts_elsewhere RENAME TO posts")
        .await
        .unwrap();
    assert_eq!(get(port, "/blog").await.0, 200);

    // The database refusing every connection is a 503.
    drop(sql);
    let maintenance = maintenance_connection(&data_dir).await;
    maintenance
        .batch_execute(
            "ALTER DATABASE soloist ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'soloist'",
        )
        .await
        .unwrap();
    let (status, request_id, page) = get(port, "/blog").await;
    maintenance
        .batch_execute("ALTER DATABASE soloist ALLOW_CONNECTIONS true")
        .await
        .unwrap();
    assert_eq!(status, 503, "{page}");
    assert!(page.contains("Temporarily unavailable"), "{page}");
    assert_shows_only_the_request_id(
        &page,
        &request_id,
        &["not currently accepting connections", "db error", "55000"],
    );
    let errors = error_lines(&running, &request_id);
    assert_eq!(errors.len(), 1, "logged once: {errors:?}");
    let fields = &errors[0]["fields"];
    assert_eq!(fields["request_id"], request_id.as_str(), "{fields}");
    assert_eq!(fields["status"], 503, "{fields}");
    let chain = fields["error"].as_str().unwrap();
    assert!(
        chain.starts_with("database unavailable: caused by: "),
        "{chain}"
    );
    assert_eq!(get(port, "/blog").await.0, 200);

    let (status, _) = running.signal_and_wait(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(status.code(), Some(0));
}
