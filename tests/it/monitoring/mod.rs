//! Monitoring: readiness, Prometheus metrics and who may read them, request
//! ids in responses, logs and audit rows, the admin "Database" page, client
//! addresses behind trusted proxies, and an exhausted pool.

mod database;
mod metrics;
mod proxies;
mod request_ids;

use crate::support::{PASSWORD, TestApp};

/// Signs `email` in from a browser that sends `forwarded_for` as its
/// X-Forwarded-For (as a proxy would, or a client forging one).
async fn sign_in_forwarded(
    app: &TestApp,
    email: &str,
    forwarded_for: &str,
) -> (reqwest::Client, reqwest::Response) {
    let browser = app.new_browser();
    let token = app.csrf(&browser, "/sign-in").await;
    let response = browser
        .post(format!("{}/sign-in", app.url))
        .header("X-Forwarded-For", forwarded_for)
        .form(&[
            ("email", email),
            ("password", PASSWORD),
            ("csrf_token", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "signing in {email}");
    (browser, response)
}
