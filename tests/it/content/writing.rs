//! The writer's flow: preview, save, publish, edit, archive, delete, and the
//! editor's messages and labels.

use reqwest::StatusCode;

use super::{audit_rows, usage};
use crate::support::{location, spawn_app};

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
    let count = app.count("SELECT count(*) FROM posts").await;
    assert_eq!(count, 0);

    let id = app
        .write_post(
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
        "Some bold words about the dawn.",
        "the derived excerpt is the prose, without the heading"
    );
    assert!(row.get::<_, bool>(3));
    assert_eq!(usage(&app, "astronomy").await, 1);
    assert_eq!(usage(&app, "night-sky").await, 1);
    // A draft is not public.
    let reader = app.new_browser();
    assert_eq!(app.get(&reader, "/blog/first-light").await.0, 404);
    let (_, mine) = app.get(&alice, "/posts?status=draft").await;
    assert!(mine.contains("First light"));

    app.publish(&alice, &id).await;
    let (status, post) = app.get(&reader, "/blog/first-light").await;
    assert_eq!(status, 200);
    assert!(
        post.contains("<title>First light · Soloist</title>"),
        "{post}"
    );
    assert!(
        post.contains("<meta name=\"description\" content=\"Some bold words about the dawn.\">")
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
        app.set_status(&alice, &id, "archived").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get(&reader, "/blog/first-light").await.0, 404);
    assert!(!app.get(&reader, "/blog").await.1.contains("First light"));
    assert_eq!(
        app.set_status(&alice, &id, "published").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.set_status(&alice, &id, "secret").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.set_status(&alice, &id, "draft").await.status(),
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
    let count = app.count("SELECT count(*) FROM posts").await;
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
    let id = app
        .write_post(&alice, &[("title", "Labelled"), ("content", "Body")])
        .await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_excerpts_are_prose_only_and_old_derived_ones_still_count_as_derived() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let content = "# Installing\n\n- Download it\n- Run it\n\n```sh\ncargo build --release\n```\n\n\
                   | os | works |\n|---|---|\n| linux | yes |\n\n> Quoted wisdom\n\n\
                   Soloist is **one binary** with its own database, so there is nothing else \
                   to install, configure or keep running next to it. Backups, mail and billing \
                   come with it, and every page is served by the same process that you started.\n";
    let id = app
        .write_post(
            &alice,
            &[("title", "Getting started"), ("content", content)],
        )
        .await;
    app.publish(&alice, &id).await;
    let (_, blog) = app.get(&app.new_browser(), "/blog").await;
    let excerpt = blog
        .split("<p class=\"post-excerpt\">")
        .nth(1)
        .unwrap()
        .split("</p>")
        .next()
        .unwrap();
    assert!(
        excerpt.starts_with("Soloist is one binary with its own database"),
        "{excerpt}"
    );
    for skipped in ["Installing", "Download", "cargo", "linux", "Quoted"] {
        assert!(!excerpt.contains(skipped), "{skipped} in {excerpt}");
    }
    assert!(excerpt.chars().count() <= 200, "{excerpt}");
    assert!(
        excerpt.ends_with('…') && !excerpt.ends_with(" …"),
        "{excerpt}"
    );
    // An excerpt derived the old way (all text run together) shows as
    // derived in the editor, so saving the post derives it anew.
    let old = soloist::content::markdown::excerpt_of_every_text(content);
    assert!(old.starts_with("Installing Download it"), "{old}");
    app.sql()
        .await
        .execute(
            "UPDATE posts SET excerpt = $2 WHERE id::text = $1",
            &[&id, &old],
        )
        .await
        .unwrap();
    let (_, editor) = app.get(&alice, &format!("/posts/{id}/edit")).await;
    assert!(!editor.contains("Installing Download"), "{editor}");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excerpts_derived_the_old_way_are_derived_anew_once_and_the_posts_do_not_look_edited() {
    let app = spawn_app().await;
    app.create_account("alice@example.com", "Alice", false)
        .await;
    let content = "# Notes\n\n- one\n- two\n\nThe prose of the post.\n";
    let old = soloist::content::markdown::excerpt_of_every_text(content);
    let mut sql = app.sql().await;
    sql.batch_execute(&format!(
        "INSERT INTO posts (user_id, title, slug, content, excerpt, status, published_at) \
         SELECT id, 'Derived', 'derived', $c${content}$c$, $e${old}$e$, 'published', now() - interval '9 days' \
           FROM users WHERE email = 'alice@example.com'; \
         INSERT INTO posts (user_id, title, slug, content, excerpt, status, published_at) \
         SELECT id, 'Written', 'written', $c${content}$c$, 'Written by hand.', 'published', now() - interval '9 days' \
           FROM users WHERE email = 'alice@example.com'; \
         UPDATE posts SET updated_at = now() - interval '9 days' WHERE slug IN ('derived', 'written');"
    ))
    .await
    .unwrap();
    let transaction = sql.transaction().await.unwrap();
    let changed = soloist::content::excerpts::derive_old_excerpts_anew(&transaction)
        .await
        .unwrap();
    transaction.commit().await.unwrap();
    assert_eq!(changed, 1);
    let rows = sql
        .query(
            "SELECT slug, excerpt, updated_at < now() - interval '8 days' FROM posts ORDER BY slug",
            &[],
        )
        .await
        .unwrap();
    let rows: Vec<(String, String, bool)> = rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect();
    assert_eq!(
        rows,
        [
            ("derived".into(), "The prose of the post.".into(), true),
            ("written".into(), "Written by hand.".into(), true),
        ]
    );
    let transaction = sql.transaction().await.unwrap();
    let again = soloist::content::excerpts::derive_old_excerpts_anew(&transaction)
        .await
        .unwrap();
    assert_eq!(again, 0, "nothing left to derive");
    app.soloist.stop().await.unwrap();
}
