//! Slugs, other users' drafts, and tag counts under concurrent edits.

use reqwest::StatusCode;

use super::usage;
use crate::support::{location, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slug_clashes_get_a_message_with_a_suggestion_and_unicode_titles_keep_their_letters() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let first = app.write_post(&alice, &[("title", "Café déjà vu")]).await;
    // The same title again gets a numbered slug by itself.
    let second = app.write_post(&alice, &[("title", "Café Déjà Vu!")]).await;
    let third = app.write_post(&alice, &[("title", "日本語のブログ")]).await;
    let slugs: Vec<String> = {
        let client = app.sql().await;
        let mut slugs = Vec::new();
        for id in [&first, &second, &third] {
            slugs.push(
                client
                    .query_one("SELECT slug FROM posts WHERE id::text = $1", &[id])
                    .await
                    .unwrap()
                    .get(0),
            );
        }
        slugs
    };
    assert_eq!(slugs, ["café-déjà-vu", "café-déjà-vu-2", "日本語のブログ"]);
    // A typed slug that is taken gets a clear message and a free suggestion.
    let clash = app
        .post_form(
            &alice,
            "/posts/new",
            "/posts",
            &[("title", "Another"), ("slug", "Café Déjà Vu")],
        )
        .await;
    assert_eq!(clash.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = clash.text().await.unwrap();
    assert!(
        body.contains("The address “café-déjà-vu” is not available. Try “café-déjà-vu-3”."),
        "{body}"
    );
    assert!(
        body.contains("value=\"Another\""),
        "the form keeps the input"
    );
    // Editing a post keeps its own slug without a clash; taking another's is refused.
    let keep = app
        .post_form(
            &alice,
            &format!("/posts/{second}/edit"),
            &format!("/posts/{second}"),
            &[("title", "Renamed"), ("slug", "café-déjà-vu-2")],
        )
        .await;
    assert_eq!(keep.status(), StatusCode::SEE_OTHER);
    let steal = app
        .post_form(
            &alice,
            &format!("/posts/{second}/edit"),
            &format!("/posts/{second}"),
            &[("title", "Renamed"), ("slug", "café-déjà-vu")],
        )
        .await;
    assert_eq!(steal.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The unicode slug is a working address once published.
    app.publish(&alice, &third).await;
    let reader = app.new_browser();
    let (status, body) = app
        .get(
            &reader,
            "/blog/%E6%97%A5%E6%9C%AC%E8%AA%9E%E3%81%AE%E3%83%96%E3%83%AD%E3%82%B0",
        )
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("日本語のブログ"));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_draft_is_not_found_by_id_or_slug_but_its_author_and_admins_reach_it() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let mallory = app
        .signed_in_as("mallory@example.com", "Mallory", false)
        .await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let id = app
        .write_post(
            &alice,
            &[("title", "Secret plans"), ("content", "Top secret")],
        )
        .await;
    for path in [
        format!("/posts/{id}/edit"),
        format!("/posts/{id}/delete"),
        "/blog/secret-plans".to_owned(),
    ] {
        let (status, body) = app.get(&mallory, &path).await;
        assert_eq!(status, 404, "{path}");
        assert!(!body.contains("Top secret"));
    }
    for (path, fields) in [
        (format!("/posts/{id}"), vec![("title", "Pwned")]),
        (format!("/posts/{id}/status"), vec![("status", "published")]),
        (format!("/posts/{id}/delete"), vec![]),
    ] {
        let response = app.post_form(&mallory, "/posts", &path, &fields).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let (_, mallorys) = app.get(&mallory, "/posts").await;
    assert!(!mallorys.contains("Secret plans"));
    let (_, search) = app.get(&mallory, "/search?q=secret").await;
    assert!(!search.contains("Secret plans"));
    let (_, feed) = app.get(&mallory, "/feed.xml").await;
    assert!(!feed.contains("Secret plans"));
    let (_, sitemap) = app.get(&mallory, "/sitemap.xml").await;
    assert!(!sitemap.contains("secret-plans"));
    let row = app
        .sql()
        .await
        .query_one("SELECT title, status FROM posts", &[])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("Secret plans".to_owned(), "draft".to_owned())
    );
    // The author and an admin can.
    assert_eq!(app.get(&alice, &format!("/posts/{id}/edit")).await.0, 200);
    assert_eq!(app.get(&admin, &format!("/posts/{id}/edit")).await.0, 200);
    // Anonymous visitors are sent to sign in.
    let anonymous = app.new_browser();
    let response = anonymous
        .get(format!("{}/posts/{id}/edit", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/sign-in");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_usage_counts_stay_exact_under_concurrent_edits() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(
            app.write_post(&alice, &[("title", &format!("Post {n}"))])
                .await,
        );
    }
    // Every post gets "shared" plus one of two others, all at once, twice.
    let mut edits = tokio::task::JoinSet::new();
    for round in 0..2 {
        for (n, id) in ids.iter().enumerate() {
            let token = app.csrf(&alice, "/posts").await;
            let (browser, url, id) = (alice.clone(), app.url.clone(), id.clone());
            let tags = if (n + round) % 2 == 0 {
                "shared, even"
            } else {
                "shared, odd"
            };
            edits.spawn(async move {
                browser
                    .post(format!("{url}/posts/{id}"))
                    .form(&[
                        ("title", format!("Post {n}").as_str()),
                        ("tags", tags),
                        ("csrf_token", &token),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .status()
            });
        }
    }
    while let Some(status) = edits.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::SEE_OTHER);
    }
    let client = app.sql().await;
    let rows = client
        .query(
            "SELECT t.slug, t.usage_count, (SELECT count(*) FROM post_tags pt WHERE pt.tag_id = t.id)::int FROM tags t ORDER BY t.slug",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(
            row.get::<_, i32>(1),
            row.get::<_, i32>(2),
            "{}",
            row.get::<_, String>(0)
        );
    }
    assert_eq!(usage(&app, "shared").await, 8);
    assert_eq!(usage(&app, "even").await + usage(&app, "odd").await, 8);
    let created: i64 = client
        .query_one(
            "SELECT count(*) FROM audit_logs WHERE entity = 'tags' AND action = 'CREATE'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        created, 3,
        "each tag created once, even when created concurrently"
    );
    app.soloist.stop().await.unwrap();
}
