//! The reader's flow: blog pages, tag, category, author and search pages,
//! the feed and the sitemap, and read counts (search itself: `search.rs`).

use reqwest::StatusCode;

use super::grant_featuring;
use crate::support::{TestApp, spawn_app};

/// Inserts `count` published posts by a new author, one minute apart,
/// ending `minutes_ago` minutes ago.
async fn published_posts(app: &TestApp, prefix: &str, count: i32, minutes_ago: i32) {
    let client = app.sql().await;
    client
        .execute(
            "INSERT INTO users (email, name) VALUES ($1, 'Bulk Author') ON CONFLICT DO NOTHING",
            &[&"bulk@example.com"],
        )
        .await
        .unwrap();
    client
        .execute(
            "INSERT INTO posts (user_id, title, slug, status, excerpt, content, published_at) \
             SELECT u.id, $1 || ' ' || n, lower($1) || '-' || n, 'published', 'Excerpt ' || n, 'Body', \
                    now() - make_interval(mins => $3 + $2 - n) \
             FROM users u, generate_series(1, $2) n WHERE u.email = 'bulk@example.com'",
            &[&prefix, &count, &minutes_ago],
        )
        .await
        .unwrap();
}

fn titles(page: &str) -> Vec<String> {
    page.split("class=\"post-card-title\"><a href=\"")
        .skip(1)
        .map(|part| {
            part.split('>')
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect()
}

fn next_link(page: &str) -> Option<String> {
    let at = page.find("rel=\"next\"")?;
    let before = &page[..at];
    let href = before.rsplit("href=\"").next()?;
    Some(href.split('"').next()?.replace("&amp;", "&"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blog_pages_are_twenty_newest_first_and_stay_stable_while_new_posts_are_published() {
    let app = spawn_app().await;
    published_posts(&app, "Old", 45, 100).await;
    let reader = app.new_browser();
    let (_, first) = app.get(&reader, "/blog").await;
    let first_titles = titles(&first);
    assert_eq!(first_titles.len(), 20);
    assert_eq!(first_titles[0], "Old 45");
    assert_eq!(first_titles[19], "Old 26");
    let second_url = next_link(&first).unwrap();
    // Five new posts appear between the reader's first and second page.
    published_posts(&app, "New", 5, 0).await;
    let (_, second) = app.get(&reader, &second_url).await;
    let second_titles = titles(&second);
    let expected: Vec<String> = (6..=25).rev().map(|n| format!("Old {n}")).collect();
    assert_eq!(second_titles, expected, "no post repeated or skipped");
    let (_, third) = app.get(&reader, &next_link(&second).unwrap()).await;
    assert_eq!(
        titles(&third),
        ["Old 5", "Old 4", "Old 3", "Old 2", "Old 1"]
    );
    assert!(next_link(&third).is_none());
    assert!(third.contains("First page"));
    let (_, newest) = app.get(&reader, "/blog").await;
    assert_eq!(titles(&newest)[0], "New 5");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_category_author_search_feed_and_sitemap_show_published_posts_only() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let alice = app
        .signed_in_as("alice@example.com", "Alice Writer", false)
        .await;
    app.post_form(
        &admin,
        "/admin/categories",
        "/admin/categories",
        &[
            ("name", "Field Notes"),
            ("color", "#10b981"),
            ("active", "on"),
            ("description", "Notes from the field"),
        ],
    )
    .await;
    let category: String = app
        .sql()
        .await
        .query_one("SELECT id::text FROM categories", &[])
        .await
        .unwrap()
        .get(0);
    // Featuring a post needs a plan with "Featured posts".
    let refused = app
        .post_form(
            &alice,
            "/posts/new",
            "/posts",
            &[("title", "Too early"), ("featured", "on")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("plans that include “Featured posts”")
    );
    grant_featuring(&app, &admin, "alice@example.com").await;
    let published = app
        .write_post(
            &alice,
            &[
                ("title", "Watching herons"),
                (
                    "content",
                    "Herons stand still in the shallow water for hours.",
                ),
                ("tags", "birds"),
                ("category", &category),
                ("featured", "on"),
            ],
        )
        .await;
    app.publish(&alice, &published).await;
    app.write_post(
        &alice,
        &[
            ("title", "Draft about herons"),
            ("content", "Herons again"),
            ("tags", "birds"),
            ("category", &category),
        ],
    )
    .await;
    let author_id: String = app
        .sql()
        .await
        .query_one(
            "SELECT id::text FROM users WHERE email = 'alice@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let reader = app.new_browser();
    for path in [
        "/tags/birds".to_owned(),
        "/categories/field-notes".to_owned(),
        format!("/authors/{author_id}"),
        "/".to_owned(),
    ] {
        let (status, body) = app.get(&reader, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("Watching herons"), "{path}");
        assert!(!body.contains("Draft about herons"), "{path}");
    }
    let (_, category_page) = app.get(&reader, "/categories/field-notes").await;
    assert!(category_page.contains("Notes from the field"));
    let (_, search) = app.get(&reader, "/search?q=heron").await;
    assert!(search.contains("Watching <mark>herons</mark>"), "{search}");
    assert!(!search.contains("Draft about"), "{search}");
    let (_, search) = app.get(&reader, "/search?q=%22shallow+water%22").await;
    assert!(search.contains("/blog/watching-herons"), "{search}");
    let (_, nothing) = app.get(&reader, "/search?q=zebra").await;
    assert!(nothing.contains("No posts match “zebra”."), "{nothing}");
    // Unknown slugs, hidden categories and authors without posts are 404.
    assert_eq!(app.get(&reader, "/blog/no-such-post").await.0, 404);
    assert_eq!(app.get(&reader, "/tags/no-such-tag").await.0, 404);
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
    assert_eq!(
        app.get(&reader, &format!("/authors/{admin_id}")).await.0,
        404
    );

    let response = reader
        .get(format!("{}/feed.xml", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let feed = response.text().await.unwrap();
    assert!(feed.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
    assert!(feed.contains("<title>Watching herons</title>"));
    assert!(feed.contains(&format!(
        "<link rel=\"alternate\" type=\"text/html\" href=\"{}/blog/watching-herons\"/>",
        app.url
    )));
    assert!(
        feed.contains("<content type=\"html\">&#60;p&#62;Herons stand still"),
        "the body is escaped HTML: {feed}"
    );
    assert!(!feed.contains("Draft about herons"));
    let (_, sitemap) = app.get(&reader, "/sitemap.xml").await;
    assert!(sitemap.contains(&format!("<loc>{}/blog/watching-herons</loc>", app.url)));
    assert!(sitemap.contains(&format!("<loc>{}/categories/field-notes</loc>", app.url)));
    assert!(sitemap.contains(&format!("<loc>{}/tags/birds</loc>", app.url)));
    let (_, robots) = app.get(&reader, "/robots.txt").await;
    assert!(robots.contains(&format!("Sitemap: {}/sitemap.xml", app.url)));
    let (_, css) = app.get(&reader, "/categories.css").await;
    assert!(css.contains("--category-color: #10b981;"));

    // Hiding the category hides its page and its label, not the post.
    let response = app
        .post_form(
            &admin,
            &format!("/admin/categories/{category}"),
            &format!("/admin/categories/{category}"),
            &[
                ("name", "Field Notes"),
                ("slug", "field-notes"),
                ("color", "#10b981"),
                ("sort_order", "1"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get(&reader, "/categories/field-notes").await.0, 404);
    let (status, post) = app.get(&reader, "/blog/watching-herons").await;
    assert_eq!(status, 200);
    assert!(!post.contains("Field Notes"));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_reads_are_counted_in_batches() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let id = app.write_post(&alice, &[("title", "Counted")]).await;
    app.publish(&alice, &id).await;
    let updated_before: time::OffsetDateTime = app
        .sql()
        .await
        .query_one("SELECT updated_at FROM posts", &[])
        .await
        .unwrap()
        .get(0);
    let reader = app.new_browser();
    for _ in 0..5 {
        assert_eq!(app.get(&reader, "/blog/counted").await.0, 200);
    }
    app.soloist.flush_views().await.unwrap();
    let row = app
        .sql()
        .await
        .query_one("SELECT view_count, updated_at FROM posts", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 5);
    assert_eq!(
        row.get::<_, time::OffsetDateTime>(1),
        updated_before,
        "a view is not an edit"
    );
    let (_, mine) = app.get(&alice, "/posts").await;
    assert!(mine.contains("<td class=\"num\">5</td>"));
    app.soloist.stop().await.unwrap();
}
