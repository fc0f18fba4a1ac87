//! Where am I: the header marks the current section, the admin sidebar and
//! the account tabs the current page, and detail pages show breadcrumbs.

use super::between;
use crate::support::spawn_app;

/// The links of the nav that starts with `start` that carry
/// `aria-current`, as (href, value).
fn current_links(page: &str, start: &str) -> Vec<(String, String)> {
    between(page, start, "</nav>")
        .split("<a ")
        .skip(1)
        .filter_map(|link| {
            let href = link.split("href=\"").nth(1)?.split('"').next()?;
            let current = link
                .split('>')
                .next()?
                .split("aria-current=\"")
                .nth(1)?
                .split('"')
                .next()?;
            Some((href.to_owned(), current.to_owned()))
        })
        .collect()
}

const HEADER: &str = "<nav class=\"site-nav\"";
const ADMIN_MENU: &str = "<nav class=\"admin-menu\" aria-label=\"Administration\"";
const ACCOUNT_TABS: &str = "<nav class=\"tabs\" aria-label=\"Your account\"";

fn page_link(href: &str) -> Vec<(String, String)> {
    vec![(href.to_owned(), "page".to_owned())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_marks_the_section_of_the_page() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    for (path, section) in [
        ("/blog", "/blog"),
        ("/search?q=x", "/blog"),
        ("/pricing", "/pricing"),
        ("/posts", "/posts"),
        ("/posts/new", "/posts"),
        ("/account", "/account"),
        ("/account/security", "/account"),
        ("/account/billing", "/account"),
        ("/admin", "/admin"),
        ("/admin/users", "/admin"),
        ("/admin/plans", "/admin"),
    ] {
        let (status, page) = app.get(&admin, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(current_links(&page, HEADER), page_link(section), "{path}");
    }
    let (_, home) = app.get(&admin, "/").await;
    assert_eq!(current_links(&home, HEADER), []);
    let (_, sign_up) = app.get(&app.new_browser(), "/sign-up").await;
    assert_eq!(current_links(&sign_up, HEADER), page_link("/sign-up"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_sidebar_marks_the_page_and_leads_to_every_admin_page() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    for path in [
        "/admin",
        "/admin/users",
        "/admin/audit",
        "/admin/plans",
        "/admin/subscriptions",
        "/admin/stripe-events",
        "/admin/categories",
        "/admin/outbox",
        "/admin/database",
        "/admin/backups",
    ] {
        let (status, page) = app.get(&admin, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(current_links(&page, ADMIN_MENU), page_link(path), "{path}");
        let menu = between(&page, ADMIN_MENU, "</nav>");
        assert!(
            menu.contains("href=\"/admin/settings\">Settings</a>"),
            "{menu}"
        );
        assert!(
            page.find(ADMIN_MENU) < page.find("<h1"),
            "the menu comes before the page: {path}"
        );
    }
    // Below a page of the menu, its link says so without claiming the page.
    let id: uuid::Uuid = app
        .sql()
        .await
        .query_one("SELECT id FROM users", &[])
        .await
        .unwrap()
        .get(0);
    let (_, user) = app.get(&admin, &format!("/admin/users/{id}")).await;
    assert_eq!(
        current_links(&user, ADMIN_MENU),
        [("/admin/users".to_owned(), "true".to_owned())]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_pages_share_tabs_that_mark_the_page() {
    let app = spawn_app().await;
    let member = app
        .signed_in_as("member@example.com", "Member", false)
        .await;
    for path in [
        "/account",
        "/account/profile",
        "/account/security",
        "/account/billing",
    ] {
        let (status, page) = app.get(&member, path).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            current_links(&page, ACCOUNT_TABS),
            page_link(path),
            "{path}"
        );
    }
    // A form that answers at its own address still marks its page.
    let wrong = app
        .post_form(
            &member,
            "/account/security",
            "/account/password",
            &[
                ("current_password", "wrong"),
                ("new_password", "another long phrase"),
            ],
        )
        .await;
    let page = wrong.text().await.unwrap();
    assert_eq!(
        current_links(&page, ACCOUNT_TABS),
        page_link("/account/security")
    );
}

/// The breadcrumb trail of a page: the linked steps and the current one.
fn breadcrumbs(page: &str) -> (Vec<String>, String) {
    let trail = between(
        page,
        "<nav class=\"breadcrumbs\" aria-label=\"Breadcrumb\"><ol>",
        "</ol>",
    );
    let steps = trail
        .split("href=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect();
    let here = trail
        .split("<li aria-current=\"page\">")
        .nth(1)
        .unwrap()
        .split("</li>")
        .next()
        .unwrap()
        .to_owned();
    (steps, here)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detail_pages_show_the_way_back_as_breadcrumbs() {
    let app = spawn_app().await;
    let admin = app
        .signed_in_as("admin@example.com", "Ada Admin", true)
        .await;
    let sql = app.sql().await;
    let user: uuid::Uuid = sql
        .query_one("SELECT id FROM users", &[])
        .await
        .unwrap()
        .get(0);
    let (_, page) = app.get(&admin, &format!("/admin/users/{user}")).await;
    assert_eq!(
        breadcrumbs(&page),
        (
            vec!["/admin".to_owned(), "/admin/users".to_owned()],
            "Ada Admin".to_owned()
        )
    );

    let plan = app
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
    assert_eq!(plan.status(), 303);
    let plan: uuid::Uuid = sql
        .query_one("SELECT id FROM subscription_plans", &[])
        .await
        .unwrap()
        .get(0);
    let (_, page) = app.get(&admin, &format!("/admin/plans/{plan}")).await;
    assert_eq!(
        breadcrumbs(&page),
        (
            vec!["/admin".to_owned(), "/admin/plans".to_owned()],
            "Starter".to_owned()
        )
    );

    let category = app
        .post_form(
            &admin,
            "/admin/categories",
            "/admin/categories",
            &[("name", "Guides"), ("color", "#112233"), ("active", "on")],
        )
        .await;
    assert_eq!(category.status(), 303);
    let category: uuid::Uuid = sql
        .query_one("SELECT id FROM categories", &[])
        .await
        .unwrap()
        .get(0);
    let (_, page) = app
        .get(&admin, &format!("/admin/categories/{category}"))
        .await;
    assert_eq!(
        breadcrumbs(&page),
        (
            vec!["/admin".to_owned(), "/admin/categories".to_owned()],
            "Guides".to_owned()
        )
    );

    let post = app
        .write_post(&admin, &[("title", "Hello there"), ("content", "Words.")])
        .await;
    let (_, page) = app.get(&admin, &format!("/posts/{post}/edit")).await;
    assert_eq!(
        breadcrumbs(&page),
        (vec!["/posts".to_owned()], "Hello there".to_owned())
    );

    let entry: uuid::Uuid = sql
        .query_one(
            "SELECT id FROM audit_logs WHERE entity = 'categories' AND action = 'CREATE'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let (_, page) = app.get(&admin, &format!("/admin/audit/{entry}")).await;
    assert_eq!(
        breadcrumbs(&page),
        (
            vec!["/admin".to_owned(), "/admin/audit".to_owned()],
            "Created: Category".to_owned()
        )
    );
}
