//! Accounts over HTTP: every flow, and the attacks on them. Mail goes over
//! real SMTP to a server the tests start.

mod email_links;
mod profile;
mod security;
mod setup;
mod sign_in;
mod sign_up;

use reqwest::StatusCode;
use soloist::config::{MailArgs, Overrides};

use crate::smtp::SmtpSink;
use crate::support::{TestApp, spawn_app_with};

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
