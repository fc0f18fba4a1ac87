//! SQL on `users`: creating and finding users, sign-in bookkeeping, roles,
//! the seed's "user with details" and the admins' user list.

use deadpool_postgres::GenericClient;

use super::rows::user_from;
use crate::accounts::model::{NewUser, Role, User, UserId, UserWithDetails};
use crate::db::{StoreError, from_json, required};

pub(super) const INSERT_USER: &str = "INSERT INTO users (email, name, role) VALUES (lower($1), $2, $3) \
     RETURNING id, email, name, avatar_url, role, email_verified, is_active, last_login_at, created_at, updated_at";
pub(super) const USER_BY_ID: &str = "SELECT id, email, name, avatar_url, role, email_verified, is_active, last_login_at, \
     created_at, updated_at FROM users WHERE id = $1";
pub(super) const USER_BY_EMAIL: &str = "SELECT id, email, name, avatar_url, role, email_verified, is_active, last_login_at, \
     created_at, updated_at FROM users WHERE email = lower($1)";

/// The seed's "user with details" as one statement: the user's columns,
/// then profile, subscription (with its plan nested) and the 10 latest
/// published posts as JSON.
pub(super) const USER_WITH_DETAILS: &str = "\
SELECT to_jsonb(u) AS user_json,
       (SELECT to_jsonb(p) FROM user_profiles p WHERE p.user_id = u.id) AS profile,
       (SELECT to_jsonb(s) || jsonb_build_object('plan', to_jsonb(sp))
          FROM subscriptions s JOIN subscription_plans sp ON sp.id = s.plan_id
         WHERE s.user_id = u.id) AS subscription,
       (SELECT coalesce(jsonb_agg(to_jsonb(latest) ORDER BY latest.published_at DESC), '[]'::jsonb)
          FROM (SELECT * FROM posts po
                 WHERE po.user_id = u.id AND po.status = 'published'
                 ORDER BY po.published_at DESC NULLS LAST
                 LIMIT 10) latest) AS posts
  FROM users u
 WHERE u.id = $1";

pub(super) const INSERT_USER_IF_NEW: &str = "INSERT INTO users (email, name, role, email_verified) VALUES (lower($1), $2, $3, $4) \
     ON CONFLICT (email) DO NOTHING \
     RETURNING id, email, name, avatar_url, role, email_verified, is_active, last_login_at, created_at, updated_at";
pub(super) const MARK_LOGIN: &str = "UPDATE users SET last_login_at = now() WHERE id = $1";
pub(super) const MARK_VERIFIED: &str = "UPDATE users SET email_verified = true WHERE email = lower($1) AND NOT email_verified \
     RETURNING id";
pub(super) const CHANGE_EMAIL: &str = "UPDATE users SET email = lower($2), email_verified = true WHERE id = $1 \
     RETURNING (SELECT email FROM users WHERE id = $1) AS old_email";
pub(super) const ADMIN_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND is_active)";
pub(super) const SET_ROLE: &str = "UPDATE users SET role = $2 WHERE id = $1";

/// Creates a user.
pub async fn create_user(client: &impl GenericClient, user: &NewUser) -> Result<User, StoreError> {
    let statement = client.prepare_cached(INSERT_USER).await?;
    let row = client
        .query_one(&statement, &[&user.email, &user.name, &user.role])
        .await?;
    user_from(&row)
}

