//! Inputs the fuzz targets (`fuzz/`) found mishandled, replayed over HTTP
//! against a real Soloist.

use crate::support::spawn_app;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_refuses_addresses_mail_cannot_be_sent_to_and_keeps_unicode_ones() {
    let app = spawn_app().await;
    for email in ["a.@example.com", "a@@example.com", ".a@example.com"] {
        let browser = app.new_browser();
        let response = app
            .sign_up(&browser, "Sam", email, "correct horse battery staple")
            .await;
        assert_eq!(response.status(), 422, "{email}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("Enter an email address like name@example.com."),
            "{email}: {page}"
        );
    }
    let users = app.count("SELECT count(*) FROM users").await;
    assert_eq!(users, 0);
    let browser = app.new_browser();
    let response = app
        .sign_up(
            &browser,
            "Jörg",
            "Jörg@Bücher.example",
            "correct horse battery staple",
        )
        .await;
    assert_eq!(response.status(), 200);
    let stored: String = app
        .sql()
        .await
        .query_one("SELECT email FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, "jörg@bücher.example");
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_break_of_a_saved_post_is_stored_as_a_newline() {
    let app = spawn_app().await;
    let browser = app
        .signed_in_as("writer@example.com", "Writer", false)
        .await;
    let response = app
        .post_form(
            &browser,
            "/posts/new",
            "/posts",
            &[
                ("title", "Line breaks"),
                ("content", "one\r\r\ntwo\rthree\r\nfour"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let content: String = app
        .sql()
        .await
        .query_one("SELECT content FROM posts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(content, "one\n\ntwo\nthree\nfour");
    app.soloist.stop().await.unwrap();
}
