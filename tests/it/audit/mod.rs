//! The admin area and the audit trail over HTTP: who gets in, what every
//! change writes, filters, CSV, escaping, append-only, retention.

mod access;
mod browsing;
mod changes;
mod labels;
mod users;

use crate::support::TestApp;

async fn trail_count(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM audit_logs").await
}

/// Inserts trail rows: (actor email or none, action, entity, days ago).
async fn rows(app: &TestApp, rows: &[(Option<&str>, &str, &str, i32)]) {
    let client = app.sql().await;
    for (actor, action, entity, days) in rows {
        client
            .execute(
                "INSERT INTO audit_logs (user_id, action, entity, entity_id, created_at) \
                 VALUES ((SELECT id FROM users WHERE email = $1), $2, $3, gen_random_uuid(), now() - make_interval(days => $4))",
                &[actor, action, entity, days],
            )
            .await
            .unwrap();
    }
}
