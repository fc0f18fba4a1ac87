//! Locking the owner out with wrong passwords from many addresses.

use reqwest::StatusCode;
use soloist::config::{MailArgs, Overrides, ServerArgs};

use crate::smtp::SmtpSink;
use crate::support::{PASSWORD, TestApp, csrf_in, spawn_app_with};

/// An app behind a "proxy" on loopback, so a test can speak from any
/// client address with `X-Forwarded-For`.
async fn app_behind_proxy() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(Overrides {
        mail: MailArgs {
            smtp_url: Some(sink.url.clone()),
            ..MailArgs::default()
        },
        server: ServerArgs {
            trusted_proxies: Some(vec!["127.0.0.1".to_owned()]),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    (app, sink)
}

/// Signs in from `ip` (through the trusted loopback proxy).
async fn sign_in_from(
    app: &TestApp,
    browser: &reqwest::Client,
    ip: &str,
    email: &str,
    password: &str,
) -> StatusCode {
    let page = browser
        .get(format!("{}/sign-in", app.url))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_in(&page).unwrap();
    browser
        .post(format!("{}/sign-in", app.url))
        .header("x-forwarded-for", ip)
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &csrf),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_from_many_addresses_do_not_lock_out_the_owners_browser() {
    let (app, _sink) = app_behind_proxy().await;
    drop(app.signed_in_as("owner@example.com", "Owner", true).await);
    // The owner's own browser signed in before: it holds the known-device cookie.
    let owner = app.new_browser();
    assert_eq!(
        sign_in_from(&app, &owner, "198.51.100.1", "owner@example.com", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let sign_out_csrf = app.csrf(&owner, "/account").await;
    owner
        .post(format!("{}/sign-out", app.url))
        .header("x-forwarded-for", "198.51.100.1")
        .form(&[("csrf_token", sign_out_csrf)])
        .send()
        .await
        .unwrap();
    // 110 wrong guesses, each from an address of its own.
    let attacker = app.new_browser();
    let mut statuses = Vec::new();
    for n in 0..110 {
        let ip = format!("203.0.{}.{}", n / 200, n % 200 + 1);
        statuses.push(sign_in_from(&app, &attacker, &ip, "owner@example.com", "wrong guess").await);
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(
        *statuses.last().unwrap(),
        StatusCode::TOO_MANY_REQUESTS,
        "brute force stops at 100 an hour"
    );
    // Even the right password from a new browser waits...
    assert_eq!(
        sign_in_from(
            &app,
            &app.new_browser(),
            "192.0.2.1",
            "owner@example.com",
            PASSWORD
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...but the owner's browser signs in.
    assert_eq!(
        sign_in_from(&app, &owner, "198.51.100.1", "owner@example.com", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_count_per_network_and_an_ipv6_64_is_one_network() {
    let (app, _sink) = app_behind_proxy().await;
    drop(app.signed_in_as("owner@example.com", "Owner", false).await);
    let attacker = app.new_browser();
    for n in 0..10 {
        // Hopping between the addresses of one /64 does not get more tries.
        let ip = format!("2001:db8:1:2::{:x}", n + 1);
        assert_eq!(
            sign_in_from(&app, &attacker, &ip, "owner@example.com", "wrong guess").await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        sign_in_from(
            &app,
            &attacker,
            "2001:db8:1:2:ffff::1",
            "owner@example.com",
            PASSWORD
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Elsewhere, the owner signs in at once.
    assert_eq!(
        sign_in_from(
            &app,
            &app.new_browser(),
            "2001:db8:9:9::1",
            "owner@example.com",
            PASSWORD
        )
        .await,
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}
