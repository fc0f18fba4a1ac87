//! Claiming the first-run setup: the token printed at boot, racing setups,
//! and DNS rebinding through another host name.

use reqwest::StatusCode;
use soloist::config::{Overrides, ServerArgs};

use crate::support::{PASSWORD, TestApp, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_needs_the_token_printed_at_boot_and_ten_racing_setups_make_one_admin() {
    let app = spawn_app_with(Overrides {
        server: ServerArgs {
            trusted_proxies: Some(vec!["127.0.0.1".to_owned()]),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    let token = app
        .soloist
        .setup_token
        .clone()
        .expect("a token while no admin exists");
    // A visitor from the internet is not told about setup...
    let home = app
        .http
        .get(format!("{}/", app.url))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("setup"), "{home}");
    // ...and cannot claim it without the token.
    let attacker = app.new_browser();
    assert_eq!(app.get(&attacker, "/setup").await.0, 403);
    assert_eq!(app.get(&attacker, "/setup?token=guessed").await.0, 403);
    let claimed = app
        .post_form(
            &attacker,
            "/sign-in",
            "/setup",
            &[
                ("name", "Mallory"),
                ("email", "mallory@example.com"),
                ("password", PASSWORD),
                ("token", "guessed"),
            ],
        )
        .await;
    assert_eq!(claimed.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT count(*) FROM users").await, 0);
    // Ten operators race with the real token: one administrator.
    let mut racers = Vec::new();
    for n in 0..10 {
        let browser = app.new_browser();
        let csrf = app.csrf(&browser, &format!("/setup?token={token}")).await;
        racers.push((browser, csrf, n));
    }
    let attempts = racers.iter().map(|(browser, csrf, n)| {
        let email = format!("owner{n}@example.com");
        let url = format!("{}/setup", app.url);
        let token = token.clone();
        async move {
            browser
                .post(url)
                .form(&[
                    ("name", "Owner"),
                    ("email", email.as_str()),
                    ("password", PASSWORD),
                    ("token", token.as_str()),
                    ("csrf_token", csrf.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::SEE_OTHER)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE role = 'admin'")
            .await,
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM setup_tokens").await, 0);
    app.soloist.stop().await.unwrap();
}

/// A raw HTTP/1.1 request with its own Host header; returns the status.
async fn status_with_host(app: &TestApp, path: &str, host: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.soloist.addr)
        .await
        .unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    String::from_utf8_lossy(&response)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_rebinding_page_cannot_reach_setup_or_backups_through_another_host_name() {
    let app = spawn_app_with(Overrides::default()).await;
    let port = app.soloist.addr.port();
    let token = app.soloist.setup_token.clone().unwrap();
    for path in [
        "/",
        &format!("/setup?token={token}"),
        "/admin/backups",
        "/sign-in",
    ] {
        assert_eq!(
            status_with_host(&app, path, &format!("rebind.attacker.example:{port}")).await,
            421,
            "{path}"
        );
        assert_ne!(
            status_with_host(&app, path, &format!("localhost:{port}")).await,
            421
        );
        assert_ne!(
            status_with_host(&app, path, &format!("127.0.0.1:{port}")).await,
            421
        );
        assert_ne!(
            status_with_host(&app, path, &format!("[::1]:{port}")).await,
            421
        );
    }
    assert_eq!(
        status_with_host(&app, "/", "localhost:1").await,
        421,
        "another port"
    );
    assert_eq!(
        status_with_host(&app, "/healthz", "10.0.0.5:8080").await,
        200,
        "health checks by address"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_the_setup_link_and_warnings_and_logs_no_mail_body() {
    use crate::support::{
        command, form_token, free_port, query_data_dir, scratch_dir, spawn, wait_healthy,
    };
    let dir = scratch_dir();
    let port = free_port();
    let running = spawn(command(&[
        "serve",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--base-url",
        "http://soloist.example",
    ]));
    wait_healthy(&running, port);
    let base = format!("http://127.0.0.1:{port}");
    let output = running.output();
    assert!(
        output.contains("Warning: No SMTP server is set"),
        "{output}"
    );
    let token = output
        .split("http://soloist.example/setup?token=")
        .nth(1)
        .unwrap_or_else(|| panic!("no setup link in the boot output: {output}"))
        .split(|character: char| character.is_whitespace() || character == '"')
        .next()
        .unwrap()
        .to_owned();
    let browser = crate::support::browser();
    let setup = browser
        .get(format!("{base}/setup?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(setup.status(), 200, "the printed link opens setup");
    // A magic link goes to the outbox, and its token never to the log.
    query_data_dir(
        &dir,
        "INSERT INTO users (email, name, email_verified) VALUES ('reader@example.com', 'Reader', true)",
    )
    .await;
    let csrf = form_token(&browser, &format!("{base}/magic-link")).await;
    let asked = browser
        .post(format!("{base}/magic-link"))
        .form(&[("email", "reader@example.com"), ("csrf_token", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 200);
    let mut bodies = Vec::new();
    for _ in 0..100 {
        bodies = query_data_dir(&dir, "SELECT body FROM mail_outbox").await;
        if !bodies.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(bodies.len(), 1);
    let (status, output) = running.signal_and_wait(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(status.code(), Some(0), "{output}");
    assert!(
        output.contains("mail stored in the development outbox"),
        "{output}"
    );
    let mail_token = bodies[0]
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    assert!(
        !output.contains(mail_token),
        "a mailed token is in the log: {output}"
    );
}
