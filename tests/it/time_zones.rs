//! Dates in the reader's time zone: a member's profile zone, the site's
//! for visitors, with the zone named where a time is shown.

use crate::support::{TestApp, spawn_app};

async fn set_zone(app: &TestApp, email: &str, zone: &str) {
    app.sql()
        .await
        .execute(
            "INSERT INTO user_profiles (user_id, timezone) SELECT id, $2 FROM users WHERE email = $1 \
             ON CONFLICT (user_id) DO UPDATE SET timezone = EXCLUDED.timezone",
            &[&email, &zone],
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_published_late_in_utc_shows_the_next_day_in_berlin_and_the_sites_zone_for_visitors()
{
    let app = spawn_app().await;
    let writer = app.signed_in_as("writer@example.com", "Writer", true).await;
    let id = app
        .write_post(
            &writer,
            &[
                ("title", "Midnight release"),
                ("content", "Shipped at night."),
            ],
        )
        .await;
    app.publish(&writer, &id).await;
    app.sql()
        .await
        .execute(
            "UPDATE posts SET published_at = '2026-01-03 23:30:00.123456+00', updated_at = '2026-01-03 23:30:00+00' WHERE title = 'Midnight release'",
            &[],
        )
        .await
        .unwrap();

    // A visitor of a site in UTC.
    let (_, blog) = app.get(&app.new_browser(), "/blog").await;
    assert!(
        blog.contains("<time datetime=\"2026-01-03T23:30:00Z\">3 Jan 2026</time>"),
        "{blog}"
    );

    // A member in Berlin sees the next day, with the offset in the attribute.
    set_zone(&app, "writer@example.com", "Europe/Berlin").await;
    let (_, blog) = app.get(&writer, "/blog").await;
    assert!(
        blog.contains("<time datetime=\"2026-01-04T00:30:00+01:00\">4 Jan 2026</time>"),
        "{blog}"
    );
    let (_, post) = app.get(&writer, "/blog/midnight-release").await;
    assert!(post.contains("4 Jan 2026"), "{post}");

    // Visitors read the site's zone once the admin sets one.
    let saved = app
        .post_form(
            &writer,
            "/admin/settings",
            "/admin/settings",
            &[("site_name", "Soloist"), ("time_zone", "Asia/Tokyo")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let (_, blog) = app.get(&app.new_browser(), "/blog").await;
    assert!(
        blog.contains("<time datetime=\"2026-01-04T08:30:00+09:00\">4 Jan 2026</time>"),
        "{blog}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_trail_shows_and_filters_by_the_admins_zone_and_names_it() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    set_zone(&app, "admin@example.com", "America/New_York").await;
    // An audit row at 03:00 UTC on 5 January is 22:00 on the 4th in New York.
    let sql = app.sql().await;
    sql.execute(
        "INSERT INTO audit_logs (action, entity, created_at) VALUES ('UPDATE', 'site_settings', '2026-01-05 03:00:00+00')",
        &[],
    )
    .await
    .unwrap();
    let (_, trail) = app.get(&admin, "/admin/audit?entity=site_settings").await;
    assert!(
        trail.contains("2026-01-04 22:00:00 America/New_York"),
        "{trail}"
    );
    assert!(!trail.contains("(UTC)"));
    // A day typed into the filter is that day in the admin's zone.
    let (_, fourth) = app
        .get(
            &admin,
            "/admin/audit?entity=site_settings&from=2026-01-04&to=2026-01-04",
        )
        .await;
    assert!(
        fourth.contains("2026-01-04 22:00:00 America/New_York"),
        "{fourth}"
    );
    let (_, fifth) = app
        .get(
            &admin,
            "/admin/audit?entity=site_settings&from=2026-01-05&to=2026-01-05",
        )
        .await;
    assert!(!fifth.contains("2026-01-04 22:00:00"), "{fifth}");
    // The CSV keeps the stored UTC instant.
    let (_, csv) = app
        .get(
            &admin,
            "/admin/audit.csv?entity=site_settings&from=2026-01-04&to=2026-01-04",
        )
        .await;
    assert!(csv.contains("2026-01-05T03:00:00"), "{csv}");
    let (_, overview) = app.get(&admin, "/admin").await;
    assert!(overview.contains("Day (America/New_York)"), "{overview}");
}
