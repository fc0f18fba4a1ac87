//! Demo data (`soloist seed` without flags): plans, an administrator and a
//! handful of people with profiles, subscriptions in every state with their
//! payments, categories, tags and posts in every status, each with its
//! audit row by the system. Everything is found again by a natural key
//! (plan name, email, category slug, post slug) and created only when
//! missing, in one transaction: a second run changes nothing.
//!
//! The administrator's password is never a fixed one: it is given (on
//! standard input) or generated and shown once.
//!
//! `seed` runs the steps of the `Seeder`, one submodule per concept
//! (`people`, `subscriptions`, `posts`), over the rows in `data`.

mod data;
mod people;
mod posts;
mod subscriptions;

use deadpool_postgres::{GenericClient, Pool};
use time::{Duration, OffsetDateTime};

use crate::accounts::secrets::{
    HashError, Password, PasswordError, PasswordHasherPool, random_token,
};
use crate::accounts::store as accounts;
use crate::audit::{self, Actor, AuditAction, AuditEntity, Change};
use crate::db::StoreError;

/// The administrator's address when none is given.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@example.com";

/// Why seeding failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A statement failed (the transaction was rolled back).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The transaction itself failed.
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No connection.
    #[error("no database connection: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// Hashing the password failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The generated password was refused by the policy.
    #[error(transparent)]
    Password(#[from] PasswordError),
}

/// What to seed with.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    /// The administrator's (lower-case) address.
    pub admin_email: String,
    /// Their password; generated when `None` and the account is new.
    pub admin_password: Option<Password>,
}

/// How many rows of a kind were made, and how many were there already.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Made by this run.
    pub created: u32,
    /// Found by their natural key.
    pub existing: u32,
}

impl Tally {
    fn count(&mut self, created: bool) {
        if created {
            self.created += 1;
        } else {
            self.existing += 1;
        }
    }
}

/// What happened to the administrator account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminAccount {
    /// Created; `generated_password` is set when this run made it up.
    Created {
        /// The password to show once.
        generated_password: Option<String>,
    },
    /// An existing account was made an administrator (password unchanged).
    Promoted,
    /// It was an administrator already (password unchanged).
    Existing,
}

/// What a run did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoReport {
    /// The administrator's address.
    pub admin_email: String,
    /// What happened to it.
    pub admin: AdminAccount,
    /// Plans.
    pub plans: Tally,
    /// Accounts (the administrator included).
    pub users: Tally,
    /// Categories.
    pub categories: Tally,
    /// Tags.
    pub tags: Tally,
    /// Posts.
    pub posts: Tally,
    /// Subscriptions (a subscription's payments are made with it).
    pub subscriptions: Tally,
    /// Payments made by this run.
    pub payments_created: u32,
}

impl DemoReport {
    /// True when this run made nothing.
    pub fn nothing_created(&self) -> bool {
        [
            self.plans,
            self.users,
            self.categories,
            self.tags,
            self.posts,
            self.subscriptions,
        ]
        .iter()
        .all(|tally| tally.created == 0)
            && self.payments_created == 0
    }
}

/// The advisory lock a demo seed holds for its transaction (an arbitrary,
/// fixed key).
const SEED_LOCK: i64 = 0x536f_6c6f_5365_6564;

/// Seeds the demo data set, creating only what is missing.
pub async fn seed(
    pool: &Pool,
    hasher: &PasswordHasherPool,
    options: &DemoOptions,
) -> Result<DemoReport, DemoError> {
    // The hash is made before the transaction opens: no locks are held
    // while argon2 runs.
    let admin_is_new = {
        let client = pool.get().await?;
        accounts::user_by_email(&client, &options.admin_email)
            .await?
            .is_none()
    };
    let mut generated_password = None;
    let password_hash = if admin_is_new {
        let password = match &options.admin_password {
            Some(password) => password.clone(),
            None => {
                let text = generated()?;
                let password = Password::new(&text, &[&options.admin_email])?;
                generated_password = Some(text);
                password
            }
        };
        Some(hasher.hash(&password).await?)
    } else {
        None
    };

    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    // Seeds running at once take turns: each later one finds the earlier
    // one's rows by their natural keys instead of colliding on them.
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&SEED_LOCK])
        .await?;
    let now = OffsetDateTime::now_utc();
    let seeder = Seeder {
        client: &transaction,
        actor: Actor::system(),
        now,
    };
    let mut report = DemoReport {
        admin_email: options.admin_email.clone(),
        admin: AdminAccount::Existing,
        plans: Tally::default(),
        users: Tally::default(),
        categories: Tally::default(),
        tags: Tally::default(),
        posts: Tally::default(),
        subscriptions: Tally::default(),
        payments_created: 0,
    };
    let plans = seeder.plans(&mut report.plans).await?;
    report.admin = seeder
        .admin(
            &options.admin_email,
            password_hash.as_deref(),
            &mut report.users,
        )
        .await?;
    if let AdminAccount::Created { .. } = report.admin {
        report.admin = AdminAccount::Created { generated_password };
    }
    let mut people = Vec::with_capacity(data::USERS.len());
    for person in data::USERS {
        let (user_id, created) = seeder.user(person).await?;
        report.users.count(created);
        people.push((person, user_id));
    }
    for (person, user_id) in &people {
        if let Some(subscription) = &person.subscription {
            let Some(plan) = plans.iter().find(|plan| plan.name == subscription.plan) else {
                continue;
            };
            match seeder.subscription(*user_id, plan, subscription).await? {
                Some(payments) => {
                    report.subscriptions.count(true);
                    report.payments_created += payments;
                }
                None => report.subscriptions.count(false),
            }
        }
    }
    let categories = seeder.categories(&mut report.categories).await?;
    let tags = seeder.tags(&mut report.tags).await?;
    for post in data::POSTS {
        let Some((_, author)) = people
            .iter()
            .find(|(person, _)| person.email == post.author)
        else {
            continue;
        };
        let category = categories
            .iter()
            .find(|(slug, _)| *slug == post.category)
            .map(|(_, id)| *id);
        let created = seeder.post(post, *author, category, &tags).await?;
        report.posts.count(created);
    }
    transaction.commit().await?;
    Ok(report)
}

/// A password to show once: 144 random bits in 24 URL-safe characters.
fn generated() -> Result<String, HashError> {
    Ok(random_token()?.chars().take(24).collect())
}

struct Seeder<'a, C: GenericClient> {
    client: &'a C,
    actor: Actor,
    now: OffsetDateTime,
}

impl<C: GenericClient> Seeder<'_, C> {
    fn days_ago(&self, days: i64) -> OffsetDateTime {
        self.now - Duration::days(days)
    }

    async fn audit(
        &self,
        entity: AuditEntity,
        id: uuid::Uuid,
        changes: Change,
    ) -> Result<(), StoreError> {
        let mut entry = self
            .actor
            .entry(AuditAction::Create, entity, Some(id), changes);
        entry.metadata = Some(serde_json::json!({ "source": "seed" }));
        audit::store::record(self.client, &entry).await
    }
}
