//! HTTP as clients expect it, spoken byte for byte over a raw connection
//! (as curl, uptime checkers and caches do): HEAD on every GET route, 405
//! with Allow, validators and 304s, no cookies on cacheable answers.

use reqwest::StatusCode;
use soloist::config::{Overrides, ServerArgs};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{TestApp, spawn_app_with};

/// A response read off the wire.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Sends `method path` with `headers` (and the session `cookie`, if any)
/// on a fresh connection and reads the whole answer.
async fn raw(app: &TestApp, method: &str, path: &str, headers: &[(&str, &str)]) -> Raw {
    let mut stream = tokio::net::TcpStream::connect(app.soloist.addr)
        .await
        .unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n",
        app.soloist.addr.port()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let split = bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap();
    let head = String::from_utf8_lossy(&bytes[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Raw {
        status,
        headers,
        body: bytes[split + 4..].to_vec(),
    }
}

/// The `Cookie` header of `browser`'s session (reqwest keeps it hidden).
async fn session_cookie(app: &TestApp, email: &str) -> String {
    let browser = app.new_browser();
    let token = app.csrf(&browser, "/sign-in").await;
    let response = browser
        .post(format!("{}/sign-in", app.url))
        .form(&[
            ("email", email),
            ("password", "correct horse battery staple"),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap())
        .find(|cookie| cookie.starts_with("soloist_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_answers_every_get_route_like_get_without_a_body() {
    let app = spawn_app_with(Overrides::default()).await;
    let admin = app.signed_in_as("admin@example.com", "Admin", true).await;
    let created = app
        .post_form(
            &admin,
            "/posts/new",
            "/posts",
            &[
                ("title", "Hello"),
                ("content", "Text"),
                ("tags", "news"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let (id, author): (uuid::Uuid, uuid::Uuid) = {
        let row = app
            .sql()
            .await
            .query_one("SELECT id, user_id FROM posts", &[])
            .await
            .unwrap();
        (row.get(0), row.get(1))
    };
    app.post_form(
        &admin,
        "/posts",
        &format!("/posts/{id}/status"),
        &[("status", "published")],
    )
    .await;
    let cookie = session_cookie(&app, "admin@example.com").await;
    let anonymous = [
        "/".to_owned(),
        "/healthz".to_owned(),
        "/readyz".to_owned(),
        "/blog".to_owned(),
        "/blog/hello".to_owned(),
        "/tags/news".to_owned(),
        format!("/authors/{author}"),
        "/search?q=hello".to_owned(),
        "/feed.xml".to_owned(),
        "/sitemap.xml".to_owned(),
        "/robots.txt".to_owned(),
        "/categories.css".to_owned(),
        "/static/app.css".to_owned(),
        "/pricing".to_owned(),
        "/sign-in".to_owned(),
        "/sign-up".to_owned(),
        "/verify-email?token=x".to_owned(),
        "/reset-password".to_owned(),
        "/magic-link".to_owned(),
        "/magic-link/confirm?token=x".to_owned(),
        "/blog/missing".to_owned(),
    ];
    let signed_in = [
        "/account".to_owned(),
        "/account/profile".to_owned(),
        "/account/security".to_owned(),
        "/account/billing".to_owned(),
        "/posts".to_owned(),
        "/posts/new".to_owned(),
        format!("/posts/{id}/edit"),
        format!("/posts/{id}/delete"),
        "/admin".to_owned(),
        "/admin/users".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/audit.csv".to_owned(),
        "/admin/outbox".to_owned(),
        "/admin/plans".to_owned(),
        "/admin/subscriptions".to_owned(),
        "/admin/categories".to_owned(),
        "/admin/backups".to_owned(),
        "/admin/database".to_owned(),
    ];
    let views_before: i64 = app
        .sql()
        .await
        .query_one("SELECT view_count::bigint FROM posts", &[])
        .await
        .unwrap()
        .get(0);
    for (paths, headers) in [
        (&anonymous[..], vec![]),
        (&signed_in[..], vec![("Cookie", cookie.as_str())]),
    ] {
        for path in paths {
            let get = raw(&app, "GET", path, &headers).await;
            let head = raw(&app, "HEAD", path, &headers).await;
            assert_eq!(head.status, get.status, "{path}");
            assert!(head.body.is_empty(), "{path}: HEAD sent a body");
            assert_eq!(
                head.header("content-type"),
                get.header("content-type"),
                "{path}"
            );
            // The database page shows live figures: its length changes.
            if get.header("transfer-encoding").is_none() && path != "/admin/database" {
                assert_eq!(
                    head.header("content-length"),
                    Some(get.body.len().to_string().as_str()),
                    "{path}"
                );
            }
            assert_eq!(get.status == 404, path == "/blog/missing", "{path}");
        }
    }
    app.soloist.flush_views().await.unwrap();
    let views_after: i64 = app
        .sql()
        .await
        .query_one("SELECT view_count::bigint FROM posts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(
        views_after - views_before,
        1,
        "the GET counted, the HEAD did not"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_method_a_path_does_not_take_is_405_with_allow() {
    let app = spawn_app_with(Overrides::default()).await;
    for (method, path, allow) in [
        ("POST", "/blog", "GET, HEAD"),
        ("GET", "/sign-out", "POST"),
        ("DELETE", "/sign-in", "GET, POST, HEAD"),
        ("PUT", "/healthz", "GET, HEAD"),
        ("GET", "/webhooks/stripe", "POST"),
    ] {
        let response = raw(&app, method, path, &[]).await;
        assert_eq!(response.status, 405, "{method} {path}");
        assert_eq!(response.header("allow"), Some(allow), "{method} {path}");
        assert!(
            response
                .header("content-type")
                .is_some_and(|value| value.starts_with("text/html")),
            "{method} {path}: the site's error page"
        );
    }
    assert_eq!(raw(&app, "GET", "/no-such-page", &[]).await.status, 404);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cacheable_answers_set_no_cookie_carry_validators_and_answer_304() {
    let app = spawn_app_with(Overrides::default()).await;
    let home = raw(&app, "GET", "/", &[]).await;
    assert!(
        home.header("set-cookie").is_some(),
        "a page sets the CSRF cookie"
    );
    let page = String::from_utf8(home.body).unwrap();
    let css = page
        .split("href=\"/static/app.css")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let versioned = raw(&app, "GET", &format!("/static/app.css{css}"), &[]).await;
    assert!(
        versioned
            .header("cache-control")
            .unwrap()
            .contains("immutable")
    );
    let wrong = raw(&app, "GET", "/static/app.css?v=000000000000", &[]).await;
    assert_eq!(wrong.status, 200);
    assert!(
        !wrong.header("cache-control").unwrap().contains("immutable"),
        "a made-up version is not pinned for a year"
    );
    for path in [
        &format!("/static/app.css{css}"),
        "/feed.xml",
        "/sitemap.xml",
        "/robots.txt",
        "/categories.css",
    ] {
        let first = raw(&app, "GET", path, &[]).await;
        assert_eq!(first.status, 200, "{path}");
        assert!(first.header("set-cookie").is_none(), "{path} sets a cookie");
        let etag = first
            .header("etag")
            .unwrap_or_else(|| panic!("{path}: no ETag"))
            .to_owned();
        let weak = if etag.starts_with("W/") {
            etag.clone()
        } else {
            format!("W/{etag}")
        };
        for sent in [
            etag.as_str(),
            weak.as_str(),
            "*",
            &format!("\"other\", {etag}"),
        ] {
            let again = raw(&app, "GET", path, &[("If-None-Match", sent)]).await;
            assert_eq!(again.status, 304, "{path} with If-None-Match: {sent}");
            assert!(again.body.is_empty());
        }
        let changed = raw(
            &app,
            "GET",
            path,
            &[("If-None-Match", "\"something-else\"")],
        )
        .await;
        assert_eq!(changed.status, 200, "{path}");
    }
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_pages_name_an_image_for_link_previews() {
    let app = spawn_app_with(Overrides {
        server: ServerArgs {
            share_image: Some("https://cdn.example/share.png".to_owned()),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    let writer = app
        .signed_in_as("writer@example.com", "Writer", false)
        .await;
    for (title, content) in [
        (
            "Pictured",
            "Look: ![a cat](/static/cat.png) and ![b](https://x.example/b.png)",
        ),
        ("Plain", "No pictures here."),
    ] {
        app.post_form(
            &writer,
            "/posts/new",
            "/posts",
            &[("title", title), ("content", content), ("action", "save")],
        )
        .await;
    }
    let ids: Vec<uuid::Uuid> = app
        .sql()
        .await
        .query("SELECT id FROM posts", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    for id in ids {
        app.post_form(
            &writer,
            "/posts",
            &format!("/posts/{id}/status"),
            &[("status", "published")],
        )
        .await;
    }
    let (_, pictured) = app.get(&app.new_browser(), "/blog/pictured").await;
    assert!(
        pictured.contains(&format!(
            "<meta property=\"og:image\" content=\"{}/static/cat.png\">",
            app.url
        )),
        "{pictured}"
    );
    let (_, plain) = app.get(&app.new_browser(), "/blog/plain").await;
    assert!(
        plain.contains("<meta property=\"og:image\" content=\"https://cdn.example/share.png\">"),
        "{plain}"
    );
    app.soloist.stop().await.unwrap();
}
