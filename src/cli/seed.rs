//! `soloist seed`: demo data, or a large benchmark set.

use std::process::ExitCode;

use super::database::{migrated, with_database};
use crate::config::Config;

pub(super) async fn seed(config: &Config, users: i32, posts: i32) -> anyhow::Result<ExitCode> {
    if !(0..=1_000_000).contains(&users) || !(0..=10_000_000).contains(&posts) {
        anyhow::bail!("--users takes 0 to 1,000,000 and --posts 0 to 10,000,000");
    }
    let started = with_database(config, |connect| async move {
        let started = std::time::Instant::now();
        migrated(&connect).await?;
        let pool = crate::db::pool(connect.clone(), 1)?;
        let mut client = pool.get().await?;
        let transaction = client.transaction().await?;
        crate::content::seed::generate(&transaction, users, posts).await?;
        transaction.commit().await?;
        client
            .batch_execute("VACUUM (ANALYZE) users, posts, tags, post_tags, categories")
            .await?;
        anyhow::Ok(started)
    })
    .await?;
    println!(
        "Generated {users} writers and {posts} posts (existing ones kept) in {:.1} s.",
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn seed_demo(
    config: &Config,
    admin_email: Option<&str>,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    use crate::accounts::model::Email;
    use crate::accounts::secrets::{Password, PasswordHasherPool};
    use crate::demo::{AdminAccount, DEFAULT_ADMIN_EMAIL, DemoOptions, Tally};

    let admin_email = Email::parse(admin_email.unwrap_or(DEFAULT_ADMIN_EMAIL))
        .map(Email::into_string)
        .map_err(anyhow::Error::msg)?;
    let admin_password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let text = line.trim_end_matches(['\n', '\r']);
        Some(Password::new(text, &[&admin_email]).map_err(|error| anyhow::anyhow!("{error}"))?)
    } else {
        None
    };
    let report = with_database(config, |connect| async move {
        migrated(&connect).await?;
        let pool = crate::db::pool(connect.clone(), 1)?;
        let hasher = PasswordHasherPool::new(1)?;
        let options = DemoOptions {
            admin_email,
            admin_password,
        };
        anyhow::Ok(crate::demo::seed(&pool, &hasher, &options).await?)
    })
    .await?;
    let line = |kind: &str, tally: Tally| {
        println!(
            "  {kind:<14} {:>3} created, {:>3} already there",
            tally.created, tally.existing
        );
    };
    println!("Demo data:");
    line("plans", report.plans);
    line("users", report.users);
    line("subscriptions", report.subscriptions);
    println!(
        "  {:<14} {:>3} created",
        "payments", report.payments_created
    );
    line("categories", report.categories);
    line("tags", report.tags);
    line("posts", report.posts);
    match &report.admin {
        AdminAccount::Created {
            generated_password: Some(password),
        } => {
            println!("Administrator: {}", report.admin_email);
            println!("Password:      {password}");
            println!("  (shown only this once; change it at /account/security after signing in)");
        }
        AdminAccount::Created {
            generated_password: None,
        } => println!(
            "Administrator: {} (with the password given)",
            report.admin_email
        ),
        AdminAccount::Promoted => println!(
            "Administrator: {} (an existing account, now an administrator; password unchanged)",
            report.admin_email
        ),
        AdminAccount::Existing => println!(
            "Administrator: {} (already there; password unchanged: `soloist admin create --password-stdin` sets one)",
            report.admin_email
        ),
    }
    if report.nothing_created() {
        println!("Nothing to do: the demo data was already there.");
    }
    Ok(ExitCode::SUCCESS)
}
