//! Client addresses and origins behind trusted proxies.

use soloist::config::{Overrides, ServerArgs};

use super::sign_in_forwarded;
use crate::support::{PASSWORD, TestApp, spawn_app, spawn_app_with};

/// The ip_address of the LOGIN audit row of `email`'s sign-in.
async fn login_ip(app: &TestApp, email: &str) -> String {
    app.sql()
        .await
        .query_one(
            "SELECT a.ip_address FROM audit_logs a JOIN users u ON u.id = a.user_id \
             WHERE u.email = $1 AND a.action = 'LOGIN'",
            &[&email],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_for_header_from_an_untrusted_peer_is_ignored() {
    let app = spawn_app().await;
    app.create_account("spoof@example.com", "Someone", true)
        .await;
    let (browser, _) = sign_in_forwarded(&app, "spoof@example.com", "203.0.113.66").await;
    assert_eq!(login_ip(&app, "spoof@example.com").await, "127.0.0.1");
    let buckets: Vec<String> = app
        .sql()
        .await
        .query("SELECT bucket FROM rate_limits ORDER BY bucket", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(
        buckets.contains(&"sign-in:ip:127.0.0.1".to_owned()),
        "{buckets:?}"
    );
    assert!(!buckets.iter().any(|bucket| bucket.contains("203.0.113.66")));
    let (_, security) = app.get(&browser, "/account/security").await;
    assert!(!security.contains("203.0.113.66"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_the_forwarded_client_address_is_used_everywhere() {
    let app = spawn_app_with(Overrides {
        server: ServerArgs {
            trusted_proxies: Some(vec!["127.0.0.1/32".to_owned()]),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    app.create_account("proxied@example.com", "Someone", true)
        .await;
    let (browser, _) = sign_in_forwarded(&app, "proxied@example.com", "198.51.100.23").await;
    assert_eq!(login_ip(&app, "proxied@example.com").await, "198.51.100.23");
    let (_, security) = app.get(&browser, "/account/security").await;
    assert!(security.contains("198.51.100.23"), "{security}");
    let bucket = app
        .count("SELECT count(*) FROM rate_limits WHERE bucket = 'sign-in:ip:198.51.100.23'")
        .await;
    assert_eq!(bucket, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_several_trusted_hops_the_first_untrusted_address_from_the_right_is_the_client() {
    let app = spawn_app_with(Overrides {
        server: ServerArgs {
            trusted_proxies: Some(vec!["127.0.0.1".to_owned(), "10.0.0.0/8".to_owned()]),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    app.create_account("hops@example.com", "Someone", true)
        .await;
    // The left-most entry is whatever the client claimed; the proxies
    // appended the rest.
    sign_in_forwarded(&app, "hops@example.com", "6.6.6.6, 198.51.100.7, 10.2.3.4").await;
    assert_eq!(login_ip(&app, "hops@example.com").await, "198.51.100.7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_proxies_that_are_not_addresses_are_refused_with_a_clear_message() {
    let error = soloist::config::Config::resolve(Overrides {
        server: ServerArgs {
            trusted_proxies: Some(vec!["10.0.0.0/8".to_owned(), "proxy.internal".to_owned()]),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("\"proxy.internal\" is not an IP address or CIDR range"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trusted_proxy_names_the_origin_forms_are_checked_against_and_others_cannot() {
    // Direct requests come from 127.0.0.1; only when it is a trusted proxy
    // may X-Forwarded-Host/-Proto say which origin the visitor used.
    for (trusted, expected) in [(true, 303), (false, 403)] {
        // The site's public name is the proxy's (the Host check refuses
        // any other name).
        let app = spawn_app_with(Overrides {
            server: ServerArgs {
                trusted_proxies: trusted.then(|| vec!["127.0.0.1/32".to_owned()]),
                base_url: Some("http://proxy.example".to_owned()),
                ..ServerArgs::default()
            },
            ..Overrides::default()
        })
        .await;
        app.create_account("origin@example.com", "Someone", true)
            .await;
        let browser = app.new_browser();
        let token = app.csrf(&browser, "/sign-in").await;
        let response = browser
            .post(format!("{}/sign-in", app.url))
            .header("Origin", "https://proxy.example")
            .header("X-Forwarded-Host", "proxy.example")
            .header("X-Forwarded-Proto", "https")
            .form(&[
                ("email", "origin@example.com"),
                ("password", PASSWORD),
                ("csrf_token", token.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "trusted proxy: {trusted}");
    }
}
