//! The site's settings and its landing page: visitors see the site its
//! administrator describes, never the installation's details.

use reqwest::StatusCode;

use crate::support::{location, spawn_app};

const NAMED: &[(&str, &str)] = &[
    ("site_name", "Field Notes"),
    ("tagline", "Notes on running PostgreSQL"),
    (
        "description",
        "A blog about databases, with plans for teams.",
    ),
    ("accent_color", "#0F766E"),
    ("time_zone", "Europe/Berlin"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitors_get_a_landing_page_and_only_admins_see_the_installation() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let (status, page) = app.get(&app.new_browser(), "/").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<h1 id=\"hero-title\">Soloist</h1>"),
        "{page}"
    );
    assert!(page.contains("Create your account"));
    assert!(page.contains("Sign up free"));
    for private in [
        "Fresh install",
        "Data directory",
        "Schema",
        "PostgreSQL",
        "Only administrators",
    ] {
        assert!(!page.contains(private), "a visitor sees {private:?}");
    }
    // With nothing published, the page says so rather than showing an empty list.
    assert!(page.contains("Nothing is published yet."));

    let (_, admin_page) = app.get(&admin, "/").await;
    assert!(admin_page.contains("Only administrators see this"));
    assert!(admin_page.contains("Schema"));
    assert!(admin_page.contains("Go to your account"));
    assert!(!admin_page.contains("Sign up free"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_landing_page_shows_the_latest_posts_and_a_pricing_teaser() {
    let app = spawn_app().await;
    let writer = app
        .signed_in_as("writer@example.com", "Writer", false)
        .await;
    let id = app
        .write_post(
            &writer,
            &[
                ("title", "Vacuum, explained"),
                ("content", "Autovacuum keeps tables lean."),
            ],
        )
        .await;
    app.publish(&writer, &id).await;
    app.sql()
        .await
        .batch_execute(
            "INSERT INTO subscription_plans (name, price_cents, currency, interval, features, sort_order) VALUES \
             ('Team', 2900, 'USD', 'month', ARRAY['Five seats', 'Featured posts'], 1)",
        )
        .await
        .unwrap();
    let (_, page) = app.get(&app.new_browser(), "/").await;
    assert!(page.contains("Latest posts"), "{page}");
    assert!(page.contains("Vacuum, explained"));
    assert!(page.contains("Team"));
    assert!(page.contains("Five seats"));
    assert!(page.contains("href=\"/pricing\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_names_the_site_and_pages_mail_and_colours_follow_with_an_audit_row() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let saved = app
        .post_form(&admin, "/admin/settings", "/admin/settings", NAMED)
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&saved), "/admin/settings?notice=settings-saved");

    let visitor = app.new_browser();
    let (_, page) = app.get(&visitor, "/").await;
    assert!(
        page.contains("<title>Field Notes · Notes on running PostgreSQL</title>"),
        "{page}"
    );
    assert!(page.contains("<span class=\"brand-name\">Field Notes</span>"));
    assert!(page.contains("A blog about databases, with plans for teams."));
    assert!(page.contains(
        "<meta name=\"description\" content=\"A blog about databases, with plans for teams.\">"
    ));
    assert!(page.contains("href=\"/site.css?v=0f766e\""));
    let (_, pricing) = app.get(&visitor, "/pricing").await;
    assert!(pricing.contains("<title>Pricing · Field Notes</title>"));
    let (status, css) = app.get(&visitor, "/site.css?v=0f766e").await;
    assert_eq!(status, 200);
    assert!(css.contains(":root { --accent: #0f766e;"), "{css}");
    assert!(css.contains("html[data-theme=\"dark\"]"));

    // Mail carries the new name.
    let reader = app.new_browser();
    app.sign_up(
        &reader,
        "Reader",
        "reader@example.com",
        "a long enough passphrase",
    )
    .await;
    let body: String = app
        .sql()
        .await
        .query_one(
            "SELECT body FROM mail_outbox WHERE to_address = 'reader@example.com' ORDER BY created_at DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(body.contains("Field Notes"), "{body}");

    let audit = app
        .sql()
        .await
        .query_one(
            "SELECT action, changes->'site_name'->>'before', changes->'site_name'->>'after', \
             changes->'accent_color'->>'after', user_id IS NOT NULL \
             FROM audit_logs WHERE entity = 'site_settings'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(audit.get::<_, String>(0), "UPDATE");
    assert_eq!(audit.get::<_, String>(1), "Soloist");
    assert_eq!(audit.get::<_, String>(2), "Field Notes");
    assert_eq!(audit.get::<_, String>(3), "#0f766e");
    assert!(audit.get::<_, bool>(4));

    // Saving the same values again changes nothing and writes no row.
    app.post_form(&admin, "/admin/settings", "/admin/settings", NAMED)
        .await;
    assert_eq!(
        app.count("SELECT count(*) FROM audit_logs WHERE entity = 'site_settings'")
            .await,
        1
    );
    let (_, form) = app.get(&admin, "/admin/settings").await;
    assert!(form.contains("The settings were saved.") || form.contains("value=\"Field Notes\""));
    assert!(form.contains("value=\"#0f766e\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_get_messages_beside_their_fields_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let refused = app
        .post_form(
            &admin,
            "/admin/settings",
            "/admin/settings",
            &[
                ("site_name", "  "),
                ("tagline", "fine"),
                ("description", ""),
                ("accent_color", "#fde047"),
                ("time_zone", "Mars/Olympus_Mons"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(page.contains("There are 3 problems"), "{page}");
    assert!(page.contains("<a href=\"#site_name\">Give the site a name.</a>"));
    assert!(page.contains("too light for white button text"));
    assert!(page.contains("Choose a time zone such as Europe/Berlin or UTC."));
    assert_eq!(page.matches("aria-invalid=\"true\"").count(), 3);
    assert!(page.contains("novalidate"));
    // What was typed stays in the form.
    assert!(page.contains("value=\"Mars/Olympus_Mons\""));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM site_settings WHERE site_name = 'Soloist' AND updated_at IS NULL"
        )
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_logs WHERE entity = 'site_settings'")
            .await,
        0
    );

    // Markup in a name is text, never HTML.
    let saved = app
        .post_form(
            &admin,
            "/admin/settings",
            "/admin/settings",
            &[
                ("site_name", "<script>alert(1)</script>"),
                ("time_zone", "UTC"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get(&app.new_browser(), "/").await;
    assert!(!page.contains("<script>alert(1)</script>"));
    assert!(
        page.contains("script&#62;alert(1)&#60;/script&#62;"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_cannot_read_or_change_the_settings() {
    let app = spawn_app().await;
    let member = app
        .signed_in_as("member@example.com", "Member", false)
        .await;
    assert_eq!(app.get(&member, "/admin/settings").await.0, 403);
    let refused = app.post_form(&member, "/", "/admin/settings", NAMED).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.count("SELECT count(*) FROM site_settings WHERE site_name = 'Soloist'")
            .await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_steps_checklist_ticks_off_what_is_done() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let (_, overview) = app.get(&admin, "/admin").await;
    assert!(overview.contains("First steps"), "{overview}");
    assert!(overview.contains("0 of 4 done."));
    assert!(overview.contains("href=\"/admin/settings\">Open the settings</a>"));
    assert!(overview.contains("href=\"/posts/new\">Write a post</a>"));

    app.post_form(&admin, "/admin/settings", "/admin/settings", NAMED)
        .await;
    app.write_post(&admin, &[("title", "Hello"), ("content", "First words.")])
        .await;
    let (_, overview) = app.get(&admin, "/admin").await;
    assert!(overview.contains("2 of 4 done."), "{overview}");
    assert!(!overview.contains("Open the settings</a>"));
    assert!(overview.contains("Name your site</strong><span class=\"visually-hidden\"> (done)"));
    let (_, home) = app.get(&admin, "/").await;
    assert!(home.contains("2 of 4 done"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_lists_link_to_what_fills_them() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    for (path, wanted) in [
        (
            "/admin/plans",
            "<a href=\"#name\">Create the first one below</a>",
        ),
        (
            "/admin/categories",
            "<a href=\"#name\">Create the first one below</a>",
        ),
        (
            "/admin/subscriptions",
            "<a href=\"/pricing\">pricing page</a>",
        ),
        (
            "/admin/subscriptions?status=canceled",
            "<a href=\"/admin/subscriptions\">Show them all</a>",
        ),
        ("/admin/stripe-events", "<code>/webhooks/stripe</code>"),
        (
            "/admin/users?q=nobody-at-all",
            "<a href=\"/admin/users\">Show every user</a>",
        ),
        (
            "/admin/audit?actor=nobody%40example.com",
            "<a href=\"/admin/audit\">Clear the filters</a>",
        ),
        (
            "/pricing",
            "<a href=\"/admin/plans\">Create the first plan</a>",
        ),
        ("/blog", "<a href=\"/posts/new\">Write a post</a>"),
        (
            "/posts",
            "<a href=\"/posts/new\">Write your first post.</a>",
        ),
        ("/", "<a href=\"/posts/new\">Write the first post</a>"),
    ] {
        let (status, page) = app.get(&admin, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(page.contains(wanted), "{path} lacks {wanted:?}:\n{page}");
    }
    let (_, blog) = app.get(&app.new_browser(), "/blog").await;
    assert!(blog.contains("<a href=\"/feed.xml\">Follow the feed</a>"));
    assert!(!blog.contains("/posts/new"));
    let (_, pricing) = app.get(&app.new_browser(), "/pricing").await;
    assert!(!pricing.contains("/admin/plans"));
}