/// The user with `id`.
pub async fn user_by_id(
    client: &impl GenericClient,
    id: UserId,
) -> Result<Option<User>, StoreError> {
    let statement = client.prepare_cached(USER_BY_ID).await?;
    client
        .query_opt(&statement, &[&id])
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// The user with `email` (any casing).
pub async fn user_by_email(
    client: &impl GenericClient,
    email: &str,
) -> Result<Option<User>, StoreError> {
    let statement = client.prepare_cached(USER_BY_EMAIL).await?;
    client
        .query_opt(&statement, &[&email])
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// The seed's "user with details" in one round trip.
pub async fn user_with_details(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Option<UserWithDetails>, StoreError> {
    let statement = client.prepare_cached(USER_WITH_DETAILS).await?;
    let Some(row) = client.query_opt(&statement, &[&user_id]).await? else {
        return Ok(None);
    };
    Ok(Some(UserWithDetails {
        user: required(from_json(&row, "user_json")?)?,
        profile: from_json(&row, "profile")?,
        subscription: from_json(&row, "subscription")?,
        posts: from_json(&row, "posts")?.unwrap_or_default(),
    }))
}

/// Creates a user unless the email is taken (then `None`).
pub async fn create_user_if_new(
    client: &impl GenericClient,
    user: &NewUser,
    email_verified: bool,
) -> Result<Option<User>, StoreError> {
    let statement = client.prepare_cached(INSERT_USER_IF_NEW).await?;
    client
        .query_opt(
            &statement,
            &[&user.email, &user.name, &user.role, &email_verified],
        )
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
}

/// Records a successful sign-in.
pub async fn mark_login(client: &impl GenericClient, user_id: UserId) -> Result<(), StoreError> {
    let statement = client.prepare_cached(MARK_LOGIN).await?;
    client.execute(&statement, &[&user_id]).await?;
    Ok(())
}

/// Marks an address verified; the user's id if it changed anything.
pub async fn mark_verified(
    client: &impl GenericClient,
    email: &str,
) -> Result<Option<UserId>, StoreError> {
    let statement = client.prepare_cached(MARK_VERIFIED).await?;
    Ok(client
        .query_opt(&statement, &[&email])
        .await?
        .map(|row| row.get(0)))
}

/// Moves a user to a new (verified) address; returns the old one.
pub async fn change_email(
    client: &impl GenericClient,
    user_id: UserId,
    email: &str,
) -> Result<String, StoreError> {
    let statement = client.prepare_cached(CHANGE_EMAIL).await?;
    Ok(client
        .query_one(&statement, &[&user_id, &email])
        .await?
        .try_get(0)?)
}

/// Whether an active admin exists.
pub async fn admin_exists(client: &impl GenericClient) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(ADMIN_EXISTS).await?;
    Ok(client.query_one(&statement, &[]).await?.get(0))
}

/// Changes a user's role.
pub async fn set_role(
    client: &impl GenericClient,
    user_id: UserId,
    role: Role,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(SET_ROLE).await?;
    client.execute(&statement, &[&user_id, &role]).await?;
    Ok(())
}

/// A user in the admins' list.
#[derive(Clone, Debug)]
pub struct UserListing {
    /// The user.
    pub id: UserId,
    /// Email.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Confirmed email.
    pub email_verified: bool,
    /// Can sign in.
    pub is_active: bool,
    /// Last sign-in.
    pub last_login_at: Option<time::OffsetDateTime>,
    /// Sign-up.
    pub created_at: time::OffsetDateTime,
}

pub(super) const SEARCH_USERS: &str = "SELECT id, email, name, role, email_verified, is_active, last_login_at, created_at \
     FROM users WHERE ($1::text IS NULL OR email ILIKE '%' || $1 || '%' OR name ILIKE '%' || $1 || '%') \
     ORDER BY created_at DESC, id LIMIT $2 OFFSET $3";
pub(super) const SET_ACTIVE: &str = "UPDATE users SET is_active = $2 WHERE id = $1";
pub(super) const OTHER_ACTIVE_ADMINS: &str =
    "SELECT count(*) FROM users WHERE role = 'admin' AND is_active AND id <> $1";

/// Users whose email or name contains `query` (any, when none), newest first.
pub async fn search_users(
    client: &impl GenericClient,
    query: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<UserListing>, StoreError> {
    let statement = client.prepare_cached(SEARCH_USERS).await?;
    let pattern = query.map(|query| {
        query
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    });
    client
        .query(&statement, &[&pattern, &limit, &offset])
        .await?
        .iter()
        .map(|row| {
            Ok(UserListing {
                id: UserId(row.try_get("id")?),
                email: row.try_get("email")?,
                name: row.try_get("name")?,
                role: row.try_get("role")?,
                email_verified: row.try_get("email_verified")?,
                is_active: row.try_get("is_active")?,
                last_login_at: row.try_get("last_login_at")?,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect()
}

/// Lets a user sign in, or not.
pub async fn set_active(
    client: &impl GenericClient,
    user_id: UserId,
    active: bool,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(SET_ACTIVE).await?;
    client.execute(&statement, &[&user_id, &active]).await?;
    Ok(())
}

/// Active admins other than `user_id`.
pub async fn other_active_admins(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<i64, StoreError> {
    let statement = client.prepare_cached(OTHER_ACTIVE_ADMINS).await?;
    Ok(client
        .query_one(&statement, &[&user_id])
        .await?
        .try_get(0)?)
}
