//! Admins' categories, and the CSRF check on every content form.

use reqwest::StatusCode;

use super::audit_rows;
use crate::support::{location, sample_paths, spawn_app};

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
    let post = app
        .write_post(&alice, &[("title", "In a guide"), ("category", &id)])
        .await;
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
            &[("confirm", "yes")],
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
    let count = app.count("SELECT count(*) FROM posts").await;
    assert_eq!(count, 0);
    app.soloist.stop().await.unwrap();
}
