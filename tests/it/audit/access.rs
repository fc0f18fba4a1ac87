//! Who reaches the admin area, a trail the app cannot alter, and retention.

use reqwest::StatusCode;

use super::trail_count;
use crate::support::{location, sample_paths, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_reach_any_admin_route() {
    let app = spawn_app().await;
    let user = app.signed_in_as("user@example.com", "User", false).await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let anonymous = app.new_browser();
    for route in &sample_paths(
        &soloist::web::routes::all(),
        "get",
        &[soloist::web::routes::Access::Admin],
    ) {
        let response = anonymous
            .get(format!("{}{route}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "anonymous GET {route}"
        );
        assert_eq!(location(&response), "/sign-in");
        assert_eq!(app.get(&user, route).await.0, 403, "user GET {route}");
        let status = app.get(&admin, route).await.0;
        assert!(
            status == 200 || status == 404,
            "admin GET {route}: {status}"
        );
    }
    let token = app.csrf(&user, "/account").await;
    for route in &sample_paths(
        &soloist::web::routes::all(),
        "post",
        &[soloist::web::routes::Access::Admin],
    ) {
        let response = anonymous
            .post(format!("{}{route}", app.url))
            .form(&[("x", "y")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "anonymous POST {route}"
        );
        let response = user
            .post(format!("{}{route}", app.url))
            .form(&[
                ("csrf_token", token.as_str()),
                ("role", "admin"),
                ("active", "false"),
                ("name", "x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "user POST {route}"
        );
    }
    let role: String = app
        .sql()
        .await
        .query_one(
            "SELECT role FROM users WHERE email = 'user@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(role, "user");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_role_soloist_connects_as_cannot_alter_the_trail() {
    let app = spawn_app().await;
    app.signed_in_as("admin@example.com", "Admin", true).await;
    let before = trail_count(&app).await;
    assert!(before >= 2, "CREATE users and LOGIN");
    let client = app.soloist.pool.get().await.unwrap();
    for statement in [
        "UPDATE audit_logs SET action = 'FORGED'",
        "DELETE FROM audit_logs",
        "TRUNCATE audit_logs",
        "TRUNCATE audit_logs_default",
    ] {
        let error = client.batch_execute(statement).await.unwrap_err();
        assert!(
            error.to_string().contains("append-only")
                || format!("{error:?}").contains("append-only"),
            "{statement}: {error:?}"
        );
    }
    let partition: String = client
        .query_one(
            "SELECT tableoid::regclass::text FROM audit_logs LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    for statement in [
        format!("DELETE FROM {partition}"),
        format!("UPDATE {partition} SET changes = NULL"),
        format!("TRUNCATE {partition}"),
    ] {
        assert!(
            client.batch_execute(&statement).await.is_err(),
            "{statement}"
        );
    }
    drop(client);
    assert_eq!(trail_count(&app).await, before);
    let forged = app
        .count("SELECT count(*) FROM audit_logs WHERE action = 'FORGED'")
        .await;
    assert_eq!(forged, 0);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_drops_whole_old_months_and_keeps_the_rest() {
    let app = spawn_app().await;
    let client = app.soloist.pool.get().await.unwrap();
    client
        .batch_execute(
            "CREATE TABLE audit_logs_y2000m01 PARTITION OF audit_logs FOR VALUES FROM ('2000-01-01 00:00+00') TO ('2000-02-01 00:00+00'); \
             INSERT INTO audit_logs (action, entity, created_at) VALUES ('CREATE', 'users', '2000-01-15 12:00+00'); \
             INSERT INTO audit_logs (action, entity) VALUES ('CREATE', 'users')",
        )
        .await
        .unwrap();
    let dropped = soloist::audit::store::drop_old_partitions(&client, 24)
        .await
        .unwrap();
    assert_eq!(dropped, 1);
    let rows: Vec<String> = client
        .query("SELECT to_char(created_at, 'YYYY') FROM audit_logs", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0], "2000");
    assert!(
        soloist::audit::store::drop_old_partitions(&client, 0)
            .await
            .is_err(),
        "keep at least a month"
    );
    app.soloist.stop().await.unwrap();
}
