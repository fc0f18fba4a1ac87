//! Actions that can't be undone ask first, on a page of their own: the
//! first POST changes nothing and says what will happen; the same form sent
//! again with `confirm=yes` does it.

use reqwest::StatusCode;

use crate::support::{PASSWORD, location, spawn_app};

/// Asserts that `response` is the confirmation page: nothing done yet, a
/// "Yes, …" button that sends the form again confirmed, and Cancel.
async fn assert_asks(response: reqwest::Response, yes: &str, cancel: &str) -> String {
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(page.contains(yes), "{yes}: {page}");
    assert!(
        page.contains("<input type=\"hidden\" name=\"confirm\" value=\"yes\">"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "<a class=\"btn btn-secondary\" href=\"{cancel}\">Cancel</a>"
        )),
        "{page}"
    );
    page
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivating_a_user_asks_first_and_changes_nothing_until_confirmed() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let writer = app.signed_in_as("writer@example.com", "Wendy", false).await;
    let sql = app.sql().await;
    let id: uuid::Uuid = sql
        .query_one(
            "SELECT id FROM users WHERE email = 'writer@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let updates = "SELECT count(*) FROM audit_logs WHERE action = 'UPDATE' AND entity = 'users'";
    let page = format!("/admin/users/{id}");
    let action = format!("/admin/users/{id}/active");

    let asked = app
        .post_form(&admin, &page, &action, &[("active", "false")])
        .await;
    let question = assert_asks(asked, "Yes, deactivate Wendy", &page).await;
    assert!(question.contains("<input type=\"hidden\" name=\"active\" value=\"false\">"));
    assert!(question.contains("1 open session"), "{question}");
    let active: bool = sql
        .query_one("SELECT is_active FROM users WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert!(active);
    assert_eq!(app.count(updates).await, 0);
    assert_eq!(app.get(&writer, "/account").await.0, 200, "still signed in");

    let done = app
        .post_form(
            &admin,
            &page,
            &action,
            &[("active", "false"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let active: bool = sql
        .query_one("SELECT is_active FROM users WHERE id = $1", &[&id])
        .await
        .unwrap()
        .get(0);
    assert!(!active);
    assert_eq!(app.count(updates).await, 1);
    // Reactivating can be undone: no question.
    let back = app
        .post_form(&admin, &page, &action, &[("active", "true")])
        .await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_sessions_asks_first_and_changes_nothing_until_confirmed() {
    let app = spawn_app().await;
    let alice = app.signed_in_as("alice@example.com", "Alice", false).await;
    let laptop = app.new_browser();
    assert_eq!(
        app.sign_in(&laptop, "alice@example.com", PASSWORD)
            .await
            .status(),
        303
    );
    let phone = app.new_browser();
    assert_eq!(
        app.sign_in(&phone, "alice@example.com", PASSWORD)
            .await
            .status(),
        303
    );
    let live = "SELECT count(*) FROM sessions WHERE is_active";
    let logouts = "SELECT count(*) FROM audit_logs WHERE action = 'LOGOUT'";
    assert_eq!(app.count(live).await, 3);
    let laptop_session: uuid::Uuid = app
        .sql()
        .await
        .query_one(
            "SELECT id FROM sessions ORDER BY created_at LIMIT 1 OFFSET 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let end_one = format!("/account/sessions/{laptop_session}/end");

    let asked = app
        .post_form(&alice, "/account/security", &end_one, &[])
        .await;
    assert_asks(asked, "Yes, sign it out", "/account/security").await;
    let asked = app
        .post_form(
            &alice,
            "/account/security",
            "/account/sessions/end-others",
            &[],
        )
        .await;
    let question = assert_asks(asked, "Yes, sign out the others", "/account/security").await;
    assert!(question.contains("2 other session"), "{question}");
    assert_eq!(app.count(live).await, 3);
    assert_eq!(app.count(logouts).await, 0);
    assert_eq!(app.get(&laptop, "/account").await.0, 200);

    let ended = app
        .post_form(&alice, "/account/security", &end_one, &[("confirm", "yes")])
        .await;
    assert_eq!(location(&ended), "/account/security?notice=session-ended");
    assert_eq!(app.count(live).await, 2);
    assert_eq!(app.get(&laptop, "/account").await.0, 303);
    let ended = app
        .post_form(
            &alice,
            "/account/security",
            "/account/sessions/end-others",
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(location(&ended), "/account/security?notice=sessions-ended");
    assert_eq!(app.count(live).await, 1);
    assert_eq!(app.count(logouts).await, 2);
    assert_eq!(app.get(&phone, "/account").await.0, 303);
    assert_eq!(app.get(&alice, "/account").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_plan_or_a_category_asks_first_and_changes_nothing_until_confirmed() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let created = app
        .post_form(
            &admin,
            "/admin/plans",
            "/admin/plans",
            &[
                ("name", "Starter"),
                ("price", "5"),
                ("currency", "usd"),
                ("interval", "month"),
            ],
        )
        .await;
    assert_eq!(created.status(), 303);
    let created = app
        .post_form(
            &admin,
            "/admin/categories",
            "/admin/categories",
            &[("name", "Guides"), ("color", "#112233"), ("active", "on")],
        )
        .await;
    assert_eq!(created.status(), 303);
    let sql = app.sql().await;
    let plan: uuid::Uuid = sql
        .query_one("SELECT id FROM subscription_plans", &[])
        .await
        .unwrap()
        .get(0);
    let category: uuid::Uuid = sql
        .query_one("SELECT id FROM categories", &[])
        .await
        .unwrap()
        .get(0);
    let deletions = "SELECT count(*) FROM audit_logs WHERE action = 'DELETE'";

    let plan_page = format!("/admin/plans/{plan}");
    let asked = app
        .post_form(&admin, &plan_page, &format!("{plan_page}/delete"), &[])
        .await;
    assert_asks(asked, "Yes, delete Starter", &plan_page).await;
    let category_page = format!("/admin/categories/{category}");
    let asked = app
        .post_form(
            &admin,
            &category_page,
            &format!("{category_page}/delete"),
            &[],
        )
        .await;
    assert_asks(asked, "Yes, delete Guides", &category_page).await;
    assert_eq!(
        app.count("SELECT count(*) FROM subscription_plans").await,
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM categories").await, 1);
    assert_eq!(app.count(deletions).await, 0);

    let deleted = app
        .post_form(
            &admin,
            &plan_page,
            &format!("{plan_page}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(location(&deleted), "/admin/plans?notice=plan-deleted");
    let deleted = app
        .post_form(
            &admin,
            &category_page,
            &format!("{category_page}/delete"),
            &[("confirm", "yes")],
        )
        .await;
    assert_eq!(
        location(&deleted),
        "/admin/categories?notice=category-deleted"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM subscription_plans").await,
        0
    );
    assert_eq!(app.count("SELECT count(*) FROM categories").await, 0);
    assert_eq!(app.count(deletions).await, 2);
}
