//! `soloist seed`: the demo data set through the real binary, the pages
//! that show it, and a second run that changes nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Output, Stdio};

use crate::support::{TestApp, command, spawn_app};

fn run_seed(app: &TestApp, args: &[&str], stdin: Option<&str>) -> Output {
    let url = app.db.url();
    let mut all = vec!["seed", "--database-url", url.as_str()];
    all.extend_from_slice(args);
    let mut child = command(&all)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "soloist seed failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every table (partitioned ones as a whole): its row count and a digest
/// of all its rows, so an UPDATE shows as well as an INSERT.
async fn fingerprint(app: &TestApp) -> BTreeMap<String, (i64, String)> {
    let client = app.sql().await;
    let tables: Vec<String> = client
        .query(
            "SELECT c.relname FROM pg_class c \
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') \
               AND NOT c.relispartition ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(tables.len() >= 13, "{tables:?}");
    let mut prints = BTreeMap::new();
    for table in tables {
        let row = client
            .query_one(
                &format!(
                    "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM \"{table}\" t"
                ),
                &[],
            )
            .await
            .unwrap();
        prints.insert(table, (row.get(0), row.get(1)));
    }
    prints
}

/// (created, already there) from the line of `kind` in the seed's report.
fn tally(output: &str, kind: &str) -> (u32, u32) {
    let line = output
        .lines()
        .find(|line| line.split_whitespace().next() == Some(kind))
        .unwrap_or_else(|| panic!("no {kind} line in {output}"));
    let numbers: Vec<u32> = line
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    (numbers[0], numbers.get(1).copied().unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seed_fills_every_page_and_a_second_run_changes_nothing() {
    let app = spawn_app().await;
    let first = stdout(&run_seed(&app, &[], None));
    assert_eq!(tally(&first, "plans"), (3, 0), "{first}");
    assert_eq!(tally(&first, "users"), (8, 0), "the admin and seven people");
    assert_eq!(tally(&first, "subscriptions"), (6, 0));
    assert_eq!(tally(&first, "payments").0, 10);
    assert_eq!(tally(&first, "categories"), (4, 0));
    assert_eq!(tally(&first, "posts"), (9, 0));
    let (tags, _) = tally(&first, "tags");
    assert_eq!(tally(&first, "tags"), (tags, 0), "each tag counted once");
    let password = first
        .lines()
        .find_map(|line| line.strip_prefix("Password:"))
        .map(|password| password.trim().to_owned())
        .unwrap_or_else(|| panic!("no generated password shown: {first}"));
    assert!(password.len() >= 20, "a long generated password");
    assert!(
        first.contains("Administrator: admin@example.com"),
        "{first}"
    );

    let before = fingerprint(&app).await;
    let second = stdout(&run_seed(&app, &[], None));
    assert_eq!(tally(&second, "plans"), (0, 3), "{second}");
    assert_eq!(tally(&second, "users"), (0, 8));
    assert_eq!(tally(&second, "subscriptions"), (0, 6));
    assert_eq!(tally(&second, "payments").0, 0);
    assert_eq!(tally(&second, "posts"), (0, 9));
    assert_eq!(tally(&second, "tags"), (0, tags));
    assert!(second.contains("Nothing to do"), "{second}");
    assert!(
        !second.contains("Password:"),
        "the password is shown only once: {second}"
    );
    assert_eq!(
        fingerprint(&app).await,
        before,
        "the second run changed nothing"
    );

    // Subscriptions in every state, payments of every outcome.
    assert_eq!(
        app.count(
            "SELECT count(DISTINCT status || (trial_end IS NOT NULL)::text) FROM subscriptions"
        )
        .await,
        4,
        "active, trialing (active with trial_end), past_due and canceled"
    );
    assert_eq!(
        app.count("SELECT count(DISTINCT status) FROM payments")
            .await,
        3,
        "succeeded, failed and refunded"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_logs WHERE user_id IS NULL AND action = 'CREATE' \
             AND metadata->>'source' = 'seed'"
        )
        .await,
        3 + 8 + 6 + 10 + 4 + app.count("SELECT count(*) FROM tags").await + 9,
        "one audit row by the system for everything it created"
    );

    let visitor = app.new_browser();
    let (status, pricing) = app.get(&visitor, "/pricing").await;
    assert_eq!(status, 200);
    for shown in [
        "Free",
        "Pro",
        "Team",
        "$15.00 / month",
        "$1,200.00 / year",
        "Featured posts",
    ] {
        assert!(pricing.contains(shown), "/pricing shows {shown}");
    }
    let (status, blog) = app.get(&visitor, "/blog").await;
    assert_eq!(status, 200);
    assert!(blog.contains("One binary, one database, zero pagers"));
    assert!(blog.contains("Designing a pricing page people trust"));
    assert!(blog.contains("Maya Chen"));
    assert!(!blog.contains("sharding"), "a draft is not listed");
    assert!(
        !blog.contains("Our old style guide"),
        "an archived post is not listed"
    );
    let (status, post) = app
        .get(&visitor, "/blog/backups-you-have-actually-restored")
        .await;
    assert_eq!(status, 200);
    assert!(post.contains("<code"), "Markdown is rendered");
    let (status, _) = app.get(&visitor, "/blog/sharding-is-a-last-resort").await;
    assert_eq!(status, 404, "a draft is not public");
    let (_, home) = app.get(&visitor, "/").await;
    assert!(
        home.contains("One binary, one database, zero pagers"),
        "featured on the home page"
    );
    let (status, _) = app.get(&visitor, "/setup").await;
    assert_eq!(status, 404, "the seeded admin closes first-run setup");

    let admin = app.new_browser();
    let response = app.sign_in(&admin, "admin@example.com", &password).await;
    assert_eq!(response.status(), 303, "the printed password signs in");
    let (status, overview) = app.get(&admin, "/admin").await;
    assert_eq!(status, 200);
    // Pro $15 (active) + Pro $15 (trialing) + Team $1,200 a year / 12 + Free.
    assert!(overview.contains("$130.00"), "MRR of the active plans");
    let (_, users) = app.get(&admin, "/admin/users").await;
    assert!(users.contains("Lucas Martin") && users.contains("priya.nair@example.com"));
    let (_, subscriptions) = app.get(&admin, "/admin/subscriptions").await;
    assert!(subscriptions.contains("Sofia Rossi"));
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_demo_seeds_at_once_all_succeed_and_create_each_row_once() {
    let app = spawn_app().await;
    let outputs: Vec<Output> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| run_seed(&app, &[], None)))
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    });
    let outputs: Vec<String> = outputs.iter().map(stdout).collect();
    for (kind, rows) in [("plans", 3), ("users", 8), ("categories", 4), ("posts", 9)] {
        let created: u32 = outputs.iter().map(|output| tally(output, kind).0).sum();
        assert_eq!(created, rows, "{kind} created once in all: {outputs:?}");
    }
    assert_eq!(app.count("SELECT count(*) FROM users").await, 8);
    assert_eq!(
        outputs
            .iter()
            .filter(|output| output.contains("Password:"))
            .count(),
        1,
        "one run made the admin and showed its password"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seed_takes_the_admin_email_and_password_on_stdin() {
    let app = spawn_app().await;
    let output = stdout(&run_seed(
        &app,
        &["--admin-email", "Owner@Example.org", "--password-stdin"],
        Some("a long and private passphrase\n"),
    ));
    assert!(
        output.contains("Administrator: owner@example.org (with the password given)"),
        "{output}"
    );
    assert!(!output.contains("Password:"), "{output}");
    let admin = app.new_browser();
    let response = app
        .sign_in(&admin, "owner@example.org", "a long and private passphrase")
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'admin@example.com'")
            .await,
        0
    );

    let weak = run_seed(
        &app,
        &["--admin-email", "x@example.org", "--password-stdin"],
        Some("password\n"),
    );
    assert!(!weak.status.success(), "a weak password is refused");
    assert!(String::from_utf8_lossy(&weak.stderr).contains("too common"));
    let mixed = run_seed(
        &app,
        &["--users", "3", "--admin-email", "x@example.org"],
        None,
    );
    assert_eq!(
        mixed.status.code(),
        Some(2),
        "demo flags do not mix with --users"
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_with_users_and_posts_still_generates_the_benchmark_set() {
    let app = spawn_app().await;
    let output = stdout(&run_seed(&app, &["--users", "5", "--posts", "40"], None));
    assert!(
        output.contains("Generated 5 writers and 40 posts"),
        "{output}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email LIKE 'writer-%'")
            .await,
        5
    );
    assert_eq!(app.count("SELECT count(*) FROM posts").await, 40);
    assert_eq!(
        app.count("SELECT count(*) FROM subscription_plans").await,
        0,
        "no demo data"
    );
    // Tag counts are right, and the trigger that keeps them is on again.
    let wrong_counts = "SELECT count(*) FROM tags WHERE usage_count <> \
         (SELECT count(*) FROM post_tags WHERE tag_id = tags.id)";
    assert_eq!(app.count(wrong_counts).await, 0);
    app.sql()
        .await
        .execute(
            "DELETE FROM post_tags WHERE post_id = (SELECT id FROM posts ORDER BY slug LIMIT 1)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(app.count(wrong_counts).await, 0, "counted by the trigger");
    app.soloist.stop().await.unwrap();
}
