//! The account attacks, performed over HTTP as an attacker would: taking an
//! account by signing up first with its address, claiming the first-run
//! setup, DNS rebinding, locking the owner out, turning a stolen session
//! into a permanent one, reading other people's links in the development
//! outbox, and input PostgreSQL cannot store. Each failed before its fix.

mod input_and_headers;
mod lockout;
mod mailed_links;
mod pre_account_takeover;
mod setup;

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

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql().await.query_one(sql, &[]).await.unwrap().get(0)
}
