//! Reading the trail: filters, stable pages, the CSV, and escaping.

use reqwest::StatusCode;

use super::rows;
use crate::support::spawn_app;

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
