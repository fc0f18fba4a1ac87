//! Blog search: prefixes of words of titles, tags, categories and bodies,
//! titles first, highlighted snippets that stay escaped, suggestions when
//! nothing matches, and the edges of the search box.

use reqwest::StatusCode;

use crate::support::{TestApp, spawn_app};

/// Writes and publishes a post with `fields` as `browser`; returns its id.
async fn published(app: &TestApp, browser: &reqwest::Client, fields: &[(&str, &str)]) -> String {
    let id = app.write_post(browser, fields).await;
    app.publish(browser, &id).await;
    id
}

/// The slugs of the results, in order.
fn result_slugs(page: &str) -> Vec<String> {
    page.split("class=\"post-card-title\"><a href=\"/blog/")
        .skip(1)
        .map(|part| part.split('"').next().unwrap().to_owned())
        .collect()
}

/// A category made the way an admin makes one; its id.
async fn category(app: &TestApp, name: &str, slug: &str) -> String {
    app.sql()
        .await
        .query_one(
            "INSERT INTO categories (name, slug) VALUES ($1, $2) RETURNING id::text",
            &[&name, &slug],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blog_about_postgresql_tagged_rust_is_found_by_prefixes_of_its_words_tags_and_category() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let operations = category(&app, "Operations", "operations").await;
    published(
        &app,
        &alice,
        &[
            ("title", "Tuning PostgreSQL on a small server"),
            (
                "content",
                "Shared buffers, work memory and autovacuum settings.",
            ),
            ("tags", "rust, databases"),
            ("category", &operations),
        ],
    )
    .await;
    app.write_post(
        &alice,
        &[("title", "Draft on PostgreSQL"), ("tags", "rust")],
    )
    .await;
    let reader = app.new_browser();
    for query in [
        "postgres",
        "PostgreSQL",
        "rust",
        "rus",
        "databases",
        "database",
        "operat",
        "autovac",
        "postgres+rust",
    ] {
        let (status, page) = app.get(&reader, &format!("/search?q={query}")).await;
        assert_eq!(status, 200, "{query}");
        assert_eq!(
            result_slugs(&page),
            ["tuning-postgresql-on-a-small-server"],
            "{query}: {page}"
        );
    }
    let (_, none) = app.get(&reader, "/search?q=postgres+python").await;
    assert!(result_slugs(&none).is_empty(), "every word must match");
    // Renaming a tag or a category, or dropping a tag, is searched at once.
    let sql = app.sql().await;
    sql.execute(
        "UPDATE tags SET name = 'Rustlang', slug = 'rustlang' WHERE slug = 'rust'",
        &[],
    )
    .await
    .unwrap();
    sql.execute(
        "UPDATE categories SET name = 'Ops' WHERE slug = 'operations'",
        &[],
    )
    .await
    .unwrap();
    for query in ["rustlang", "ops"] {
        let (_, page) = app.get(&reader, &format!("/search?q={query}")).await;
        assert_eq!(result_slugs(&page).len(), 1, "{query}: {page}");
    }
    sql.execute(
        "DELETE FROM post_tags WHERE tag_id = (SELECT id FROM tags WHERE slug = 'databases')",
        &[],
    )
    .await
    .unwrap();
    let (_, page) = app.get(&reader, "/search?q=databases").await;
    assert!(result_slugs(&page).is_empty(), "{page}");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_match_ranks_above_body_matches_and_equal_matches_are_newest_first() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    published(
        &app,
        &alice,
        &[("title", "Heron notes"), ("content", "A quiet morning.")],
    )
    .await;
    published(
        &app,
        &alice,
        &[
            ("title", "A walk by the river"),
            (
                "content",
                &"Herons, herons everywhere; a heron on every post. ".repeat(20),
            ),
        ],
    )
    .await;
    published(
        &app,
        &alice,
        &[("title", "Heron diary"), ("content", "A quiet morning.")],
    )
    .await;
    let (_, page) = app.get(&app.new_browser(), "/search?q=heron").await;
    assert_eq!(
        result_slugs(&page),
        ["heron-diary", "heron-notes", "a-walk-by-the-river"],
        "{page}"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snippets_mark_the_matches_and_keep_the_posts_text_escaped() {
    let app = spawn_app().await;
    let mallory = app
        .signed_in_as("mallory@example.com", "Mallory", false)
        .await;
    published(
        &app,
        &mallory,
        &[
            ("title", "Fast <b>postgres</b> tips"),
            (
                "content",
                "# Setup\n\nFirst <script>alert('x')</script> then tune **PostgreSQL** \
                 <img src=x onerror=alert(1)> with care.\n\n\u{E000}postgres\u{E001}",
            ),
            ("excerpt", "Hand-written summary."),
        ],
    )
    .await;
    let (_, page) = app.get(&app.new_browser(), "/search?q=postgres").await;
    assert!(
        page.contains("Fast &lt;b&gt;<mark>postgres</mark>&lt;/b&gt; tips"),
        "{page}"
    );
    assert!(page.contains("<mark>PostgreSQL</mark>"), "{page}");
    assert!(page.contains("alert(&#39;x&#39;)"), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("<b>"), "{page}");
    // The snippet stands in for the excerpt; a match elsewhere keeps it.
    assert!(!page.contains("Hand-written summary."), "{page}");
    let (_, by_title) = app.get(&app.new_browser(), "/search?q=tips").await;
    assert!(by_title.contains("Hand-written summary."), "{by_title}");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_search_suggests_a_word_that_finds_posts_and_offers_tags_and_categories() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let operations = category(&app, "Operations", "operations").await;
    published(
        &app,
        &alice,
        &[
            ("title", "Backups for PostgreSQL"),
            ("content", "Nightly dumps."),
            ("tags", "postgres"),
            ("category", &operations),
        ],
    )
    .await;
    let reader = app.new_browser();
    let (status, page) = app.get(&reader, "/search?q=postgress").await;
    assert_eq!(status, 200);
    assert!(
        page.contains(
            "No posts match “postgress”. Did you mean <a class=\"search-suggestion\" \
             href=\"/search?q=postgres\">“postgres”</a>?"
        ),
        "{page}"
    );
    assert!(page.contains("href=\"/tags/postgres\""), "{page}");
    assert!(page.contains("href=\"/categories/operations\""), "{page}");
    assert!(page.contains("Browse all posts"), "{page}");
    // Only the misspelt word is replaced.
    let (_, page) = app.get(&reader, "/search?q=nightly+bakups").await;
    assert!(
        page.contains("href=\"/search?q=nightly+backups\""),
        "{page}"
    );
    let (_, followed) = app.get(&reader, "/search?q=postgres").await;
    assert_eq!(result_slugs(&followed), ["backups-for-postgresql"]);
    // Nothing like it anywhere: no suggestion, still the ways to browse.
    let (_, page) = app.get(&reader, "/search?q=xylophone").await;
    assert!(!page.contains("Did you mean"), "{page}");
    assert!(page.contains("href=\"/tags/postgres\""), "{page}");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blank_punctuation_and_overlong_searches_show_the_newest_posts_or_say_what_is_wrong() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    published(&app, &alice, &[("title", "First post")]).await;
    let reader = app.new_browser();
    for path in ["/search", "/search?q=", "/search?q=+%09+"] {
        let (status, page) = app.get(&reader, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(result_slugs(&page), ["first-post"], "{path}");
        assert!(page.contains("The newest posts."), "{path}");
    }
    let (status, page) = app.get(&reader, "/search?q=%21%26%7C%3A*%28%29%27").await;
    assert_eq!(status, 200);
    assert!(page.contains("No posts match “!"), "{page}");
    let long = "a".repeat(10 * 1024);
    let (status, page) = app.get(&reader, &format!("/search?q={long}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST.as_u16());
    assert!(
        page.contains("A search can be up to 200 characters long."),
        "{page}"
    );
    let (status, _) = app
        .get(&reader, &format!("/search?q={}", "w+".repeat(40)))
        .await;
    assert_eq!(status, 200, "many words are cut, not refused");
    app.soloist.stop().await.unwrap();
}
