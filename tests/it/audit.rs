//! The admin area and the audit trail over HTTP: who gets in, what every
//! change writes, filters, CSV, escaping, append-only, retention.

use reqwest::StatusCode;

use crate::support::{TestApp, sample_paths, spawn_app};

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

async fn trail_count(app: &TestApp) -> i64 {
    app.sql()
        .await
        .query_one("SELECT count(*) FROM audit_logs", &[])
        .await
        .unwrap()
        .get(0)
}

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
    let forged: i64 = app
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM audit_logs WHERE action = 'FORGED'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
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
            &[("active", "false")],
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

fn csv_rows(csv: &str) -> Vec<String> {
    csv.split("\r\n")
        .skip(1)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_combine_pages_are_stable_and_the_csv_is_the_filtered_set() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    app.signed_in_as("=eve@example.com", "Eve", false).await;
    let mut generated = Vec::new();
    for n in 0..130 {
        let actor = if n % 2 == 0 {
            Some("=eve@example.com")
        } else {
            None
        };
        let action = ["CREATE", "UPDATE", "DELETE"][n % 3];
        let entity = if n % 5 == 0 { "posts" } else { "tags" };
        generated.push((actor, action, entity, i32::try_from(n % 20).unwrap()));
    }
    rows(&app, &generated).await;
    let expected =
        |actor: Option<&str>, action: Option<&str>, entity: Option<&str>, within: Option<i32>| {
            generated
                .iter()
                .filter(|(a, act, ent, days)| {
                    actor.is_none_or(|x| *a == Some(x))
                        && action.is_none_or(|x| *act == x)
                        && entity.is_none_or(|x| *ent == x)
                        && within.is_none_or(|w| *days < w)
                })
                .count()
        };
    let from = (time::OffsetDateTime::now_utc() - time::Duration::days(4))
        .date()
        .to_string();
    for (query, count) in [
        (
            "actor=%3Deve%40example.com&action=UPDATE&entity=tags".to_owned(),
            expected(Some("=eve@example.com"), Some("UPDATE"), Some("tags"), None),
        ),
        (
            "action=delete&entity=posts".to_owned(),
            expected(None, Some("DELETE"), Some("posts"), None),
        ),
        (
            format!("entity=tags&from={from}"),
            expected(None, None, Some("tags"), Some(5)),
        ),
    ] {
        let (status, csv) = app.get(&admin, &format!("/admin/audit.csv?{query}")).await;
        assert_eq!(status, 200, "{query}");
        assert!(csv.starts_with("created_at,actor_email,user_id,action,entity,entity_id,changes,ip_address,user_agent,metadata\r\n"));
        assert_eq!(csv_rows(&csv).len(), count, "{query}");
    }
    // Formula-leading cells are defused.
    let (_, csv) = app
        .get(&admin, "/admin/audit.csv?actor=%3Deve%40example.com")
        .await;
    assert!(
        csv_rows(&csv)
            .iter()
            .all(|row| row.contains("\"'=eve@example.com\"")),
        "{csv}"
    );
    // Keyset pages: 50 at a time, then the rest, nothing twice.
    let (_, first) = app.get(&admin, "/admin/audit?entity=tags").await;
    let next = first
        .split("rel=\"next\"")
        .next()
        .unwrap()
        .rsplit("href=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&");
    rows(&app, &[(None, "CREATE", "tags", 0)]).await;
    let (_, second) = app.get(&admin, &next).await;
    let ids = |page: &str| -> Vec<String> {
        page.split("<a href=\"/admin/audit/")
            .skip(1)
            .map(|part| part.split('"').next().unwrap().to_owned())
            .collect()
    };
    let (first_ids, second_ids) = (ids(&first), ids(&second));
    assert_eq!(first_ids.len(), 50);
    assert_eq!(second_ids.len(), 50);
    assert!(
        first_ids.iter().all(|id| !second_ids.contains(id)),
        "{next}\n{first_ids:?}\n{second_ids:?}"
    );
    // Bad filters are a clear 400.
    assert_eq!(app.get(&admin, "/admin/audit?entity_id=nope").await.0, 400);
    assert_eq!(app.get(&admin, "/admin/audit?from=yesterday").await.0, 400);
    assert_eq!(app.get(&admin, "/admin/audit?after=garbage").await.0, 400);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_line_breaks_escapes_and_html_show_as_text_everywhere() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let content = "line one\r\n2026-01-01T00:00:00Z,admin@example.com,LOGIN\u{1b}[31m red <script>alert(1)</script>";
    let created = app
        .post_form(
            &admin,
            "/posts/new",
            "/posts",
            &[("title", "Injection"), ("content", content)],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let id: String = app
        .sql()
        .await
        .query_one(
            "SELECT id::text FROM audit_logs WHERE entity = 'posts'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let (_, detail) = app.get(&admin, &format!("/admin/audit/{id}")).await;
    assert!(!detail.contains("<script>alert(1)"), "{detail}");
    assert!(detail.contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(
        !detail.contains('\u{1b}') || detail.contains("red"),
        "shown as text"
    );
    let (_, csv) = app.get(&admin, "/admin/audit.csv?entity=posts").await;
    let rows = csv_rows(&csv);
    assert_eq!(rows.len(), 1, "the line break did not split the row: {csv}");
    assert!(
        !rows[0].contains('\u{1b}') && !rows[0].contains('\n'),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].contains("\\n2026-01-01") && rows[0].contains("\\u001b[31m"),
        "{}",
        rows[0]
    );
    // A browser's user agent is stored with control characters escaped.
    assert_eq!(
        soloist::audit::printable("evil\r\n\u{1b}[2J", 100),
        "evil\\u{d}\\u{a}\\u{1b}[2J"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_find_users_see_their_activity_and_resend_verification() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let writer = app
        .signed_in_as("writer@example.com", "Wendy Writer", false)
        .await;
    app.post_form(
        &writer,
        "/posts/new",
        "/posts",
        &[("title", "Wendy's first")],
    )
    .await;
    app.sql()
        .await
        .execute(
            "UPDATE users SET email_verified = false WHERE email = 'writer@example.com'",
            &[],
        )
        .await
        .unwrap();
    let (_, list) = app.get(&admin, "/admin/users?q=wendy").await;
    assert!(
        list.contains("writer@example.com") && !list.contains("admin@example.com"),
        "{list}"
    );
    let id: String = app
        .sql()
        .await
        .query_one(
            "SELECT id::text FROM users WHERE email = 'writer@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let (status, page) = app.get(&admin, &format!("/admin/users/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Wendy&#39;s first") || page.contains("Wendy&#x27;s first"),
        "{page}"
    );
    assert!(page.contains("Open sessions") && page.contains("unconfirmed"));
    assert!(
        page.contains("CREATE") && page.contains("posts"),
        "their trail"
    );
    let resent = app
        .post_form(
            &admin,
            &format!("/admin/users/{id}"),
            &format!("/admin/users/{id}/verification"),
            &[],
        )
        .await;
    assert_eq!(
        location(&resent),
        format!("/admin/users/{id}?notice=verification-resent")
    );
    // The mail is sent after the answer (to the outbox here): wait for it.
    let mut mailed = 0_i64;
    for _ in 0..100 {
        mailed = app
            .sql()
            .await
            .query_one(
                "SELECT count(*) FROM mail_outbox WHERE to_address = 'writer@example.com'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if mailed > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(mailed, 1, "one confirmation mail");
    let (_, overview) = app.get(&admin, "/admin").await;
    assert!(overview.contains("posts published") && overview.contains("Sign-ins, last 7 days"));
    app.soloist.stop().await.unwrap();
}
