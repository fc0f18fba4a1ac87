//! A running Soloist for one test (`spawn_app`), and a browser that speaks
//! to it through its forms.

use std::path::PathBuf;

use soloist::app::{Soloist, StartOptions};
use soloist::config::{Config, DatabaseArgs, MailArgs, Overrides, ServerArgs};
use soloist::postgres::Quiet;

use super::{BINARY, TestDb, migrated_db};
use crate::smtp::SmtpSink;

/// A Soloist serving a fresh database on a random port.
pub struct TestApp {
    pub soloist: Soloist,
    pub db: TestDb,
    pub url: String,
    pub http: reqwest::Client,
}

/// Starts the real app (`Soloist::start`) on a fresh migrated database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Overrides::default()).await
}

/// Starts the real app with its mail going over SMTP to a sink the test
/// reads.
pub async fn spawn_app_with_mail() -> (TestApp, SmtpSink) {
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

/// Starts the real app with some settings of the test's own.
///
/// Its database connections and the mail it sends run on the runtime that
/// starts it, as in the binary: tests that start one run on a two-thread
/// runtime, like the binary's, so a request never waits on the test's own
/// thread.
pub async fn spawn_app_with(overrides: Overrides) -> TestApp {
    let db = migrated_db().await;
    let config = Config::resolve(Overrides {
        database: DatabaseArgs {
            url: Some(db.url()),
            pool_size: overrides.database.pool_size.or(Some(8)),
            ..overrides.database
        },
        server: ServerArgs {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            workers: overrides.server.workers.or(Some(2)),
            ..overrides.server
        },
        ..overrides
    })
    .unwrap();
    let soloist = Soloist::start(
        &config,
        StartOptions {
            runner: PathBuf::from(BINARY),
            progress: &Quiet,
        },
    )
    .await
    .unwrap();
    let url = format!("http://{}", soloist.addr);
    let http = browser();
    TestApp {
        soloist,
        db,
        url,
        http,
    }
}

/// An HTTP client that keeps cookies and does not follow redirects, like a
/// browser tab whose every step the test looks at.
pub fn browser() -> reqwest::Client {
    // reqwest is built without a default TLS crypto provider (Soloist uses ring).
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

impl TestApp {
    /// A fresh browser (no cookies) for another person.
    pub fn new_browser(&self) -> reqwest::Client {
        browser()
    }

    /// GETs `path` and returns the CSRF token of its forms.
    pub async fn csrf(&self, client: &reqwest::Client, path: &str) -> String {
        let body = client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        csrf_in(&body).unwrap_or_else(|| panic!("no csrf_token on {path}: {body}"))
    }

    /// POSTs a form with the CSRF token of the page at `form_page`.
    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        form_page: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf(client, form_page).await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        client
            .post(format!("{}{path}", self.url))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// GETs `path` and returns (status, body).
    pub async fn get(&self, client: &reqwest::Client, path: &str) -> (u16, String) {
        let response = client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// A superuser connection to this app's database.
    pub async fn sql(&self) -> tokio_postgres::Client {
        soloist::db::connect(&self.db.config).await.unwrap()
    }
}

/// The value of the first `csrf_token` field in a page.
pub fn csrf_in(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf_token\"")?;
    let rest = &body[at..];
    let value = rest.split("value=\"").nth(1)?;
    Some(value.split('"').next()?.to_owned())
}

/// The paths of `table`'s routes that answer `method` and are for one of
/// `access`, with sample values in their `{..}` segments (ids that match
/// nothing): the lists the access and CSRF tests walk, derived from the
/// route tables so a new route is covered at once.
pub fn sample_paths(
    table: &[soloist::web::routes::Route],
    method: &str,
    access: &[soloist::web::routes::Access],
) -> Vec<String> {
    table
        .iter()
        .filter(|route| route.has(method) && access.contains(&route.access))
        .map(|route| {
            route.filled(|name| match name {
                "name" => "soloist-20000101-000000.dump".to_owned(),
                "provider" => "github".to_owned(),
                "slug" => "no-such-slug".to_owned(),
                _ => "00000000-0000-0000-0000-000000000000".to_owned(),
            })
        })
        .collect()
}
