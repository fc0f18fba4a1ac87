//! `soloist admin ...`: administrators.

use std::process::ExitCode;

use clap::Subcommand;

use super::database::{migrated, with_database};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub(super) enum AdminCommand {
    /// Make an administrator: promote an existing account, or create one.
    Create {
        /// The account's email address.
        #[arg(long)]
        email: String,
        /// The name of a new account.
        #[arg(long, default_value = "Administrator")]
        name: String,
        /// Read a password from standard input (needed for a new account;
        /// replaces the password of an existing one).
        #[arg(long)]
        password_stdin: bool,
    },
}

pub(super) async fn admin_create(
    config: &Config,
    email: &str,
    name: &str,
    password_stdin: bool,
) -> anyhow::Result<ExitCode> {
    use crate::accounts::admin::{AdminOutcome, create_admin};
    use crate::accounts::model::{DisplayName, Email};
    use crate::accounts::secrets::{Password, PasswordHasherPool};

    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let name = DisplayName::parse(name).map_err(anyhow::Error::msg)?;
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        let text = line.trim_end_matches(['\n', '\r']);
        Some(Password::new(text, &[&email, &name]).map_err(|error| anyhow::anyhow!("{error}"))?)
    } else {
        None
    };
    let (user, outcome) = with_database(config, |connect| async move {
        migrated(&connect).await?;
        let pool = crate::db::pool(connect.clone(), 1)?;
        let hasher = PasswordHasherPool::new(1)?;
        anyhow::Ok(create_admin(&pool, &hasher, &email, &name, password.as_ref()).await?)
    })
    .await?;
    match outcome {
        AdminOutcome::Created => {
            println!("Created the administrator {} ({}).", user.email, user.id)
        }
        AdminOutcome::Promoted => println!("{} is now an administrator.", user.email),
        AdminOutcome::AlreadyAdmin => println!("{} was already an administrator.", user.email),
    }
    Ok(ExitCode::SUCCESS)
}
