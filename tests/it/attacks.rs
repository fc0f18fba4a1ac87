//! The account attacks, performed over HTTP as an attacker would: taking an
//! account by signing up first with its address, claiming the first-run
//! setup, DNS rebinding, locking the owner out, turning a stolen session
//! into a permanent one, reading other people's links in the development
//! outbox, and input PostgreSQL cannot store. Each failed before its fix.

use reqwest::StatusCode;
use soloist::config::{MailArgs, Overrides, ServerArgs};

use crate::smtp::SmtpSink;
use crate::support::{TestApp, csrf_in, spawn_app_with};

const PASSWORD: &str = "correct horse battery staple";
const SQUATTER_PASSWORD: &str = "squatters own long passphrase";

async fn app_with_mail() -> (TestApp, SmtpSink) {
    let sink = SmtpSink::start().await;
    let app = spawn_app_with(Overrides {
        mail: MailArgs {
            smtp_url: Some(sink.url.clone()),
            ..MailArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    (app, sink)
}

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

/// The squatter signs up with the victim's address and a password of
/// their own; the sign-up mails the victim a confirmation link.
async fn squat(app: &TestApp, sink: &SmtpSink, email: &str) -> String {
    let before = sink.count_to(email);
    let response = app
        .post_form(
            &app.new_browser(),
            "/sign-up",
            "/sign-up",
            &[
                ("name", "Mallory"),
                ("email", email),
                ("password", SQUATTER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    sink.wait_for(email, before + 1).await.token()
}

async fn sign_in(
    app: &TestApp,
    browser: &reqwest::Client,
    email: &str,
    password: &str,
) -> StatusCode {
    app.post_form(
        browser,
        "/sign-in",
        "/sign-in",
        &[("email", email), ("password", password)],
    )
    .await
    .status()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql().await.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squatter_cannot_use_an_unconfirmed_account_and_loses_it_when_the_owner_confirms() {
    let (app, sink) = app_with_mail().await;
    let token = squat(&app, &sink, "victim@example.com").await;
    // Signing in before the address is proven only asks for confirmation.
    let squatter = app.new_browser();
    let refused = app
        .post_form(
            &squatter,
            "/sign-in",
            "/sign-in",
            &[
                ("email", "victim@example.com"),
                ("password", SQUATTER_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Confirm your email first")
    );
    assert_eq!(app.get(&squatter, "/account").await.0, 303, "no session");
    // The owner opens the mail in their own browser and confirms without
    // knowing the password.
    let owner = app.new_browser();
    let confirmed = app
        .post_form(&owner, "/sign-in", "/verify-email", &[("token", &token)])
        .await;
    assert_eq!(
        confirmed.headers()["location"],
        "/account/security?notice=password-removed"
    );
    assert_eq!(app.get(&owner, "/account").await.0, 200);
    // The squatter's password no longer opens the account.
    assert_eq!(
        sign_in(
            &app,
            &app.new_browser(),
            "victim@example.com",
            SQUATTER_PASSWORD
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM accounts WHERE provider = 'credentials'"
        )
        .await,
        0
    );
    // The owner chooses a password through a link mailed to the address.
    let before = sink.count_to("victim@example.com");
    let asked = app
        .post_form(&owner, "/account/security", "/account/password/link", &[])
        .await;
    assert_eq!(
        asked.headers()["location"],
        "/account/security?notice=password-link-sent"
    );
    let link = sink.wait_for("victim@example.com", before + 1).await;
    assert!(link.subject().contains("Choose a password"));
    let set = app
        .post_form(
            &owner,
            "/account/security",
            "/reset-password/confirm",
            &[
                ("token", &link.token()),
                ("password", "the owners own passphrase"),
            ],
        )
        .await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        sign_in(
            &app,
            &app.new_browser(),
            "victim@example.com",
            "the owners own passphrase"
        )
        .await,
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squatter_loses_the_account_when_the_owner_signs_in_with_a_magic_link() {
    let (app, sink) = app_with_mail().await;
    squat(&app, &sink, "victim@example.com").await;
    let owner = app.new_browser();
    let before = sink.count_to("victim@example.com");
    app.post_form(
        &owner,
        "/magic-link",
        "/magic-link",
        &[("email", "victim@example.com")],
    )
    .await;
    let mail = sink.wait_for("victim@example.com", before + 1).await;
    let signed_in = app
        .post_form(
            &owner,
            "/sign-in",
            "/magic-link/confirm",
            &[("token", &mail.token())],
        )
        .await;
    assert_eq!(
        signed_in.headers()["location"],
        "/account/security?notice=password-removed"
    );
    assert_eq!(
        sign_in(
            &app,
            &app.new_browser(),
            "victim@example.com",
            SQUATTER_PASSWORD
        )
        .await,
        StatusCode::UNAUTHORIZED
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whoever_signed_up_keeps_the_password_in_the_same_browser_or_by_typing_it_again() {
    let (app, sink) = app_with_mail().await;
    // The same browser: one press.
    let browser = app.new_browser();
    app.post_form(
        &browser,
        "/sign-up",
        "/sign-up",
        &[
            ("name", "Ada"),
            ("email", "ada@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let token = sink.wait_for("ada@example.com", 1).await.token();
    let (_, page) = app
        .get(&browser, &format!("/verify-email?token={token}"))
        .await;
    assert!(
        !page.contains("name=\"password\""),
        "no password asked: {page}"
    );
    let confirmed = app
        .post_form(&browser, "/sign-in", "/verify-email", &[("token", &token)])
        .await;
    assert_eq!(
        confirmed.headers()["location"],
        "/account?notice=email-verified"
    );
    assert_eq!(
        sign_in(&app, &app.new_browser(), "ada@example.com", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    // Another browser (the phone): the password typed again keeps it; a
    // wrong one is refused without using up the link.
    let laptop = app.new_browser();
    app.post_form(
        &laptop,
        "/sign-up",
        "/sign-up",
        &[
            ("name", "Bea"),
            ("email", "bea@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let token = sink.wait_for("bea@example.com", 1).await.token();
    let phone = app.new_browser();
    let (_, page) = app
        .get(&phone, &format!("/verify-email?token={token}"))
        .await;
    assert!(page.contains("name=\"password\""), "{page}");
    let wrong = app
        .post_form(
            &phone,
            "/sign-in",
            "/verify-email",
            &[("token", &token), ("password", "not the password at all")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let right = app
        .post_form(
            &phone,
            "/sign-in",
            "/verify-email",
            &[("token", &token), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        right.headers()["location"],
        "/account?notice=email-verified"
    );
    assert_eq!(
        sign_in(&app, &app.new_browser(), "bea@example.com", PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_of_an_unconfirmed_account_does_nothing_and_cannot_publish() {
    let app = spawn_app_with(Overrides::default()).await;
    let writer = app
        .signed_in_as("writer@example.com", "Writer", false)
        .await;
    let saved = app
        .post_form(
            &writer,
            "/posts/new",
            "/posts",
            &[("title", "Draft"), ("content", "Text"), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let id: uuid::Uuid = app
        .sql()
        .await
        .query_one("SELECT id FROM posts", &[])
        .await
        .unwrap()
        .get(0);
    // The address turns out unproven (an account from before this rule).
    app.sql()
        .await
        .execute("UPDATE users SET email_verified = false", &[])
        .await
        .unwrap();
    let publish = app
        .post_form(
            &writer,
            "/sign-in",
            &format!("/posts/{id}/status"),
            &[("status", "published")],
        )
        .await;
    assert!(
        publish.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/sign-in"),
        "the session is no longer valid"
    );
    assert_eq!(app.get(&writer, "/account").await.0, 303, "signed out");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM posts WHERE status = 'published'"
        )
        .await,
        0
    );
    app.soloist.stop().await.unwrap();
}

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
    assert_eq!(count(&app, "SELECT count(*) FROM users").await, 0);
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
        count(&app, "SELECT count(*) FROM users WHERE role = 'admin'").await,
        1
    );
    assert_eq!(count(&app, "SELECT count(*) FROM setup_tokens").await, 0);
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

/// A browser holding the session of an account that has no password (as
/// one made by GitHub sign-in has), as a thief who copied the cookie would.
async fn stolen_session_without_password(app: &TestApp) -> reqwest::Client {
    let thief = app
        .signed_in_as("oauth@example.com", "Only OAuth", false)
        .await;
    app.sql()
        .await
        .execute("DELETE FROM accounts WHERE provider = 'credentials'", &[])
        .await
        .unwrap();
    thief
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_session_cannot_give_the_account_a_password_or_move_its_address() {
    let (app, sink) = app_with_mail().await;
    let thief = stolen_session_without_password(&app).await;
    let (_, security) = app.get(&thief, "/account/security").await;
    assert!(security.contains("Mail me a link") && !security.contains("Current password"));
    let set = app
        .post_form(
            &thief,
            "/account/security",
            "/account/password",
            &[
                ("current_password", ""),
                ("new_password", "thiefs new passphrase"),
            ],
        )
        .await;
    assert_eq!(set.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM accounts WHERE provider = 'credentials'"
        )
        .await,
        0
    );
    let moved = app
        .post_form(
            &thief,
            "/account/profile",
            "/account/email",
            &[("email", "thief@example.com"), ("password", "")],
        )
        .await;
    assert_eq!(moved.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The only way to a password is a link mailed to the owner's address.
    app.post_form(&thief, "/account/security", "/account/password/link", &[])
        .await;
    assert!(
        sink.wait_for("oauth@example.com", 1)
            .await
            .subject()
            .contains("Choose a password")
    );
    assert_eq!(sink.count_to("thief@example.com"), 0);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_mailed_before_die_when_the_password_changes() {
    let (app, sink) = app_with_mail().await;
    let owner = app.signed_in_as("owner@example.com", "Owner", false).await;
    // A thief who knew the password started an email change; a reset and a
    // magic link are pending too.
    app.post_form(
        &owner,
        "/account/profile",
        "/account/email",
        &[("email", "thief@example.com"), ("password", PASSWORD)],
    )
    .await;
    let change = sink.wait_for("thief@example.com", 1).await.token();
    let stranger = app.new_browser();
    app.post_form(
        &stranger,
        "/magic-link",
        "/magic-link",
        &[("email", "owner@example.com")],
    )
    .await;
    let magic = sink.wait_for("owner@example.com", 1).await.token();
    // The owner changes the password.
    let changed = app
        .post_form(
            &owner,
            "/account/security",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let thief = app.new_browser();
    let moved = app
        .post_form(&thief, "/sign-in", "/verify-email", &[("token", &change)])
        .await;
    assert_eq!(
        moved.status(),
        StatusCode::BAD_REQUEST,
        "the email change is dead"
    );
    let signed_in = app
        .post_form(
            &thief,
            "/sign-in",
            "/magic-link/confirm",
            &[("token", &magic)],
        )
        .await;
    assert_eq!(
        signed_in.status(),
        StatusCode::BAD_REQUEST,
        "the magic link is dead"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM users WHERE email = 'owner@example.com'"
        )
        .await,
        1
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_change_to_a_taken_address_sends_its_owner_no_confirmation_link() {
    let (app, sink) = app_with_mail().await;
    drop(app.signed_in_as("taken@example.com", "Taken", false).await);
    let other = app.signed_in_as("other@example.com", "Other", false).await;
    let asked = app
        .post_form(
            &other,
            "/account/profile",
            "/account/email",
            &[("email", "taken@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        asked.headers()["location"],
        "/account/profile?notice=email-change-sent"
    );
    let mail = sink.wait_for("taken@example.com", 1).await;
    assert!(!mail.subject().contains("Confirm"), "{}", mail.subject());
    assert!(!mail.text().contains("token="), "{}", mail.text());
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_hides_other_peoples_links_when_the_site_is_reachable_from_outside() {
    let app = spawn_app_with(Overrides {
        server: ServerArgs {
            base_url: Some("http://soloist.example".to_owned()),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    assert!(
        app.soloist
            .warnings
            .iter()
            .any(|warning| warning.contains("No SMTP server")),
        "{:?}",
        app.soloist.warnings
    );
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    app.post_form(
        &app.new_browser(),
        "/sign-up",
        "/sign-up",
        &[
            ("name", "Someone"),
            ("email", "someone@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    app.post_form(
        &app.new_browser(),
        "/magic-link",
        "/magic-link",
        &[("email", "admin@example.com")],
    )
    .await;
    let mut page = String::new();
    for _ in 0..100 {
        page = app.get(&admin, "/admin/outbox").await.1;
        if page.contains("someone@example.com") && page.contains("To admin@example.com") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(page.contains("Mail is not being sent"), "{page}");
    assert!(page.contains("verify-email?token=[hidden]"), "{page}");
    let own = page.split("magic-link/confirm?token=").nth(1).unwrap();
    assert!(
        !own.starts_with("[hidden]"),
        "an admin reads their own mail whole"
    );
    let (_, overview) = app.get(&admin, "/admin").await;
    assert!(overview.contains("Mail is not being sent"));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_bytes_and_invalid_text_are_refused_with_400_before_any_work() {
    let app = spawn_app_with(Overrides::default()).await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let anonymous = app.new_browser();
    for path in [
        "/search?q=a%00b",
        "/blog/a%00b",
        "/blog?after=%FF",
        "/sign-in?next=%C3%28",
    ] {
        let (status, body) = app.get(&anonymous, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("not allowed"), "{path}: {body}");
    }
    let (status, body) = app.get(&admin, "/admin/audit.csv?action=a%00b").await;
    assert_eq!(
        status, 400,
        "the export is refused before it streams: {body}"
    );
    let (status, _) = app.get(&admin, "/admin/users?q=%00").await;
    assert_eq!(status, 400);
    let signed_up = app
        .post_form(
            &anonymous,
            "/sign-up",
            "/sign-up",
            &[
                ("name", "Nul\0Byte"),
                ("email", "nul@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(signed_up.status(), StatusCode::BAD_REQUEST);
    let saved = app
        .post_form(
            &admin,
            "/posts/new",
            "/posts",
            &[("title", "Title"), ("content", "a\0b"), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, "SELECT count(*) FROM posts").await, 0);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_in_pages_are_never_cached_and_public_ones_may_be() {
    let app = spawn_app_with(Overrides::default()).await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    for path in [
        "/account",
        "/account/security",
        "/blog",
        "/admin",
        "/admin/outbox",
        "/posts",
    ] {
        let response = admin
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["cache-control"],
            "private, no-store",
            "{path}"
        );
    }
    let public = app
        .new_browser()
        .get(format!("{}/blog", app.url))
        .send()
        .await
        .unwrap();
    assert_ne!(
        public
            .headers()
            .get("cache-control")
            .map(|value| value.to_str().unwrap()),
        Some("private, no-store")
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_anonymous_csrf_cookie_is_host_prefixed() {
    let app = spawn_app_with(Overrides {
        server: ServerArgs {
            base_url: Some("https://soloist.example".to_owned()),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    let response = app
        .http
        .get(format!("{}/sign-in", app.url))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().to_owned())
        .collect();
    let csrf = cookies
        .iter()
        .find(|cookie| cookie.contains("soloist_csrf="))
        .unwrap();
    assert!(csrf.starts_with("__Host-soloist_csrf="), "{csrf}");
    assert!(csrf.contains("Secure") && csrf.contains("Path=/"), "{csrf}");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_slug_says_the_same_whether_a_draft_or_a_published_post_holds_it() {
    let app = spawn_app_with(Overrides::default()).await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    for title in ["Secret plans", "Public news"] {
        let response = app
            .post_form(
                &alice,
                "/posts/new",
                "/posts",
                &[("title", title), ("content", "x"), ("action", "save")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let published: uuid::Uuid = app
        .sql()
        .await
        .query_one("SELECT id FROM posts WHERE slug = 'public-news'", &[])
        .await
        .unwrap()
        .get(0);
    let publish = app
        .post_form(
            &alice,
            "/posts",
            &format!("/posts/{published}/status"),
            &[("status", "published")],
        )
        .await;
    assert_eq!(publish.status(), StatusCode::SEE_OTHER);
    let bob = app.signed_in_as("bob@example.com", "Bob", false).await;
    let mut messages = Vec::new();
    for slug in ["secret-plans", "public-news"] {
        let body = app
            .post_form(
                &bob,
                "/posts/new",
                "/posts",
                &[("title", "Mine"), ("slug", slug)],
            )
            .await
            .text()
            .await
            .unwrap();
        let message = body
            .split("field-error")
            .nth(1)
            .unwrap()
            .split("</p>")
            .next()
            .unwrap()
            .replace(slug, "SLUG");
        messages.push(message);
    }
    assert_eq!(messages[0], messages[1]);
    assert!(!messages[0].contains("Another post"), "{}", messages[0]);
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
