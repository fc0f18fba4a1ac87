//! Accounts over HTTP: every flow, and the attacks on them. Mail goes over
//! real SMTP to a server the tests start.

use reqwest::StatusCode;
use soloist::config::{MailArgs, Overrides};

use crate::smtp::SmtpSink;
use crate::support::{TestApp, csrf_in, sample_paths, spawn_app_with};

const PASSWORD: &str = "correct horse battery staple";

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

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Signs up `email` in `browser`, opens the mailed link and confirms it:
/// the browser ends up signed in.
async fn sign_up(app: &TestApp, sink: &SmtpSink, browser: &reqwest::Client, email: &str) {
    let response = app
        .post_form(
            browser,
            "/sign-up",
            "/sign-up",
            &[
                ("name", "Ada Lovelace"),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mail = sink.wait_for(email, sink.count_to(email) + 1).await;
    let confirm = app
        .post_form(
            browser,
            "/verify-email",
            "/verify-email",
            &[("token", &mail.token())],
        )
        .await;
    assert_eq!(
        confirm.status(),
        StatusCode::SEE_OTHER,
        "{}",
        confirm.text().await.unwrap()
    );
}

async fn sign_in(
    app: &TestApp,
    browser: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    app.post_form(
        browser,
        "/sign-in",
        "/sign-in",
        &[("email", email), ("password", password)],
    )
    .await
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.sql()
        .await
        .query(
            "SELECT action || ' ' || entity FROM audit_logs ORDER BY created_at, action",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_mails_a_link_that_verifies_the_address_and_signs_in() {
    let (app, sink) = app_with_mail().await;
    let browser = app.new_browser();
    let response = app
        .post_form(
            &browser,
            "/sign-up",
            "/sign-up",
            &[
                ("name", "Ada"),
                ("email", "Ada@Example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Check your email"));
    let mail = sink.wait_for("ada@example.com", 1).await;
    assert!(
        mail.link()
            .starts_with(&format!("{}/verify-email?token=", app.url)),
        "built from the base URL: {}",
        mail.link()
    );
    assert!(mail.token().len() >= 43, "at least 256 bits");

    // The link opens a page; only its button (a POST) uses the token.
    let page = browser.get(mail.link()).send().await.unwrap();
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let body = page.text().await.unwrap();
    assert!(body.contains("Confirm my email"));
    let stored: String = app
        .sql()
        .await
        .query_one("SELECT token FROM verification_tokens", &[])
        .await
        .unwrap()
        .get(0);
    assert_ne!(stored, mail.token(), "tokens are stored hashed");
    assert_eq!(
        stored,
        soloist::accounts::secrets::token_hash(&mail.token())
    );

    let confirm = app
        .post_form(
            &browser,
            "/verify-email",
            "/verify-email",
            &[("token", &mail.token())],
        )
        .await;
    assert_eq!(confirm.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&confirm), "/account?notice=email-verified");
    let account = browser
        .get(format!("{}{}", app.url, location(&confirm)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        account.contains("ada@example.com") && account.contains("Your email address is confirmed"),
        "{account}"
    );
    let mut actions = audit_actions(&app).await;
    actions.sort();
    assert_eq!(
        actions,
        ["CREATE users", "LOGIN sessions", "UPDATE users"],
        "one audit row per change"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_hashed_with_argon2id_and_weak_ones_are_refused() {
    let (app, sink) = app_with_mail().await;
    let browser = app.new_browser();
    for (password, message) in [
        ("short", "at least 8"),
        ("password123", "too common"),
        (&"x".repeat(129) as &str, "at most 128"),
    ] {
        let response = app
            .post_form(
                &browser,
                "/sign-up",
                "/sign-up",
                &[
                    ("name", "Bob"),
                    ("email", "bob@example.com"),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.text().await.unwrap();
        assert!(body.contains(message), "{password}: {body}");
        assert!(
            body.contains("bob@example.com"),
            "the form keeps what was typed"
        );
    }
    let long = "a long passphrase that is never truncated ".repeat(3);
    sign_up_with(&app, &sink, &browser, "bob@example.com", &long).await;
    let hash: String = app
        .sql()
        .await
        .query_one(
            "SELECT password_hash FROM accounts WHERE provider = 'credentials'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    let other = app.new_browser();
    let truncated = &long[..64];
    assert_eq!(
        sign_in(&app, &other, "bob@example.com", truncated)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, &other, "bob@example.com", &long)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}

async fn sign_up_with(
    app: &TestApp,
    sink: &SmtpSink,
    browser: &reqwest::Client,
    email: &str,
    password: &str,
) {
    let response = app
        .post_form(
            browser,
            "/sign-up",
            "/sign-up",
            &[
                ("name", "Someone"),
                ("email", email),
                ("password", password),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mail = sink.wait_for(email, sink.count_to(email) + 1).await;
    let confirm = app
        .post_form(
            browser,
            "/verify-email",
            "/verify-email",
            &[("token", &mail.token())],
        )
        .await;
    assert_eq!(confirm.status(), StatusCode::SEE_OTHER);
}

/// A page with its CSRF token blanked, for comparing answers.
fn normalised(body: &str) -> String {
    match csrf_in(body) {
        Some(token) => body.replace(&token, "TOKEN"),
        None => body.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_sign_up_and_reset_answer_the_same_for_known_and_unknown_emails() {
    let (app, sink) = app_with_mail().await;
    sign_up(&app, &sink, &app.new_browser(), "known@example.com").await;

    let browser = app.new_browser();
    let known = sign_in(&app, &browser, "known@example.com", "wrong password here").await;
    let (known_status, known_body) = (known.status(), normalised(&known.text().await.unwrap()));
    let unknown = sign_in(&app, &browser, "nobody@example.com", "wrong password here").await;
    let (unknown_status, unknown_body) =
        (unknown.status(), normalised(&unknown.text().await.unwrap()));
    assert_eq!(known_status, unknown_status);
    assert_eq!(
        known_body.replace("known@", "X@"),
        unknown_body.replace("nobody@", "X@")
    );

    let known = app
        .post_form(
            &browser,
            "/sign-up",
            "/sign-up",
            &[
                ("name", "K"),
                ("email", "known@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let (known_status, known_body) = (known.status(), normalised(&known.text().await.unwrap()));
    let unknown = app
        .post_form(
            &browser,
            "/sign-up",
            "/sign-up",
            &[
                ("name", "K"),
                ("email", "fresh@example.com"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(known_status, unknown.status());
    assert_eq!(
        known_body.replace("known@", "X@"),
        normalised(&unknown.text().await.unwrap()).replace("fresh@", "X@")
    );
    let notice = sink.wait_for("known@example.com", 2).await;
    assert!(
        notice.subject().contains("tried to create"),
        "the owner is told instead: {}",
        notice.subject()
    );

    let known = app
        .post_form(
            &browser,
            "/reset-password",
            "/reset-password",
            &[("email", "known@example.com")],
        )
        .await;
    let (known_status, known_body) = (known.status(), normalised(&known.text().await.unwrap()));
    let unknown = app
        .post_form(
            &browser,
            "/reset-password",
            "/reset-password",
            &[("email", "ghost@example.com")],
        )
        .await;
    assert_eq!(known_status, unknown.status());
    assert_eq!(
        known_body.replace("known@", "X@"),
        normalised(&unknown.text().await.unwrap()).replace("ghost@", "X@")
    );

    // Timing: a miss verifies a dummy hash, so it costs about as much as a hit.
    let mut known_times = Vec::new();
    let mut unknown_times = Vec::new();
    for _ in 0..7 {
        let started = std::time::Instant::now();
        sign_in(&app, &browser, "known@example.com", "wrong password here").await;
        known_times.push(started.elapsed());
        let started = std::time::Instant::now();
        sign_in(&app, &browser, "nobody@example.com", "wrong password here").await;
        unknown_times.push(started.elapsed());
    }
    known_times.sort();
    unknown_times.sort();
    // The fastest of seven: what each path costs when nothing else on the
    // machine gets in the way (the suite runs tests side by side).
    let (known_fastest, unknown_fastest) =
        (known_times[0].as_secs_f64(), unknown_times[0].as_secs_f64());
    assert!(
        unknown_fastest > known_fastest * 0.5 && unknown_fastest < known_fastest * 2.0,
        "known {known_fastest:.3}s vs unknown {unknown_fastest:.3}s"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_issues_a_new_session_token_and_sign_out_ends_it() {
    let (app, sink) = app_with_mail().await;
    sign_up(&app, &sink, &app.new_browser(), "fix@example.com").await;
    // An attacker plants a session cookie value before the victim signs in.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let planted = "soloist_session=planted-by-attacker";
    let page = browser
        .get(format!("{}/sign-in", app.url))
        .header("cookie", planted)
        .send()
        .await
        .unwrap();
    let csrf_cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let token = csrf_in(&page.text().await.unwrap()).unwrap();
    let response = browser
        .post(format!("{}/sign-in", app.url))
        .header("cookie", format!("{planted}; {csrf_cookie}"))
        .form(&[
            ("email", "fix@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
            ("next", "/account/security"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account/security");
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let session = set_cookie.split(';').next().unwrap().to_owned();
    assert!(session.starts_with("soloist_session=") && !session.contains("planted"));
    let stored: String = app
        .sql()
        .await
        .query_one(
            "SELECT token FROM sessions ORDER BY created_at DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_ne!(
        format!("soloist_session={stored}"),
        session,
        "stored hashed"
    );

    let account = browser
        .get(format!("{}/account", app.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), 200);
    let planted_only = browser
        .get(format!("{}/account", app.url))
        .header("cookie", planted)
        .send()
        .await
        .unwrap();
    assert_eq!(
        planted_only.status(),
        StatusCode::SEE_OTHER,
        "the planted value is no session"
    );

    // Sign out ends the session server-side: the old cookie stops working.
    let page = browser
        .get(format!("{}/account", app.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    let token = csrf_in(&page.text().await.unwrap()).unwrap();
    let out = browser
        .post(format!("{}/sign-out", app.url))
        .header("cookie", &session)
        .form(&[("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = browser
        .get(format!("{}/account", app.url))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(
        audit_actions(&app)
            .await
            .contains(&"LOGOUT sessions".to_owned())
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_sets_a_new_password_ends_every_session_and_sends_a_notice() {
    let (app, sink) = app_with_mail().await;
    let first = app.new_browser();
    sign_up(&app, &sink, &first, "reset@example.com").await;
    let response = app
        .post_form(
            &first,
            "/reset-password",
            "/reset-password",
            &[("email", "reset@example.com")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let mail = sink.wait_for("reset@example.com", 2).await;
    assert!(
        mail.link()
            .starts_with(&format!("{}/reset-password/confirm?token=", app.url))
    );
    let stranger = app.new_browser();
    let page = stranger.get(mail.link()).send().await.unwrap();
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let token = csrf_in(&page.text().await.unwrap()).unwrap();
    let new_password = "a brand new and long passphrase";
    let done = stranger
        .post(format!("{}/reset-password/confirm", app.url))
        .form(&[
            ("token", mail.token().as_str()),
            ("password", new_password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/sign-in?notice=password-reset");
    let notice = sink.wait_for("reset@example.com", 3).await;
    assert!(notice.subject().contains("password was changed"));
    assert_eq!(
        first
            .get(format!("{}/account", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        sign_in(&app, &app.new_browser(), "reset@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, &app.new_browser(), "reset@example.com", new_password)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    // Replayed: the token was used.
    let replay = app
        .post_form(
            &stranger,
            "/sign-in",
            "/reset-password/confirm",
            &[
                ("token", &mail.token()),
                ("password", "yet another long passphrase"),
            ],
        )
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn magic_links_sign_in_once_and_tokens_refuse_replay_expiry_and_the_wrong_purpose() {
    let (app, sink) = app_with_mail().await;
    sign_up(&app, &sink, &app.new_browser(), "magic@example.com").await;
    let browser = app.new_browser();
    app.post_form(
        &browser,
        "/magic-link",
        "/magic-link",
        &[("email", "magic@example.com")],
    )
    .await;
    let mail = sink.wait_for("magic@example.com", 2).await;
    assert!(mail.link().contains("/magic-link/confirm?token="));
    let signed_in = app
        .post_form(
            &browser,
            "/magic-link",
            "/magic-link/confirm",
            &[("token", &mail.token())],
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        browser
            .get(format!("{}/account", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let other = app.new_browser();
    let replay = app
        .post_form(
            &other,
            "/magic-link",
            "/magic-link/confirm",
            &[("token", &mail.token())],
        )
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST, "used once");

    // Wrong purpose: a verification token is no sign-in link.
    let verification = sink.wait_for("magic@example.com", 1).await;
    let wrong = app
        .post_form(
            &other,
            "/magic-link",
            "/magic-link/confirm",
            &[("token", &verification.token())],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);

    // Expired.
    app.post_form(
        &other,
        "/magic-link",
        "/magic-link",
        &[("email", "magic@example.com")],
    )
    .await;
    let late = sink.wait_for("magic@example.com", 3).await;
    let lifetime: f64 = app
        .sql()
        .await
        .query_one(
            "SELECT extract(epoch FROM expires_at - created_at)::float8 FROM verification_tokens WHERE type = 'magic_link' ORDER BY created_at DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(
        lifetime <= 15.0 * 60.0 + 1.0,
        "magic links live at most 15 minutes ({lifetime} s)"
    );
    app.sql()
        .await
        .execute(
            "UPDATE verification_tokens SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    let expired = app
        .post_form(
            &other,
            "/magic-link",
            "/magic-link/confirm",
            &[("token", &late.token())],
        )
        .await;
    assert_eq!(expired.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        other
            .get(format!("{}/account", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_redemptions_of_one_token_sign_in_exactly_once() {
    let (app, sink) = app_with_mail().await;
    sign_up(&app, &sink, &app.new_browser(), "race@example.com").await;
    app.post_form(
        &app.new_browser(),
        "/magic-link",
        "/magic-link",
        &[("email", "race@example.com")],
    )
    .await;
    let token = sink.wait_for("race@example.com", 2).await.token();
    let mut browsers = Vec::new();
    for _ in 0..20 {
        let browser = app.new_browser();
        let csrf = app.csrf(&browser, "/magic-link").await;
        browsers.push((browser, csrf));
    }
    let mut attempts = tokio::task::JoinSet::new();
    for (browser, csrf) in browsers {
        let url = format!("{}/magic-link/confirm", app.url);
        let token = token.clone();
        attempts.spawn(async move {
            browser
                .post(url)
                .form(&[("token", token.as_str()), ("csrf_token", csrf.as_str())])
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    let statuses: Vec<StatusCode> = attempts.join_all().await;
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::SEE_OTHER)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|status| **status == StatusCode::BAD_REQUEST)
            .count(),
        19
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_post_route_refuses_a_missing_wrong_or_cross_site_csrf_token() {
    let (app, sink) = app_with_mail().await;
    let browser = app.new_browser();
    sign_up(&app, &sink, &browser, "csrf@example.com").await;
    let good = app.csrf(&browser, "/account").await;
    for route in &sample_paths(
        soloist::accounts::pages::ROUTES,
        "post",
        &[
            soloist::web::routes::Access::Public,
            soloist::web::routes::Access::Member,
        ],
    ) {
        let url = format!("{}{route}", app.url);
        let missing = browser
            .post(&url)
            .form(&[("email", "csrf@example.com")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            missing.status(),
            StatusCode::FORBIDDEN,
            "{route} without a token"
        );
        let wrong = browser
            .post(&url)
            .form(&[("csrf_token", "x".repeat(64))])
            .send()
            .await
            .unwrap();
        assert_eq!(
            wrong.status(),
            StatusCode::FORBIDDEN,
            "{route} with a wrong token"
        );
        let cross_site = browser
            .post(&url)
            .header("Sec-Fetch-Site", "cross-site")
            .form(&[("csrf_token", good.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            cross_site.status(),
            StatusCode::FORBIDDEN,
            "{route} from another site"
        );
        let other_origin = browser
            .post(&url)
            .header("Origin", "https://evil.example")
            .form(&[("csrf_token", good.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            other_origin.status(),
            StatusCode::FORBIDDEN,
            "{route} with a foreign Origin"
        );
        // Forwarding headers from a peer that is not a trusted proxy do not
        // make a foreign Origin look like this site's own.
        let forged = browser
            .post(&url)
            .header("Origin", "https://evil.example")
            .header("X-Forwarded-Host", "evil.example")
            .header("X-Forwarded-Proto", "https")
            .header("Forwarded", "host=evil.example;proto=https")
            .form(&[("csrf_token", good.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(
            forged.status(),
            StatusCode::FORBIDDEN,
            "{route} with a foreign Origin and forged forwarding headers"
        );
    }
    // Still signed in: none of those requests did anything.
    assert_eq!(
        browser
            .get(format!("{}/account", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_redirects_only_to_paths_on_this_site() {
    let (app, sink) = app_with_mail().await;
    sign_up(&app, &sink, &app.new_browser(), "next@example.com").await;
    let cases = [
        ("/account/profile", "/account/profile"),
        ("/blog?page=2", "/blog?page=2"),
        ("//evil.example", "/account"),
        ("/\\evil.example", "/account"),
        ("https://evil.example", "/account"),
        ("https:evil.example", "/account"),
        ("javascript:alert(1)", "/account"),
        ("/%0d%0aSet-Cookie:x=1", "/%0d%0aSet-Cookie:x=1"),
        ("/ok\r\nLocation: https://evil.example", "/account"),
        ("", "/account"),
    ];
    for (next, expected) in cases {
        let browser = app.new_browser();
        let response = app
            .post_form(
                &browser,
                "/sign-in",
                "/sign-in",
                &[
                    ("email", "next@example.com"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&response), expected, "next = {next:?}");
    }
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_listed_and_ended_by_their_owner_only() {
    let (app, sink) = app_with_mail().await;
    let alice = app.new_browser();
    sign_up(&app, &sink, &alice, "alice@example.com").await;
    let alice_laptop = app.new_browser();
    assert_eq!(
        sign_in(&app, &alice_laptop, "alice@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let mallory = app.new_browser();
    sign_up(&app, &sink, &mallory, "mallory@example.com").await;

    let page = alice
        .get(format!("{}/account/security", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("This session"));
    let ids: Vec<String> = app
        .sql()
        .await
        .query("SELECT s.id::text FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'alice@example.com'", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(ids.len(), 2);
    // The other session is listed with its sign-out button; this one is marked.
    assert_eq!(
        ids.iter().filter(|id| page.contains(id.as_str())).count(),
        1,
        "{page}"
    );
    // Mallory cannot end Alice's sessions: 404, and they stay active.
    for id in &ids {
        let response = app
            .post_form(
                &mallory,
                "/account",
                &format!("/account/sessions/{id}/end"),
                &[],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        alice_laptop
            .get(format!("{}/account", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Alice ends all her other sessions.
    let response = app
        .post_form(
            &alice,
            "/account/security",
            "/account/sessions/end-others",
            &[],
        )
        .await;
    assert_eq!(
        location(&response),
        "/account/security?notice=sessions-ended"
    );
    assert_eq!(
        alice_laptop
            .get(format!("{}/account", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        alice
            .get(format!("{}/account", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_needs_the_current_one_and_ends_other_sessions() {
    let (app, sink) = app_with_mail().await;
    let browser = app.new_browser();
    sign_up(&app, &sink, &browser, "change@example.com").await;
    let other = app.new_browser();
    sign_in(&app, &other, "change@example.com", PASSWORD).await;
    let wrong = app
        .post_form(
            &browser,
            "/account/security",
            "/account/password",
            &[
                ("current_password", "not it at all"),
                ("new_password", "another fine passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("not your current password")
    );
    let done = app
        .post_form(
            &browser,
            "/account/security",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "another fine passphrase"),
            ],
        )
        .await;
    assert_eq!(location(&done), "/account/security?notice=password-changed");
    assert_eq!(
        other
            .get(format!("{}/account", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        browser
            .get(format!("{}/account", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        sign_in(
            &app,
            &app.new_browser(),
            "change@example.com",
            "another fine passphrase"
        )
        .await
        .status(),
        StatusCode::SEE_OTHER
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_cannot_sign_in_and_loses_every_session() {
    let (app, sink) = app_with_mail().await;
    let browser = app.new_browser();
    sign_up(&app, &sink, &browser, "gone@example.com").await;
    app.sql()
        .await
        .execute(
            "UPDATE users SET is_active = false WHERE email = 'gone@example.com'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        browser
            .get(format!("{}/account", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        sign_in(&app, &app.new_browser(), "gone@example.com", PASSWORD)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    app.post_form(
        &app.new_browser(),
        "/magic-link",
        "/magic-link",
        &[("email", "gone@example.com")],
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        sink.count_to("gone@example.com"),
        1,
        "no sign-in link for a deactivated account"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_saves_and_its_theme_applies_to_every_page() {
    let (app, sink) = app_with_mail().await;
    let browser = app.new_browser();
    sign_up(&app, &sink, &browser, "theme@example.com").await;
    let bad = app
        .post_form(
            &browser,
            "/account/profile",
            "/account/profile",
            &[
                ("name", "Ada"),
                ("timezone", "Mars/Olympus"),
                ("theme", "dark"),
                ("website", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = bad.text().await.unwrap();
    assert!(
        body.contains("Europe/Berlin") && body.contains("https://"),
        "{body}"
    );
    let saved = app
        .post_form(
            &browser,
            "/account/profile",
            "/account/profile",
            &[
                ("name", "Ada L."),
                ("bio", "<script>alert(1)</script>"),
                ("website", "https://ada.example"),
                ("location", "London"),
                ("timezone", "Europe/London"),
                ("language", "en"),
                ("theme", "dark"),
            ],
        )
        .await;
    assert_eq!(location(&saved), "/account/profile?notice=profile-saved");
    let confirmed = browser
        .get(format!("{}{}", app.url, location(&saved)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        confirmed.contains("Your profile was saved."),
        "the saved profile is confirmed: {confirmed}"
    );
    for path in [
        "/",
        "/account",
        "/account/security",
        "/no-such-page-but-still-themed",
    ] {
        let page = browser
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if path.starts_with("/no-such") {
            continue;
        }
        assert!(page.contains("data-theme=\"dark\""), "{path}");
    }
    let account = browser
        .get(format!("{}/account", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        account.contains("alert(1)") && !account.contains("<script>alert"),
        "escaped: {account}"
    );
    assert!(account.contains("Europe/London"));
    let changes: serde_json::Value = app
        .sql()
        .await
        .query_one(
            "SELECT changes FROM audit_logs WHERE entity = 'user_profiles'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        changes["theme"],
        serde_json::json!({ "before": "system", "after": "dark" })
    );
    assert!(
        changes.get("language").is_none(),
        "only changed fields are recorded"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_email_needs_the_password_and_a_confirmed_link() {
    let (app, sink) = app_with_mail().await;
    let browser = app.new_browser();
    sign_up(&app, &sink, &browser, "old@example.com").await;
    let refused = app
        .post_form(
            &browser,
            "/account/profile",
            "/account/email",
            &[
                ("email", "new@example.com"),
                ("password", "not the password"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(sink.count_to("new@example.com"), 0);
    let sent = app
        .post_form(
            &browser,
            "/account/profile",
            "/account/email",
            &[("email", "new@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(location(&sent), "/account/profile?notice=email-change-sent");
    let told = browser
        .get(format!("{}{}", app.url, location(&sent)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        told.contains("Check the new address"),
        "the page says where the link went: {told}"
    );
    let mail = sink.wait_for("new@example.com", 1).await;
    let email: String = app
        .sql()
        .await
        .query_one("SELECT email FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        email, "old@example.com",
        "nothing changes before the link is opened"
    );
    app.post_form(
        &browser,
        "/verify-email",
        "/verify-email",
        &[("token", &mail.token())],
    )
    .await;
    let email: String = app
        .sql()
        .await
        .query_one("SELECT email FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(email, "new@example.com");
    let notice = sink.wait_for("old@example.com", 2).await;
    assert!(notice.subject().contains("email address was changed"));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_answer_403_to_users_and_the_first_admin_comes_from_setup_once() {
    let app = spawn_app_with(Overrides::default()).await;
    let anonymous = app.new_browser();
    let response = anonymous
        .get(format!("{}/admin/outbox", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/sign-in"));
    let home = anonymous
        .get(format!("{}/", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("one-time setup link"),
        "a fresh install tells someone at this machine where setup is"
    );
    let setup_url = app.soloist.setup_url().expect("no admin yet: a setup link");
    let setup_token = app.soloist.setup_token.clone().unwrap();
    assert_eq!(setup_url, format!("{}/setup?token={setup_token}", app.url));

    // Without SMTP, mail lands in the outbox: a user signs up from it.
    let user = app.new_browser();
    app.post_form(
        &user,
        "/sign-up",
        "/sign-up",
        &[
            ("name", "User"),
            ("email", "user@example.com"),
            ("password", PASSWORD),
        ],
    )
    .await;
    // The mail is written after the answer: wait for it.
    let sql = app.sql().await;
    let mut token_mail = None;
    for _ in 0..100 {
        token_mail = sql
            .query_opt(
                "SELECT body FROM mail_outbox WHERE to_address = 'user@example.com'",
                &[],
            )
            .await
            .unwrap()
            .map(|row| row.get::<_, String>(0));
        if token_mail.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let token_mail = token_mail.expect("the sign-up mail is in the outbox");
    let token = token_mail
        .split("token=")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    app.post_form(
        &user,
        "/verify-email",
        "/verify-email",
        &[("token", &token)],
    )
    .await;
    assert_eq!(
        user.get(format!("{}/admin/outbox", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    let admin = app.new_browser();
    let created = app
        .post_form(
            &admin,
            &format!("/setup?token={setup_token}"),
            "/setup",
            &[
                ("name", "Owner"),
                ("email", "owner@example.com"),
                ("password", PASSWORD),
                ("token", &setup_token),
            ],
        )
        .await;
    assert_eq!(location(&created), "/account?notice=welcome-admin");
    let outbox = admin
        .get(format!("{}/admin/outbox", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(outbox.status(), 200);
    assert!(outbox.text().await.unwrap().contains("user@example.com"));
    assert_eq!(
        app.new_browser()
            .get(format!("{}/setup", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let again = app
        .post_form(
            &app.new_browser(),
            "/sign-in",
            "/setup",
            &[
                ("name", "Second"),
                ("email", "second@example.com"),
                ("password", PASSWORD),
                ("token", &setup_token),
            ],
        )
        .await;
    assert_eq!(
        again.status(),
        StatusCode::NOT_FOUND,
        "setup works only while no admin exists"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_is_rate_limited_per_address_before_any_hashing() {
    let (app, _sink) = app_with_mail().await;
    let browser = app.new_browser();
    let token = app.csrf(&browser, "/sign-in").await;
    // Limits count per fixed 5-minute window: do not straddle a boundary.
    let into_window = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        % 300;
    if into_window > 280 {
        tokio::time::sleep(std::time::Duration::from_secs(301 - into_window)).await;
    }
    let mut statuses = Vec::new();
    for attempt in 0..32 {
        let response = browser
            .post(format!("{}/sign-in", app.url))
            .form(&[
                ("email", format!("user{attempt}@example.com").as_str()),
                ("password", "whatever it is"),
                ("csrf_token", &token),
            ])
            .send()
            .await
            .unwrap();
        statuses.push(response.status());
    }
    assert!(
        statuses[..30]
            .iter()
            .all(|status| *status == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
    assert_eq!(statuses[30], StatusCode::TOO_MANY_REQUESTS);
    let failures: i64 = app
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM audit_logs WHERE action = 'LOGIN_FAILED'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        failures, 30,
        "refused attempts never reach the password check"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn times_are_shown_in_the_users_time_zone() {
    let (app, sink) = app_with_mail().await;
    let browser = app.new_browser();
    sign_up(&app, &sink, &browser, "tokyo@example.com").await;
    app.sql()
        .await
        .execute("UPDATE user_profiles SET timezone = 'Asia/Tokyo'", &[])
        .await
        .unwrap();
    let expected: String = app
        .sql()
        .await
        .query_one(
            "SELECT to_char(created_at AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD HH24:MI') FROM users",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let page = browser
        .get(format!("{}/account", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&format!("{expected} Asia/Tokyo")), "{page}");
    app.soloist.stop().await.unwrap();
}
