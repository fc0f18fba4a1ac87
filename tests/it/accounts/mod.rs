//! Accounts over HTTP: every flow, and the attacks on them. Mail goes over
//! real SMTP to a server the tests start.

mod email_links;
mod languages;
mod profile;
mod security;
mod setup;
mod sign_in;
mod sign_up;

use crate::support::TestApp;

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
