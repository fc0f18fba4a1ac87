//! Long forms: the server's messages, not the browser's, so every form
//! says `novalidate`; a summary at the top links to each problem's field.

use super::{between, form_tags};
use crate::support::spawn_app;

/// The error summary of a page as (link target, message) pairs.
fn summary(page: &str) -> Vec<(String, String)> {
    let summary = between(
        page,
        "<div class=\"error-summary\" role=\"alert\"",
        "</div>",
    );
    summary
        .split("<li><a href=\"#")
        .skip(1)
        .map(|item| {
            let (field, rest) = item.split_once("\">").unwrap();
            let message = rest.split("</a>").next().unwrap();
            (field.to_owned(), message.to_owned())
        })
        .collect()
}

/// Asserts that each linked field exists on the page and is marked invalid.
fn assert_fields_marked(page: &str, problems: &[(String, String)]) {
    for (field, _) in problems {
        let tag = between(page, &format!("id=\"{field}\""), ">");
        assert!(tag.contains("aria-invalid=\"true\""), "{field}: {tag}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_leaves_checking_to_the_server() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let user: uuid::Uuid = app
        .sql()
        .await
        .query_one("SELECT id FROM users", &[])
        .await
        .unwrap()
        .get(0);
    let anonymous = app.new_browser();
    for (browser, path) in [
        (&anonymous, "/sign-up".to_owned()),
        (&anonymous, "/sign-in".to_owned()),
        (&anonymous, "/reset-password".to_owned()),
        (&anonymous, "/magic-link".to_owned()),
        (&admin, "/account/profile".to_owned()),
        (&admin, "/account/security".to_owned()),
        (&admin, "/posts/new".to_owned()),
        (&admin, "/admin/users".to_owned()),
        (&admin, format!("/admin/users/{user}")),
        (&admin, "/admin/audit".to_owned()),
        (&admin, "/admin/plans".to_owned()),
        (&admin, "/admin/categories".to_owned()),
        (&admin, "/admin/subscriptions".to_owned()),
    ] {
        let (status, page) = app.get(browser, &path).await;
        assert_eq!(status, 200, "{path}");
        let forms: Vec<String> = form_tags(&page)
            .into_iter()
            .filter(|form| !form.contains("action=\"/sign-out\""))
            .collect();
        assert!(!forms.is_empty(), "{path} has a form");
        for form in forms {
            assert!(form.contains(" novalidate"), "{path}: {form}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_sign_up_lists_its_problems_at_the_top_linked_to_the_fields() {
    let app = spawn_app().await;
    let browser = app.new_browser();
    let (_, blank) = app.get(&browser, "/sign-up").await;
    assert!(
        !blank.contains("error-summary"),
        "no summary before sending"
    );
    let refused = app.sign_up(&browser, "", "not an address", "short").await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    let problems = summary(&page);
    let fields: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(fields, ["name", "email", "password"], "{page}");
    assert_fields_marked(&page, &problems);
    for (field, message) in &problems {
        assert!(
            page.contains(&format!(
                "<p class=\"field-error\" id=\"{field}-error\">{message}</p>"
            )),
            "the same message is next to {field}"
        );
    }
    assert!(
        page.find("error-summary") < page.find("<form"),
        "the summary comes first"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_editor_plan_and_category_forms_sum_up_their_problems() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;

    let profile = app
        .post_form(
            &admin,
            "/account/profile",
            "/account/profile",
            &[
                ("name", ""),
                ("website", "not a link"),
                ("timezone", "Mars/Base"),
            ],
        )
        .await;
    let page = profile.text().await.unwrap();
    let problems = summary(&page);
    let fields: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(fields, ["name", "website", "timezone"], "{page}");
    assert_fields_marked(&page, &problems);

    let post = app
        .post_form(
            &admin,
            "/posts/new",
            "/posts",
            &[("title", ""), ("content", "x")],
        )
        .await;
    let page = post.text().await.unwrap();
    let problems = summary(&page);
    assert_eq!(problems[0].0, "title", "{page}");
    assert_fields_marked(&page, &problems);

    let plan = app
        .post_form(
            &admin,
            "/admin/plans",
            "/admin/plans",
            &[
                ("name", "Pro"),
                ("price", "lots"),
                ("currency", "usd"),
                ("interval", "month"),
            ],
        )
        .await;
    let page = plan.text().await.unwrap();
    let problems = summary(&page);
    let fields: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(fields, ["price"], "{page}");
    assert_fields_marked(&page, &problems);

    let category = app
        .post_form(
            &admin,
            "/admin/categories",
            "/admin/categories",
            &[("name", ""), ("color", "red")],
        )
        .await;
    let page = category.text().await.unwrap();
    let problems = summary(&page);
    let fields: Vec<&str> = problems.iter().map(|(field, _)| field.as_str()).collect();
    assert_eq!(fields, ["name", "color"], "{page}");
    assert_fields_marked(&page, &problems);
}
