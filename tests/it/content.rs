//! Content over HTTP: writers' flows, the public blog, feeds, and the
//! attacks on them.

use reqwest::StatusCode;

use crate::support::{TestApp, sample_paths, spawn_app};

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Saves a new post through the editor and returns its id.
async fn write_post(app: &TestApp, browser: &reqwest::Client, fields: &[(&str, &str)]) -> String {
    let response = app.post_form(browser, "/posts/new", "/posts", fields).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    let to = location(&response);
    to.trim_start_matches("/posts/")
        .split('/')
        .next()
        .unwrap()
        .to_owned()
}

async fn set_status(
    app: &TestApp,
    browser: &reqwest::Client,
    id: &str,
    status: &str,
) -> reqwest::Response {
    app.post_form(
        browser,
        &format!("/posts/{id}/edit"),
        &format!("/posts/{id}/status"),
        &[("status", status)],
    )
    .await
}

async fn publish(app: &TestApp, browser: &reqwest::Client, id: &str) {
    let response = set_status(app, browser, id, "published").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

async fn audit_rows(app: &TestApp, entity: &str) -> Vec<(String, serde_json::Value)> {
    app.sql()
        .await
        .query(
            "SELECT action, coalesce(changes, 'null'::jsonb) FROM audit_logs WHERE entity = $1 ORDER BY created_at, id",
            &[&entity],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

async fn usage(app: &TestApp, slug: &str) -> i32 {
    app.sql()
        .await
        .query_one("SELECT usage_count FROM tags WHERE slug = $1", &[&slug])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_preview_save_publish_edit_archive_and_delete_with_one_audit_row_each() {
    let app = spawn_app().await;
    let alice = app
        .signed_in_as("alice@example.com", "Alice Author", false)
        .await;
    let (status, page) = app.get(&alice, "/posts/new").await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"title\""));

    // Preview renders the Markdown and saves nothing.
    let preview = app
        .post_form(
            &alice,
            "/posts/new",
            "/posts",
            &[
                ("title", "First light"),
                ("content", "# Hello\n\nSome **bold** words."),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(preview.status(), StatusCode::OK);
    let body = preview.text().await.unwrap();
    assert!(
        body.contains("<h1>Hello</h1>") && body.contains("<strong>bold</strong>"),
        "{body}"
    );
    let count: i64 = app
        .sql()
        .await
        .query_one("SELECT count(*) FROM posts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);

    let id = write_post(
        &app,
        &alice,
        &[
            ("title", "First light"),
            ("content", "# Hello\n\nSome **bold** words about the dawn."),
            ("tags", "Astronomy, night sky, astronomy"),
            ("action", "save"),
        ],
    )
    .await;
    let row = app
        .sql()
        .await
        .query_one(
            "SELECT slug, status, excerpt, published_at IS NULL FROM posts WHERE id::text = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "first-light");
    assert_eq!(row.get::<_, String>(1), "draft");
    assert_eq!(
        row.get::<_, String>(2),
        "Hello Some bold words about the dawn."
    );
    assert!(row.get::<_, bool>(3));
    assert_eq!(usage(&app, "astronomy").await, 1);
    assert_eq!(usage(&app, "night-sky").await, 1);
    // A draft is not public.
    let reader = app.new_browser();
    assert_eq!(app.get(&reader, "/blog/first-light").await.0, 404);
    let (_, mine) = app.get(&alice, "/posts?status=draft").await;
    assert!(mine.contains("First light"));

    publish(&app, &alice, &id).await;
    let (status, post) = app.get(&reader, "/blog/first-light").await;
    assert_eq!(status, 200);
    assert!(
        post.contains("<title>First light · Soloist</title>"),
        "{post}"
    );
    assert!(
        post.contains(
            "<meta name=\"description\" content=\"Hello Some bold words about the dawn.\">"
        )
    );
    assert!(post.contains("<meta property=\"og:title\" content=\"First light\">"));
    assert!(post.contains(&format!(
        "<meta property=\"og:url\" content=\"{}/blog/first-light\">",
        app.url
    )));
    assert!(post.contains("<strong>bold</strong>"));
    assert!(post.contains("href=\"/tags/night-sky\""));
    assert!(!post.contains("Edit this post"), "readers get no edit link");
    let (_, blog) = app.get(&reader, "/blog").await;
    assert!(blog.contains("First light") && blog.contains("Alice Author"));

    // An edit changes the tags; the counts follow.
    let response = app
        .post_form(
            &alice,
            &format!("/posts/{id}/edit"),
            &format!("/posts/{id}"),
            &[
                ("title", "First light, revised"),
                ("content", "# Hello\n\nSome **bold** words about the dawn."),
                ("slug", "first-light"),
                ("tags", "night sky, telescopes"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(usage(&app, "astronomy").await, 0);
    assert_eq!(usage(&app, "night-sky").await, 1);
    assert_eq!(usage(&app, "telescopes").await, 1);

    // Saving without a change writes no audit row.
    let unchanged = app
        .post_form(
            &alice,
            &format!("/posts/{id}/edit"),
            &format!("/posts/{id}"),
            &[
                ("title", "First light, revised"),
                ("content", "# Hello\n\nSome **bold** words about the dawn."),
                ("slug", "first-light"),
                ("tags", "telescopes, night sky"),
            ],
        )
        .await;
    assert_eq!(unchanged.status(), StatusCode::SEE_OTHER);

    // Archived posts leave the blog; only draft is reachable from archived.
    assert_eq!(
        set_status(&app, &alice, &id, "archived").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get(&reader, "/blog/first-light").await.0, 404);
    assert!(!app.get(&reader, "/blog").await.1.contains("First light"));
    assert_eq!(
        set_status(&app, &alice, &id, "published").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        set_status(&app, &alice, &id, "secret").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        set_status(&app, &alice, &id, "draft").await.status(),
        StatusCode::SEE_OTHER
    );

    // Delete asks first, then removes the post and its tag links.
    let (status, confirm) = app.get(&alice, &format!("/posts/{id}/delete")).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("Delete “First light, revised”?"));
    let deleted = app
        .post_form(
            &alice,
            &format!("/posts/{id}/delete"),
            &format!("/posts/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(location(&deleted), "/posts?notice=post-deleted");
    assert_eq!(usage(&app, "telescopes").await, 0);
    assert_eq!(app.get(&alice, &format!("/posts/{id}/edit")).await.0, 404);

    let actions: Vec<String> = audit_rows(&app, "posts")
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert_eq!(
        actions,
        ["CREATE", "UPDATE", "UPDATE", "UPDATE", "UPDATE", "DELETE"]
    );
    let posts = audit_rows(&app, "posts").await;
    let edit = &posts[2].1;
    assert_eq!(edit["title"]["before"], "First light");
    assert_eq!(edit["title"]["after"], "First light, revised");
    assert_eq!(
        edit["tags"]["before"],
        serde_json::json!(["Astronomy", "night sky"])
    );
    assert_eq!(
        edit["tags"]["after"],
        serde_json::json!(["night sky", "telescopes"])
    );
    assert!(edit.get("content").is_none(), "only changed fields: {edit}");
    assert_eq!(posts[1].1["status"]["after"], "published");
    let tags: Vec<String> = audit_rows(&app, "tags")
        .await
        .into_iter()
        .map(|(action, _)| action)
        .collect();
    assert_eq!(tags, ["CREATE", "CREATE", "CREATE"]);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_editor_input_gets_a_message_next_to_the_field_never_a_500() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let long_title = "t".repeat(201);
    let many_tags = (0..11)
        .map(|n| format!("t{n}"))
        .collect::<Vec<_>>()
        .join(",");
    let long_tag = "x".repeat(41);
    let cases: [(&[(&str, &str)], &str); 7] = [
        (&[("title", "")], "Give the post a title."),
        (
            &[("title", &long_title)],
            "Keep the title under 200 characters.",
        ),
        (
            &[("title", "ok"), ("slug", "!!!")],
            "Use letters, digits and dashes",
        ),
        (
            &[("title", "ok"), ("tags", &many_tags)],
            "Use at most 10 tags.",
        ),
        (
            &[("title", "ok"), ("tags", &long_tag)],
            "Keep each tag under 40 characters.",
        ),
        (
            &[("title", "ok"), ("tags", "?!")],
            "has no letters or digits",
        ),
        (
            &[("title", "ok"), ("category", "not-an-id")],
            "Choose a category from the list.",
        ),
    ];
    for (fields, message) in cases {
        let response = app.post_form(&alice, "/posts/new", "/posts", fields).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{fields:?}"
        );
        let body = response.text().await.unwrap();
        assert!(body.contains(message), "{fields:?}: {body}");
        assert!(body.contains("aria-invalid=\"true\""));
    }
    // A category that does not exist is refused the same way.
    let response = app
        .post_form(
            &alice,
            "/posts/new",
            "/posts",
            &[
                ("title", "ok"),
                ("category", "00000000-0000-0000-0000-000000000000"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Broken cursors and ids are 4xx.
    let reader = app.new_browser();
    assert_eq!(app.get(&reader, "/blog?after=garbage").await.0, 400);
    assert_eq!(app.get(&reader, "/authors/not-a-uuid").await.0, 404);
    assert_eq!(app.get(&alice, "/posts/not-a-uuid/edit").await.0, 404);
    assert_eq!(app.get(&alice, "/posts?status=bogus").await.0, 400);
    assert_eq!(app.get(&reader, "/search?q=x&page=99").await.0, 400);
    let count: i64 = app
        .sql()
        .await
        .query_one("SELECT count(*) FROM posts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
    app.soloist.stop().await.unwrap();
}

/// Every `<` in a page opens a tag the templates wrote (text is escaped):
/// no script-capable element, no event-handler attribute, no script URL.
fn assert_no_injected_markup(path: &str, body: &str) {
    let body = body.strip_prefix("<?xml").unwrap_or(body);
    for tag in body.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap().to_ascii_lowercase();
        let name = tag.split_whitespace().next().unwrap_or_default();
        assert!(
            !["script", "iframe", "object", "embed", "b", "style"].contains(&name),
            "{path}: <{tag}>"
        );
        assert!(
            !(name == "img" && tag.contains("src=\"x\"")),
            "{path}: <{tag}>"
        );
        let (mut outside, mut inside) = (String::new(), false);
        for part in tag.split('"') {
            if inside {
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    assert!(!part.trim_start().starts_with(scheme), "{path}: <{tag}>");
                }
            } else {
                outside.push_str(part);
            }
            inside = !inside;
        }
        assert!(!outside.contains(" on"), "{path}: <{tag}>");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn xss_payloads_in_title_content_tags_and_category_names_never_reach_a_page_as_markup() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let created = app
        .post_form(
            &admin,
            "/admin/categories",
            "/admin/categories",
            &[
                ("name", "<img src=x onerror=alert(1)>"),
                ("slug", "evil"),
                ("color", "#ff0000"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let category: String = app
        .sql()
        .await
        .query_one("SELECT id::text FROM categories", &[])
        .await
        .unwrap()
        .get(0);
    let content = "Hello <script>alert('content')</script>\n\n\
        [click](javascript:alert(1)) <a href=\"javascript:alert(2)\" onclick=\"alert(3)\">x</a>\n\n\
        <img src=x onerror=alert(4)>\n\n![pic](data:text/html;base64,PHNjcmlwdD4=)";
    let id = write_post(
        &app,
        &admin,
        &[
            ("title", "<script>alert('title')</script>"),
            ("content", content),
            ("tags", "<b onmouseover=alert(5)>tag</b>"),
            ("category", &category),
            ("featured", "on"),
        ],
    )
    .await;
    publish(&app, &admin, &id).await;
    let slug: String = app
        .sql()
        .await
        .query_one("SELECT slug FROM posts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(slug, "script-alert-title-script");
    let reader = app.new_browser();
    for path in [
        "/".to_owned(),
        "/blog".to_owned(),
        format!("/blog/{slug}"),
        "/tags/b-onmouseover-alert-5-tag-b".to_owned(),
        "/categories/evil".to_owned(),
        "/search?q=alert".to_owned(),
        "/feed.xml".to_owned(),
    ] {
        let (status, body) = app.get(&reader, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert_no_injected_markup(&path, &body);
    }
    let (_, post) = app.get(&reader, &format!("/blog/{slug}")).await;
    assert!(
        post.contains(
            "<h1 id=\"post-title\">&#60;script&#62;alert(&#39;title&#39;)&#60;/script&#62;</h1>"
        ),
        "{post}"
    );
    assert!(
        post.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "the category name shows as text"
    );
    assert!(post.contains("<p>click"), "an unsafe link keeps its text");
    // The admin pages escape it too.
    let (_, categories) = app.get(&admin, "/admin/categories").await;
    assert!(categories.contains("&#60;img src=x onerror=alert(1)&#62;"));
    assert!(!categories.contains("<img src=x"));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slug_clashes_get_a_message_with_a_suggestion_and_unicode_titles_keep_their_letters() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let first = write_post(&app, &alice, &[("title", "Café déjà vu")]).await;
    // The same title again gets a numbered slug by itself.
    let second = write_post(&app, &alice, &[("title", "Café Déjà Vu!")]).await;
    let third = write_post(&app, &alice, &[("title", "日本語のブログ")]).await;
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
    publish(&app, &alice, &third).await;
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
    let id = write_post(
        &app,
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
        ids.push(write_post(&app, &alice, &[("title", &format!("Post {n}"))]).await);
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

/// Creates a plan with "Featured posts" and gives it to `email` by hand,
/// as an admin does for a customer who pays another way.
pub async fn grant_featuring(app: &TestApp, admin: &reqwest::Client, email: &str) {
    let created = app
        .post_form(
            admin,
            "/admin/plans",
            "/admin/plans",
            &[
                ("name", "Writer"),
                ("price", "9"),
                ("currency", "USD"),
                ("interval", "month"),
                ("features", "Featured posts\nUnlimited posts"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let plan: String = app
        .sql()
        .await
        .query_one(
            "SELECT id::text FROM subscription_plans WHERE name = 'Writer'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let granted = app
        .post_form(
            admin,
            "/admin/subscriptions",
            "/admin/subscriptions/grant",
            &[("email", email), ("plan_id", &plan)],
        )
        .await;
    assert_eq!(
        location(&granted),
        "/admin/subscriptions?notice=plan-granted"
    );
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
    let published = write_post(
        &app,
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
    publish(&app, &alice, &published).await;
    write_post(
        &app,
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
        "/search?q=heron".to_owned(),
        "/".to_owned(),
    ] {
        let (status, body) = app.get(&reader, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains("Watching herons"), "{path}");
        assert!(!body.contains("Draft about herons"), "{path}");
    }
    let (_, category_page) = app.get(&reader, "/categories/field-notes").await;
    assert!(category_page.contains("Notes from the field"));
    let (_, search) = app.get(&reader, "/search?q=%22shallow+water%22").await;
    assert!(search.contains("Watching herons"));
    let (_, nothing) = app.get(&reader, "/search?q=zebra").await;
    assert!(nothing.contains("No published post matches “zebra”."));
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
async fn admins_manage_categories_with_audit_rows_and_others_are_refused() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    assert_eq!(app.get(&alice, "/admin/categories").await.0, 403);
    let refused = app
        .post_form(
            &alice,
            "/posts",
            "/admin/categories",
            &[("name", "Mine"), ("color", "#000000")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let anonymous = app.new_browser();
    let response = anonymous
        .get(format!("{}/admin/categories", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let created = app
        .post_form(
            &admin,
            "/admin/categories",
            "/admin/categories",
            &[
                ("name", "Guides"),
                ("color", "#112233"),
                ("sort_order", "2"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(
        location(&created),
        "/admin/categories?notice=category-created"
    );
    let duplicate = app
        .post_form(
            &admin,
            "/admin/categories",
            "/admin/categories",
            &[
                ("name", "Guides"),
                ("slug", "other"),
                ("color", "#112233"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    assert!(
        duplicate
            .text()
            .await
            .unwrap()
            .contains("Another category has this name.")
    );
    let bad = app
        .post_form(
            &admin,
            "/admin/categories",
            "/admin/categories",
            &[
                ("name", "Colours"),
                ("color", "red;}body{display:none"),
                ("sort_order", "many"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = bad.text().await.unwrap();
    assert!(body.contains("Use a colour like #6366f1.") && body.contains("Use a whole number"));

    let id: String = app
        .sql()
        .await
        .query_one("SELECT id::text FROM categories", &[])
        .await
        .unwrap()
        .get(0);
    let post = write_post(&app, &alice, &[("title", "In a guide"), ("category", &id)]).await;
    let (status, edit) = app.get(&admin, &format!("/admin/categories/{id}")).await;
    assert_eq!(status, 200);
    assert!(edit.contains("value=\"Guides\""));
    let saved = app
        .post_form(
            &admin,
            &format!("/admin/categories/{id}"),
            &format!("/admin/categories/{id}"),
            &[
                ("name", "How-to guides"),
                ("slug", "guides"),
                ("color", "#112233"),
                ("sort_order", "2"),
                ("active", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let deleted = app
        .post_form(
            &admin,
            &format!("/admin/categories/{id}"),
            &format!("/admin/categories/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(
        location(&deleted),
        "/admin/categories?notice=category-deleted"
    );
    let category: Option<uuid::Uuid> = app
        .sql()
        .await
        .query_one(
            "SELECT category_id FROM posts WHERE id::text = $1",
            &[&post],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(category, None, "the post stays, without its category");
    let rows = audit_rows(&app, "categories").await;
    let actions: Vec<&str> = rows.iter().map(|(action, _)| action.as_str()).collect();
    assert_eq!(actions, ["CREATE", "UPDATE", "DELETE"]);
    assert_eq!(
        rows[1].1,
        serde_json::json!({ "name": { "before": "Guides", "after": "How-to guides" } })
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_reads_are_counted_in_batches() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let id = write_post(&app, &alice, &[("title", "Counted")]).await;
    publish(&app, &alice, &id).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_content_post_route_refuses_a_missing_token() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", true).await;
    for route in &sample_paths(
        soloist::content::pages::ROUTES,
        "post",
        &[
            soloist::web::routes::Access::Member,
            soloist::web::routes::Access::Admin,
        ],
    ) {
        let response = alice
            .post(format!("{}{route}", app.url))
            .form(&[("title", "x"), ("name", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{route}");
    }
    let count: i64 = app
        .sql()
        .await
        .query_one("SELECT count(*) FROM posts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 0);
    app.soloist.stop().await.unwrap();
}

/// The values of `attribute="..."` in `page`.
fn attribute_values<'a>(page: &'a str, attribute: &str) -> Vec<&'a str> {
    let marker = format!(" {attribute}=\"");
    page.match_indices(&marker)
        .filter_map(|(at, _)| {
            let rest = &page[at + marker.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_label_of_the_post_editor_names_a_field_of_its_own() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let id = write_post(&app, &alice, &[("title", "Labelled"), ("content", "Body")]).await;
    for path in ["/posts/new".to_owned(), format!("/posts/{id}/edit")] {
        let (status, page) = app.get(&alice, &path).await;
        assert_eq!(status, 200, "{path}");
        let ids = attribute_values(&page, "id");
        for id in &ids {
            assert_eq!(
                ids.iter().filter(|other| *other == id).count(),
                1,
                "id {id:?} is used twice on {path}"
            );
        }
        for target in attribute_values(&page, "for") {
            let field = format!("id=\"{target}\"");
            let at = page
                .find(&field)
                .unwrap_or_else(|| panic!("the label for {target:?} names nothing on {path}"));
            let tag = &page[page[..at].rfind('<').unwrap()..at];
            assert!(
                ["<input", "<textarea", "<select"]
                    .iter()
                    .any(|name| tag.starts_with(name)),
                "the label for {target:?} names {tag:?} on {path}, not a field"
            );
        }
    }
    app.soloist.stop().await.unwrap();
}
