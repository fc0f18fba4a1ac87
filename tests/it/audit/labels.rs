//! The trail in words: friendly labels for actions and entities on the
//! pages while the CSV keeps the stored values; values that must stay whole
//! don't wrap; a mistyped filter is a message next to its field.

use super::rows;
use crate::support::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_say_actions_and_entities_in_words_and_the_csv_keeps_the_stored_values() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    rows(
        &app,
        &[
            (Some("admin@example.com"), "LOGIN_FAILED", "users", 0),
            (Some("admin@example.com"), "CREATE", "subscription_plans", 0),
        ],
    )
    .await;
    let (status, page) = app.get(&admin, "/admin/audit").await;
    assert_eq!(status, 200);
    for label in [
        "<span class=\"badge\">Failed sign-in</span>",
        "<span class=\"badge\">Created</span>",
        "<td class=\"nowrap\">Plan<br>",
        "<td class=\"nowrap\">User<br>",
    ] {
        assert!(page.contains(label), "{label}: {page}");
    }
    assert!(!page.contains(">LOGIN_FAILED<"), "{page}");
    // The choices of the filter say the same, and filter by stored values.
    assert!(page.contains("<option value=\"LOGIN_FAILED\">Failed sign-in</option>"));
    assert!(page.contains("<option value=\"subscription_plans\">Plan</option>"));
    // Emails, addresses and times stay whole: the table scrolls instead.
    assert!(
        page.contains("<td class=\"nowrap\">admin@example.com</td>"),
        "{page}"
    );
    assert!(page.contains("<td class=\"nowrap\"><a href=\"/admin/audit/"));

    let (_, csv) = app.get(&admin, "/admin/audit.csv").await;
    assert!(csv.contains("\"LOGIN_FAILED\",\"users\""), "{csv}");
    assert!(csv.contains("\"CREATE\",\"subscription_plans\""), "{csv}");
    assert!(!csv.contains("Failed sign-in"), "{csv}");

    let (_, overview) = app.get(&admin, "/admin").await;
    assert!(
        overview.contains("<span class=\"badge\">Failed sign-in</span>"),
        "{overview}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mistyped_filter_is_a_message_next_to_its_field_with_the_form_kept() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    for (query, field, typed) in [
        ("action=NOPE", "action", "NOPE"),
        ("entity=userz", "entity", "userz"),
        ("entity_id=nope", "entity_id", "nope"),
        ("from=yesterday", "from", "yesterday"),
        ("to=2026-13-45", "to", "2026-13-45"),
        ("from=2026-02-01&to=2026-01-01", "to", "2026-01-01"),
    ] {
        let (status, page) = app
            .get(
                &admin,
                &format!("/admin/audit?actor=admin%40example.com&{query}"),
            )
            .await;
        assert_eq!(status, 400, "{query}");
        assert!(
            page.contains("<nav class=\"admin-menu\""),
            "the page of the normal layout: {page}"
        );
        let input = page
            .split(&format!("<input id=\"{field}\""))
            .nth(1)
            .unwrap()
            .split('>')
            .next()
            .unwrap();
        assert!(
            input.contains(&format!("value=\"{typed}\"")),
            "{query}: {input}"
        );
        assert!(input.contains("aria-invalid=\"true\""), "{query}: {input}");
        assert!(
            input.contains(&format!("aria-describedby=\"{field}-error\"")),
            "{query}: {input}"
        );
        assert!(
            page.contains(&format!("<p class=\"field-error\" id=\"{field}-error\">")),
            "{query}: {page}"
        );
        assert!(
            page.contains("value=\"admin@example.com\""),
            "the other filters are kept: {query}"
        );
        assert!(
            page.contains(&format!("<li><a href=\"#{field}\">")),
            "{query}"
        );
    }
    // Stored values are accepted whatever their case.
    let (status, _) = app
        .get(&admin, "/admin/audit?action=login_failed&entity=Users")
        .await;
    assert_eq!(status, 200);
}
