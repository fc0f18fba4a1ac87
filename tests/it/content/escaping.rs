//! Markup in what writers type never reaches a page as markup.

use reqwest::StatusCode;

use crate::support::spawn_app;

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
    let id = app
        .write_post(
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
    app.publish(&admin, &id).await;
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
