//! What the benchmarks share: a real Soloist on an embedded PostgreSQL of
//! its own in a scratch data dir, an admin account to sign in as, a browser,
//! and the numbers they print. Each benchmark uses `mod common;`.
#![allow(
    dead_code,
    reason = "each benchmark is its own crate and uses some of these"
)]

use std::path::PathBuf;

use soloist::accounts::secrets::{Password, PasswordHasherPool};
use soloist::app::{Soloist, StartOptions};
use soloist::config::{Config, Overrides, ServerArgs};
use soloist::postgres::Quiet;

/// The password of the accounts the benchmarks make.
pub const PASSWORD: &str = "correct horse battery staple";

/// A running Soloist with a data dir of its own.
pub struct Bench {
    /// The app.
    pub soloist: Soloist,
    /// Its address, `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its data dir (removed by [`Bench::stop`]).
    pub data_dir: PathBuf,
    /// The settings it runs with.
    pub config: Config,
}

/// Starts Soloist (`Soloist::start`, as `serve` does) on a fresh data dir
/// named after the benchmark, on a random port, with `overrides`.
pub async fn start(name: &str, overrides: Overrides) -> Bench {
    install_crypto();
    let data_dir =
        std::env::temp_dir().join(format!("soloist-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let config = Config::resolve(Overrides {
        data_dir: Some(data_dir.clone()),
        server: ServerArgs {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            ..overrides.server
        },
        ..overrides
    })
    .unwrap();
    let soloist = Soloist::start(
        &config,
        StartOptions {
            runner: PathBuf::from(env!("CARGO_BIN_EXE_soloist")),
            progress: &Quiet,
        },
    )
    .await
    .unwrap();
    let url = format!("http://{}", soloist.addr);
    Bench {
        soloist,
        url,
        data_dir,
        config,
    }
}

impl Bench {
    /// Makes the admin `email`, who signs in with [`PASSWORD`], as
    /// `soloist admin create` does.
    pub async fn create_admin(&self, email: &str, name: &str) {
        let hasher = PasswordHasherPool::new(1).unwrap();
        soloist::accounts::admin::create_admin(
            &self.soloist.pool,
            &hasher,
            email,
            name,
            Some(&Password::new(PASSWORD, &[]).unwrap()),
        )
        .await
        .unwrap();
    }

    /// Stops Soloist and removes its data dir.
    pub async fn stop(self) {
        self.soloist.stop().await.unwrap();
        std::fs::remove_dir_all(&self.data_dir).ok();
    }
}

/// reqwest is built without a default TLS crypto provider (Soloist uses ring).
pub fn install_crypto() {
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
}

/// A client that keeps cookies and does not follow redirects, like a
/// browser tab.
pub fn browser() -> reqwest::Client {
    install_crypto();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// The value of the first `csrf_token` field in a page.
pub fn csrf_in(body: &str) -> String {
    let at = body.find("name=\"csrf_token\"").unwrap();
    body[at..]
        .split("value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned()
}

/// GETs the sign-in form at `url` in `browser` and posts it for `email`
/// with [`PASSWORD`].
pub async fn sign_in(
    browser: &reqwest::Client,
    url: &str,
    email: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    let page = browser.get(format!("{url}/sign-in")).send().await?;
    let token = csrf_in(&page.text().await?);
    browser
        .post(format!("{url}/sign-in"))
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
}

/// This process's resident memory, in MiB.
pub fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// The `q` quantile of sorted values (NaN for none).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}
