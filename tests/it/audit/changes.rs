//! Every change writes one correct audit row; a refused one writes none.

use reqwest::StatusCode;

use super::trail_count;
use crate::support::{TestApp, spawn_app};

/// (action, entity) of the rows after the first `before`, oldest first.
async fn written_since(app: &TestApp, before: i64) -> Vec<(String, String)> {
    app.sql()
        .await
        .query(
            "SELECT action, entity FROM audit_logs ORDER BY created_at, id OFFSET $1",
            &[&before],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_writes_one_correct_row_and_a_refused_change_writes_none() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let writer = app
        .signed_in_as("writer@example.com", "Writer", false)
        .await;
    let writer_id: String = app
        .sql()
        .await
        .query_one(
            "SELECT id::text FROM users WHERE email = 'writer@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let admin_id: String = app
        .sql()
        .await
        .query_one(
            "SELECT id::text FROM users WHERE email = 'admin@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);

    let check = |name: &'static str, expected: &'static [(&'static str, &'static str)]| {
        let app = &app;
        async move {
            let rows = written_since(app, 0).await;
            // Rows of one transaction share its time: compare them as a set.
            let mut tail: Vec<(String, String)> = rows[rows.len() - expected.len()..].to_vec();
            tail.sort();
            let mut expected: Vec<(String, String)> = expected
                .iter()
                .map(|(a, e)| ((*a).to_owned(), (*e).to_owned()))
                .collect();
            expected.sort();
            assert_eq!(tail, expected, "{name}");
            rows.len()
        }
    };
    let mut seen = trail_count(&app).await;
    let response = app
        .post_form(
            &writer,
            "/account/profile",
            "/account/profile",
            &[
                ("name", "Writer Two"),
                ("timezone", "UTC"),
                ("language", "en"),
                ("theme", "dark"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let now = check("profile", &[("UPDATE", "user_profiles")]).await;
    assert_eq!(now, usize::try_from(seen).unwrap() + 1);
    seen += 1;
    let response = app
        .post_form(
            &writer,
            "/posts/new",
            "/posts",
            &[("title", "Audited"), ("tags", "one")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let now = check("post", &[("CREATE", "tags"), ("CREATE", "posts")]).await;
    assert_eq!(now, usize::try_from(seen).unwrap() + 2);
    seen += 2;
    let response = app
        .post_form(
            &admin,
            "/admin/categories",
            "/admin/categories",
            &[("name", "Audit"), ("color", "#000000"), ("active", "on")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let now = check("category", &[("CREATE", "categories")]).await;
    assert_eq!(now, usize::try_from(seen).unwrap() + 1);
    seen += 1;
    let response = app
        .post_form(
            &admin,
            &format!("/admin/users/{writer_id}"),
            &format!("/admin/users/{writer_id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let now = check("role", &[("UPDATE", "users")]).await;
    assert_eq!(now, usize::try_from(seen).unwrap() + 1);
    seen += 1;
    let response = app
        .post_form(
            &admin,
            &format!("/admin/users/{writer_id}"),
            &format!("/admin/users/{writer_id}/active"),
            &[("active", "false"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let now = check("deactivate", &[("UPDATE", "users")]).await;
    assert_eq!(now, usize::try_from(seen).unwrap() + 1);
    let deactivation = app
        .sql()
        .await
        .query_one(
            "SELECT changes, metadata, user_id::text, entity_id::text FROM audit_logs WHERE entity = 'users' AND action = 'UPDATE' AND changes ? 'is_active'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        deactivation.get::<_, serde_json::Value>(0),
        serde_json::json!({ "is_active": { "before": true, "after": false } })
    );
    assert_eq!(
        deactivation.get::<_, serde_json::Value>(1)["sessions_ended"],
        1
    );
    assert_eq!(deactivation.get::<_, String>(2), admin_id, "the actor");
    assert_eq!(deactivation.get::<_, String>(3), writer_id, "the entity");
    assert_eq!(
        app.get(&writer, "/account").await.0,
        303,
        "their session ended"
    );

    // Refused changes write nothing.
    let count = trail_count(&app).await;
    let clash = app
        .post_form(
            &admin,
            "/admin/categories",
            "/admin/categories",
            &[("name", "Audit"), ("color", "#000000")],
        )
        .await;
    assert_eq!(clash.status(), StatusCode::CONFLICT);
    let bad = app
        .post_form(&admin, "/posts/new", "/posts", &[("title", "")])
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The last active admin can't be demoted or deactivated.
    let demote = app
        .post_form(
            &admin,
            &format!("/admin/users/{admin_id}"),
            &format!("/admin/users/{admin_id}/role"),
            &[("role", "user")],
        )
        .await;
    assert_eq!(demote.status(), StatusCode::CONFLICT);
    assert!(demote.text().await.unwrap().contains("last active admin"));
    let off = app
        .post_form(
            &admin,
            &format!("/admin/users/{admin_id}"),
            &format!("/admin/users/{admin_id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(off.status(), StatusCode::CONFLICT);
    assert_eq!(trail_count(&app).await, count);
    app.soloist.stop().await.unwrap();
}
