//! Every kind of mail Soloist sends, delivered over SMTP to a real,
//! independent server (Python's aiosmtpd, writing a Maildir), read by a
//! real mail parser (Python's `email` with `policy.default`), and scored by
//! SpamAssassin (`spamassassin -L -t`, local tests only). `.ci/run`
//! installs all three.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use soloist::config::{GithubArgs, MailArgs, Overrides, ServerArgs};

use crate::support::{PASSWORD, free_port, scratch_dir, spawn_app_with};

const CHECKER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mail/check.py");

/// aiosmtpd on a port of its own, keeping each message in a Maildir.
struct Aiosmtpd {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl Aiosmtpd {
    fn start() -> Self {
        let maildir = scratch_dir().join("maildir");
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox", maildir.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("python3 -m aiosmtpd (pip install aiosmtpd; .ci/run does): {error}")
            });
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            port,
            maildir,
        }
    }

    /// The messages received so far.
    fn messages(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.maildir.join("new"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// Waits until `count` messages arrived.
    async fn wait_for(&self, count: usize) -> Vec<PathBuf> {
        let started = Instant::now();
        loop {
            let files = self.messages();
            if files.len() >= count {
                return files;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{} of {count} messages arrived",
                files.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// What Python's parser saw in a message.
#[derive(serde::Deserialize, Debug)]
struct Parsed {
    subject: String,
    to: String,
    message_id: String,
    date: String,
    mime_version: String,
    content_type: String,
    parts: Vec<String>,
    defects: Vec<String>,
    text_links: Vec<String>,
    html_links: Vec<String>,
    buttons: Vec<String>,
    html_text: String,
}

fn parse(path: &Path) -> Parsed {
    let output = Command::new("python3")
        .arg(CHECKER)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// SpamAssassin's score and the rules that hit.
fn spam_score(path: &Path) -> (f64, String) {
    let output = Command::new("spamassassin")
        .args(["-L", "-t"])
        .stdin(std::fs::File::open(path).unwrap())
        .output()
        .unwrap_or_else(|error| {
            panic!("spamassassin (apt-get install spamassassin; .ci/run does): {error}")
        });
    let text = String::from_utf8_lossy(&output.stdout).replace("\n\t", " ");
    let status = text
        .lines()
        .find(|line| line.starts_with("X-Spam-Status:"))
        .unwrap_or_else(|| panic!("no X-Spam-Status from spamassassin:\n{text}"))
        .to_owned();
    let score = status
        .split("score=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|score| score.parse().ok())
        .unwrap_or_else(|| panic!("no score in {status}"));
    let tests = status
        .split("tests=")
        .nth(1)
        .unwrap_or("")
        .split(" autolearn=")
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect::<String>();
    (score, tests)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_mail_parses_cleanly_has_both_parts_and_scores_under_2_in_spamassassin() {
    let smtp = Aiosmtpd::start();
    let (provider, provider_url) = crate::oauth::start_provider().await;
    let app = spawn_app_with(Overrides {
        mail: MailArgs {
            smtp_url: Some(format!("smtp://127.0.0.1:{}", smtp.port)),
            from: Some("Soloist <no-reply@soloist.example>".to_owned()),
        },
        server: ServerArgs {
            base_url: Some("http://soloist.example".to_owned()),
            ..ServerArgs::default()
        },
        github: GithubArgs {
            client_id: Some("client".into()),
            client_secret: Some("secret".into()),
            url: Some(provider_url.clone()),
            api_url: Some(provider_url),
        },
        ..Overrides::default()
    })
    .await;
    let mut expected = 0;
    // 1. A sign-up's confirmation link, and 2. the notice a second
    // sign-up with the same address sends.
    for _ in 0..2 {
        let response = app
            .sign_up(
                &app.new_browser(),
                "Ada Lovelace",
                "ada@example.com",
                PASSWORD,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        expected += 1;
    }
    smtp.wait_for(expected).await;
    // 3. A new confirmation link.
    app.post_form(
        &app.new_browser(),
        "/sign-in",
        "/verify-email/resend",
        &[("email", "ada@example.com")],
    )
    .await;
    expected += 1;
    let member = app
        .signed_in_as("member@example.com", "Member", false)
        .await;
    // 4. A reset link, then 5. the notice that the password changed.
    app.post_form(
        &app.new_browser(),
        "/reset-password",
        "/reset-password",
        &[("email", "member@example.com")],
    )
    .await;
    expected += 1;
    let files = smtp.wait_for(expected).await;
    let reset = files
        .iter()
        .map(|file| parse(file))
        .find(|parsed| parsed.subject.starts_with("Reset your"))
        .unwrap();
    let token = reset.text_links[0]
        .split("token=")
        .nth(1)
        .unwrap()
        .to_owned();
    let done = app
        .post_form(
            &app.new_browser(),
            "/sign-in",
            "/reset-password/confirm",
            &[("token", &token), ("password", "a second long passphrase")],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    expected += 1;
    // 6. A magic link.
    app.post_form(
        &app.new_browser(),
        "/magic-link",
        "/magic-link",
        &[("email", "member@example.com")],
    )
    .await;
    expected += 1;
    // 7. A link to choose a first password.
    let other = app.signed_in_as("other@example.com", "Other", false).await;
    app.post_form(&other, "/account/security", "/account/password/link", &[])
        .await;
    expected += 1;
    // 8. An email change's link, and 9. the notice an email change to a
    // taken address sends that address.
    app.post_form(
        &other,
        "/account/profile",
        "/account/email",
        &[("email", "new@example.com"), ("password", PASSWORD)],
    )
    .await;
    app.post_form(
        &other,
        "/account/profile",
        "/account/email",
        &[("email", "member@example.com"), ("password", PASSWORD)],
    )
    .await;
    expected += 2;
    drop(member);
    // 10. Confirming the change tells the old address.
    let files = smtp.wait_for(expected).await;
    let change = files
        .iter()
        .map(|file| parse(file))
        .find(|parsed| parsed.to.contains("new@example.com"))
        .unwrap();
    let token = change.text_links[0]
        .split("token=")
        .nth(1)
        .unwrap()
        .to_owned();
    let moved = app.verify(&app.new_browser(), &token).await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    expected += 1;
    // 11. Connecting GitHub to an account tells its owner.
    crate::oauth::set(&provider, 77, "member@example.com", true);
    let browser = app.new_browser();
    let start = browser
        .get(format!("{}/auth/github", app.url))
        .send()
        .await
        .unwrap();
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let back = browser.get(&authorize).send().await.unwrap();
    // The provider sends the browser to the public base URL; this test's
    // browser reaches the same server on its local address.
    let callback = back.headers()["location"]
        .to_str()
        .unwrap()
        .replace("http://soloist.example", &app.url);
    let linked = browser.get(callback).send().await.unwrap();
    assert_eq!(linked.status(), StatusCode::SEE_OTHER);
    expected += 1;
    let files = smtp.wait_for(expected).await;
    assert_eq!(files.len(), expected);
    let subjects: Vec<String> = files.iter().map(|file| parse(file).subject).collect();
    assert!(
        subjects
            .iter()
            .any(|subject| subject == "GitHub was connected to your Soloist account"),
        "{subjects:?}"
    );

    let scores: Vec<String> = files.iter().map(|file| check_delivered(file)).collect();
    println!("SpamAssassin scores (local tests):\n{}", scores.join("\n"));
    app.soloist.stop().await.unwrap();
}

/// Checks one delivered message as a mail client and a spam filter see it:
/// no parser defects, the headers, both parts, a button for each one-time
/// link, links to the site only, and a SpamAssassin score under 2. Returns
/// the score line.
fn check_delivered(file: &Path) -> String {
    let parsed = parse(file);
    let what = &parsed.subject;
    assert!(parsed.defects.is_empty(), "{what}: {:?}", parsed.defects);
    assert!(
        parsed.message_id.starts_with('<') && parsed.message_id.ends_with("@soloist.example>"),
        "{what}: Message-ID {}",
        parsed.message_id
    );
    assert!(!parsed.date.is_empty(), "{what}: no Date");
    assert_eq!(parsed.mime_version, "1.0", "{what}");
    assert_eq!(parsed.content_type, "multipart/alternative", "{what}");
    assert_eq!(parsed.parts, ["text/plain", "text/html"], "{what}");
    // Each message is its own template in the site's layout: the site's
    // name, and a button for a message's one-time link.
    assert!(parsed.html_text.contains("Soloist"), "{what}: no site name");
    for link in parsed
        .text_links
        .iter()
        .filter(|link| link.contains("token="))
    {
        assert!(
            parsed.buttons.contains(link),
            "{what}: no button for {link}: {:?}",
            parsed.buttons
        );
    }
    for link in &parsed.text_links {
        assert!(
            link.starts_with("http://soloist.example/"),
            "{what}: {link}"
        );
        assert!(
            parsed.html_links.contains(link),
            "{what}: {link} is not a link in the HTML part"
        );
    }
    let (score, tests) = spam_score(file);
    assert!(
        score < 2.0,
        "{what} scores {score} in SpamAssassin: {tests}"
    );
    format!("{score:>5.1}  {what}  ({tests})")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_in_german_parses_cleanly_with_its_subject_decoded_and_scores_under_2_in_spamassassin()
{
    let smtp = Aiosmtpd::start();
    let app = spawn_app_with(Overrides {
        mail: MailArgs {
            smtp_url: Some(format!("smtp://127.0.0.1:{}", smtp.port)),
            from: Some("Soloist <no-reply@soloist.example>".to_owned()),
        },
        server: ServerArgs {
            base_url: Some("http://soloist.example".to_owned()),
            ..ServerArgs::default()
        },
        ..Overrides::default()
    })
    .await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT_LANGUAGE,
        reqwest::header::HeaderValue::from_static("de-DE,de;q=0.9,en;q=0.5"),
    );
    crate::support::browser();
    let german = || {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .default_headers(headers.clone())
            .build()
            .unwrap()
    };
    // 1. A confirmation link, and 2. the notice a second sign-up sends,
    // both in the language the browser asks for.
    for _ in 0..2 {
        let response = app
            .sign_up(&german(), "Ada Lovelace", "ada@example.com", PASSWORD)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    smtp.wait_for(2).await;
    // 3. A reset link and 4. a sign-in link for a member whose profile is German.
    app.create_account("grete@example.com", "Grete", false)
        .await;
    app.sql()
        .await
        .execute(
            "UPDATE user_profiles SET language = 'de' \
             WHERE user_id = (SELECT id FROM users WHERE email = 'grete@example.com')",
            &[],
        )
        .await
        .unwrap();
    for (page, form) in [
        ("/reset-password", "/reset-password"),
        ("/magic-link", "/magic-link"),
    ] {
        app.post_form(
            &app.new_browser(),
            page,
            form,
            &[("email", "grete@example.com")],
        )
        .await;
    }
    let files = smtp.wait_for(4).await;
    let mut subjects: Vec<String> = files.iter().map(|file| parse(file).subject).collect();
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "Bestätigen Sie Ihre E-Mail-Adresse für Soloist",
            "Ihr Anmeldelink für Soloist",
            "Jemand wollte mit Ihrer Adresse ein Konto bei Soloist anlegen",
            "Setzen Sie Ihr Passwort für Soloist zurück",
        ]
    );
    let scores: Vec<String> = files.iter().map(|file| check_delivered(file)).collect();
    println!(
        "SpamAssassin scores, German (local tests):\n{}",
        scores.join("\n")
    );
    app.soloist.stop().await.unwrap();
}
