//! Demo data (`soloist seed` without flags): plans, an administrator and a
//! handful of people with profiles, subscriptions in every state with their
//! payments, categories, tags and posts in every status, each with its
//! audit row by the system. Everything is found again by a natural key
//! (plan name, email, category slug, post slug) and created only when
//! missing, in one transaction: a second run changes nothing.
//!
//! The administrator's password is never a fixed one: it is given (on
//! standard input) or generated and shown once.

mod data;

use deadpool_postgres::{GenericClient, Pool};
use time::{Duration, OffsetDateTime};

use crate::accounts::model::{NewUser, Role, UserId};
use crate::accounts::secrets::{
    HashError, Password, PasswordError, PasswordHasherPool, random_token,
};
use crate::accounts::store::{self as accounts, ProfileUpdate};
use crate::audit::{self, Actor};
use crate::billing::model::{NewPayment, NewPlan, Plan};
use crate::billing::store::{self as billing, NewSubscription};
use crate::content::markdown;
use crate::content::model::{NewPost, PostStatus, Tag, TagId};
use crate::content::slug::Slug;
use crate::content::store::{self as content, CategoryFields};
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

fn rfc3339(at: Option<OffsetDateTime>) -> Option<String> {
    at.and_then(|at| {
        at.format(&time::format_description::well_known::Rfc3339)
            .ok()
    })
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
        entity: &str,
        id: uuid::Uuid,
        changes: serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut entry = self.actor.entry("CREATE", entity, Some(id), Some(changes));
        entry.metadata = Some(serde_json::json!({ "source": "seed" }));
        audit::store::record(self.client, &entry).await
    }

    /// The demo plans, created when missing; returns every plan.
    async fn plans(&self, tally: &mut Tally) -> Result<Vec<Plan>, StoreError> {
        let existing: Vec<Plan> = billing::all_plans(self.client)
            .await?
            .into_iter()
            .map(|(plan, _)| plan)
            .collect();
        let mut plans = existing.clone();
        for plan in data::PLANS {
            if existing.iter().any(|known| known.name == plan.name) {
                tally.count(false);
                continue;
            }
            let created = billing::create_plan(
                self.client,
                &NewPlan {
                    name: plan.name.to_owned(),
                    description: Some(plan.description.to_owned()),
                    price_cents: plan.price_cents,
                    currency: "USD".to_owned(),
                    interval: plan.interval,
                    features: plan
                        .features
                        .iter()
                        .map(|&feature| feature.to_owned())
                        .collect(),
                    sort_order: plan.sort_order,
                    stripe_price_id: None,
                },
            )
            .await?;
            self.audit(
                "subscription_plans",
                created.id.0,
                serde_json::json!({
                    "name": { "after": created.name },
                    "description": { "after": created.description },
                    "price_cents": { "after": created.price_cents },
                    "currency": { "after": created.currency },
                    "interval": { "after": created.interval.as_str() },
                    "features": { "after": created.features },
                    "sort_order": { "after": created.sort_order },
                }),
            )
            .await?;
            tally.count(true);
            plans.push(created);
        }
        Ok(plans)
    }

    /// The administrator: created (verified, with `password_hash`),
    /// promoted, or found.
    async fn admin(
        &self,
        email: &str,
        password_hash: Option<&str>,
        tally: &mut Tally,
    ) -> Result<AdminAccount, StoreError> {
        if let Some(user) = accounts::user_by_email(self.client, email).await? {
            tally.count(false);
            if user.role == Role::Admin {
                return Ok(AdminAccount::Existing);
            }
            accounts::set_role(self.client, user.id, Role::Admin).await?;
            let mut entry = self.actor.entry(
                "UPDATE",
                "users",
                Some(user.id.0),
                audit::diff(&[("role", "user".into(), "admin".into())]),
            );
            entry.metadata = Some(serde_json::json!({ "source": "seed" }));
            audit::store::record(self.client, &entry).await?;
            return Ok(AdminAccount::Promoted);
        }
        let Some(password_hash) = password_hash else {
            // Someone created the account between the check and now: it
            // is theirs, and it stays as it is.
            tally.count(false);
            return Ok(AdminAccount::Existing);
        };
        let new = NewUser {
            email: email.to_owned(),
            name: "Administrator".to_owned(),
            role: Role::Admin,
        };
        let Some(user) = accounts::create_user_if_new(self.client, &new, true).await? else {
            tally.count(false);
            return Ok(AdminAccount::Existing);
        };
        accounts::create_profile(self.client, user.id).await?;
        accounts::set_password_hash(self.client, user.id, password_hash).await?;
        self.audit(
            "users",
            user.id.0,
            serde_json::json!({
                "email": { "after": user.email }, "name": { "after": user.name },
                "role": { "after": "admin" }, "password_hash": { "after": "[hidden]" }
            }),
        )
        .await?;
        tally.count(true);
        Ok(AdminAccount::Created {
            generated_password: None,
        })
    }

    /// A demo person with a profile (no password); `true` when made now.
    async fn user(&self, person: &data::DemoUser) -> Result<(UserId, bool), StoreError> {
        if let Some(user) = accounts::user_by_email(self.client, person.email).await? {
            return Ok((user.id, false));
        }
        let new = NewUser {
            email: person.email.to_owned(),
            name: person.name.to_owned(),
            role: Role::User,
        };
        let Some(user) = accounts::create_user_if_new(self.client, &new, true).await? else {
            let user = accounts::user_by_email(self.client, person.email).await?;
            return Ok((crate::db::required(user)?.id, false));
        };
        accounts::create_profile(self.client, user.id).await?;
        let profile = ProfileUpdate {
            name: person.name.to_owned(),
            avatar_url: None,
            bio: Some(person.bio.to_owned()),
            website: person.website.map(str::to_owned),
            location: Some(person.location.to_owned()),
            timezone: person.timezone.to_owned(),
            language: person.language.to_owned(),
            theme: person.theme,
            notifications: true,
        };
        accounts::update_profile(self.client, user.id, &profile).await?;
        self.audit(
            "users",
            user.id.0,
            serde_json::json!({
                "email": { "after": user.email }, "name": { "after": user.name },
                "role": { "after": "user" }, "bio": { "after": profile.bio },
                "website": { "after": profile.website }, "location": { "after": profile.location },
                "timezone": { "after": profile.timezone }, "language": { "after": profile.language },
                "theme": { "after": profile.theme.as_str() },
            }),
        )
        .await?;
        Ok((user.id, true))
    }

    /// A subscription with its payments, unless the user has one: the
    /// number of payments made, or `None` when it was there.
    async fn subscription(
        &self,
        user_id: UserId,
        plan: &Plan,
        demo: &data::DemoSubscription,
    ) -> Result<Option<u32>, StoreError> {
        if billing::subscription_of(self.client, user_id)
            .await?
            .is_some()
        {
            return Ok(None);
        }
        let at = |days: Option<i64>| days.map(|days| self.days_ago(days));
        let subscription = billing::insert_subscription(
            self.client,
            &NewSubscription {
                user_id,
                plan_id: plan.id,
                status: demo.status,
                current_period_start: at(demo.period_start_days_ago),
                current_period_end: at(demo.period_end_days_ago),
                cancel_at_period_end: false,
                canceled_at: at(demo.canceled_days_ago),
                trial_end: at(demo.trial_end_days_ago),
                created_at: self.days_ago(demo.started_days_ago),
            },
        )
        .await?;
        self.audit(
            "subscriptions",
            subscription.id.0,
            serde_json::json!({
                "user_id": { "after": user_id },
                "plan_id": { "after": plan.id },
                "status": { "after": subscription.status.as_str() },
                "current_period_end": { "after": rfc3339(subscription.current_period_end) },
                "trial_end": { "after": rfc3339(subscription.trial_end) },
                "canceled_at": { "after": rfc3339(subscription.canceled_at) },
            }),
        )
        .await?;
        for payment in demo.payments {
            let created = billing::record_payment_at(
                self.client,
                &NewPayment {
                    user_id,
                    subscription_id: Some(subscription.id),
                    amount_cents: plan.price_cents,
                    currency: plan.currency.clone(),
                    status: payment.status,
                    description: Some(payment.description.to_owned()),
                },
                self.days_ago(payment.days_ago),
            )
            .await?;
            self.audit(
                "payments",
                created.id.0,
                serde_json::json!({
                    "user_id": { "after": user_id },
                    "amount_cents": { "after": created.amount_cents },
                    "currency": { "after": created.currency },
                    "status": { "after": created.status.as_str() },
                    "description": { "after": created.description },
                }),
            )
            .await?;
        }
        Ok(Some(u32::try_from(demo.payments.len()).unwrap_or(u32::MAX)))
    }

    /// The demo categories, created when missing: (slug, id) of each.
    async fn categories(
        &self,
        tally: &mut Tally,
    ) -> Result<Vec<(&'static str, crate::content::model::CategoryId)>, StoreError> {
        let existing = content::categories(self.client, true).await?;
        let mut found = Vec::with_capacity(data::CATEGORIES.len());
        for &(name, slug, description, color, sort_order) in data::CATEGORIES {
            if let Some((category, _)) = existing
                .iter()
                .find(|(category, _)| category.slug == slug || category.name == name)
            {
                tally.count(false);
                found.push((slug, category.id));
                continue;
            }
            let category = content::insert_category(
                self.client,
                &CategoryFields {
                    name: name.to_owned(),
                    slug: slug.to_owned(),
                    description: Some(description.to_owned()),
                    color: color.to_owned(),
                    sort_order,
                    is_active: true,
                },
            )
            .await?;
            self.audit(
                "categories",
                category.id.0,
                serde_json::json!({
                    "name": { "after": category.name }, "slug": { "after": category.slug },
                    "description": { "after": category.description },
                    "color": { "after": category.color }, "sort_order": { "after": category.sort_order },
                }),
            )
            .await?;
            tally.count(true);
            found.push((slug, category.id));
        }
        Ok(found)
    }

    /// The tags of the demo posts, created when missing (in slug order, the
    /// order every writer takes tag locks in).
    async fn tags(&self, tally: &mut Tally) -> Result<Vec<(&'static str, Tag)>, StoreError> {
        let mut wanted: Vec<(String, &'static str)> = data::POSTS
            .iter()
            .flat_map(|post| post.tags.iter())
            .map(|&name| (Slug::from_title(name, "tag").into_string(), name))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let mut tags = Vec::with_capacity(wanted.len());
        for (slug, name) in wanted {
            let (tag, created) = content::ensure_tag(self.client, name, &slug).await?;
            if created {
                self.audit(
                    "tags",
                    tag.id.0,
                    serde_json::json!({ "name": { "after": tag.name }, "slug": { "after": tag.slug } }),
                )
                .await?;
            }
            tally.count(created);
            tags.push((name, tag));
        }
        Ok(tags)
    }

    /// A post with its tags, unless its slug is taken; `true` when made now.
    async fn post(
        &self,
        post: &data::DemoPost,
        author: UserId,
        category: Option<crate::content::model::CategoryId>,
        tags: &[(&'static str, Tag)],
    ) -> Result<bool, StoreError> {
        if content::slug_owner(self.client, post.slug).await?.is_some() {
            return Ok(false);
        }
        let chosen: Vec<&Tag> = post
            .tags
            .iter()
            .filter_map(|name| tags.iter().find(|(wanted, _)| wanted == name))
            .map(|(_, tag)| tag)
            .collect();
        let tag_ids: Vec<TagId> = chosen.iter().map(|tag| tag.id).collect();
        let names: Vec<&str> = chosen.iter().map(|tag| tag.name.as_str()).collect();
        let created = content::create_post(
            self.client,
            &NewPost {
                user_id: author,
                title: post.title.to_owned(),
                content: Some(post.content.to_owned()),
                excerpt: Some(markdown::excerpt(post.content)),
                slug: post.slug.to_owned(),
                status: post.status,
                featured: post.featured,
                category_id: category,
            },
        )
        .await?;
        content::set_post_tags(self.client, created.id, &tag_ids).await?;
        let written = self.days_ago(post.days_ago);
        let published = (post.status != PostStatus::Draft).then_some(written);
        content::backdate_post(self.client, created.id, written, published).await?;
        if post.views > 0 {
            content::count_views(self.client, &[created.id.0], &[post.views]).await?;
        }
        self.audit(
            "posts",
            created.id.0,
            serde_json::json!({
                "title": { "after": created.title },
                "slug": { "after": created.slug },
                "status": { "after": created.status.as_str() },
                "excerpt": { "after": created.excerpt },
                "content": { "after": created.content },
                "featured": { "after": created.featured },
                "category_id": { "after": created.category_id },
                "tags": { "after": names },
            }),
        )
        .await?;
        Ok(true)
    }
}
