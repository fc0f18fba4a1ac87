//! The admins' user pages: search, activity, a new verification mail.

use crate::support::{location, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_find_users_see_their_activity_and_resend_verification() {
    let app = spawn_app().await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let writer = app
        .signed_in_as("writer@example.com", "Wendy Writer", false)
        .await;
    app.post_form(
        &writer,
        "/posts/new",
        "/posts",
        &[("title", "Wendy's first")],
    )
    .await;
    app.sql()
        .await
        .execute(
            "UPDATE users SET email_verified = false WHERE email = 'writer@example.com'",
            &[],
        )
        .await
        .unwrap();
    let (_, list) = app.get(&admin, "/admin/users?q=wendy").await;
    assert!(
        list.contains("writer@example.com") && !list.contains("admin@example.com"),
        "{list}"
    );
    let id: String = app
        .sql()
        .await
        .query_one(
            "SELECT id::text FROM users WHERE email = 'writer@example.com'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let (status, page) = app.get(&admin, &format!("/admin/users/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Wendy&#39;s first") || page.contains("Wendy&#x27;s first"),
        "{page}"
    );
    assert!(page.contains("Open sessions") && page.contains("unconfirmed"));
    assert!(
        page.contains("Created") && page.contains("Post"),
        "their trail, in words"
    );
    let resent = app
        .post_form(
            &admin,
            &format!("/admin/users/{id}"),
            &format!("/admin/users/{id}/verification"),
            &[],
        )
        .await;
    assert_eq!(
        location(&resent),
        format!("/admin/users/{id}?notice=verification-resent")
    );
    // The mail is sent after the answer (to the outbox here): wait for it.
    let mut mailed = 0_i64;
    for _ in 0..100 {
        mailed = app
            .sql()
            .await
            .query_one(
                "SELECT count(*) FROM mail_outbox WHERE to_address = 'writer@example.com'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if mailed > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(mailed, 1, "one confirmation mail");
    let (_, overview) = app.get(&admin, "/admin").await;
    assert!(overview.contains("posts published") && overview.contains("Sign-ins, last 7 days"));
    app.soloist.stop().await.unwrap();
}
