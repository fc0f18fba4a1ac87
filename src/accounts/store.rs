//! All SQL on `users`, `user_profiles`, `accounts`, `sessions` and
//! `verification_tokens`. Functions take any client (pooled connection or
//! transaction) so callers compose them into one transaction.

use deadpool_postgres::GenericClient;
use time::OffsetDateTime;
use tokio_postgres::Row;

use crate::db::{StoreError, from_json, required};

use super::model::{
    Account, NewAccount, NewUser, Profile, Session, User, UserId, UserWithDetails,
    VerificationToken, VerificationTokenType,
};

const INSERT_USER: &str = "INSERT INTO users (email, name, role) VALUES (lower($1), $2, $3) \
     RETURNING id, email, name, avatar_url, role, email_verified, is_active, last_login_at, created_at, updated_at";
const USER_BY_ID: &str = "SELECT id, email, name, avatar_url, role, email_verified, is_active, last_login_at, \
     created_at, updated_at FROM users WHERE id = $1";
const USER_BY_EMAIL: &str = "SELECT id, email, name, avatar_url, role, email_verified, is_active, last_login_at, \
     created_at, updated_at FROM users WHERE email = lower($1)";
const INSERT_PROFILE: &str = "INSERT INTO user_profiles (user_id) VALUES ($1) \
     RETURNING to_jsonb(user_profiles.*)";
const PROFILE_OF: &str = "SELECT to_jsonb(p) FROM user_profiles p WHERE p.user_id = $1";
const INSERT_ACCOUNT: &str = "INSERT INTO accounts (user_id, provider, provider_account_id, type) \
     VALUES ($1, $2, $3, $4) \
     RETURNING id, user_id, provider, provider_account_id, type, access_token, refresh_token, expires_at, scope, created_at";
const ACCOUNTS_OF: &str = "SELECT id, user_id, provider, provider_account_id, type, access_token, refresh_token, \
     expires_at, scope, created_at FROM accounts WHERE user_id = $1 ORDER BY created_at";
const INSERT_SESSION: &str = "INSERT INTO sessions (user_id, token, expires_at, ip_address, user_agent) \
     VALUES ($1, $2, $3, $4, $5) \
     RETURNING id, user_id, token, expires_at, ip_address, user_agent, is_active, created_at";
const SESSIONS_OF: &str = "SELECT id, user_id, token, expires_at, ip_address, user_agent, is_active, created_at \
     FROM sessions WHERE user_id = $1 ORDER BY created_at DESC";
const INSERT_VERIFICATION_TOKEN: &str = "INSERT INTO verification_tokens (email, token, type, expires_at) \
     VALUES (lower($1), $2, $3, $4) RETURNING id, email, token, type, expires_at, used_at, created_at";

/// The seed's "user with details" as one statement: the user's columns,
/// then profile, subscription (with its plan nested) and the 10 latest
/// published posts as JSON.
const USER_WITH_DETAILS: &str = "\
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

/// Every statement of this store, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[
    INSERT_USER,
    USER_BY_ID,
    USER_BY_EMAIL,
    INSERT_PROFILE,
    PROFILE_OF,
    INSERT_ACCOUNT,
    ACCOUNTS_OF,
    INSERT_SESSION,
    SESSIONS_OF,
    INSERT_VERIFICATION_TOKEN,
    USER_WITH_DETAILS,
];

fn user_from(row: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        avatar_url: row.try_get("avatar_url")?,
        role: row.try_get("role")?,
        email_verified: row.try_get("email_verified")?,
        is_active: row.try_get("is_active")?,
        last_login_at: row.try_get("last_login_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn account_from(row: &Row) -> Result<Account, StoreError> {
    Ok(Account {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        provider: row.try_get("provider")?,
        provider_account_id: row.try_get("provider_account_id")?,
        kind: row.try_get("type")?,
        access_token: row.try_get("access_token")?,
        refresh_token: row.try_get("refresh_token")?,
        expires_at: row.try_get("expires_at")?,
        scope: row.try_get("scope")?,
        created_at: row.try_get("created_at")?,
    })
}

fn session_from(row: &Row) -> Result<Session, StoreError> {
    Ok(Session {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        token_hash: row.try_get("token")?,
        expires_at: row.try_get("expires_at")?,
        ip_address: row.try_get("ip_address")?,
        user_agent: row.try_get("user_agent")?,
        is_active: row.try_get("is_active")?,
        created_at: row.try_get("created_at")?,
    })
}

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

/// Creates a user's profile with the seed's defaults.
pub async fn create_profile(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Profile, StoreError> {
    let statement = client.prepare_cached(INSERT_PROFILE).await?;
    let row = client.query_one(&statement, &[&user_id]).await?;
    required(from_json(&row, "to_jsonb")?)
}

/// A user's profile.
pub async fn profile_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Option<Profile>, StoreError> {
    let statement = client.prepare_cached(PROFILE_OF).await?;
    match client.query_opt(&statement, &[&user_id]).await? {
        Some(row) => from_json(&row, "to_jsonb"),
        None => Ok(None),
    }
}

/// Links a sign-in account to a user.
pub async fn link_account(
    client: &impl GenericClient,
    account: &NewAccount,
) -> Result<Account, StoreError> {
    let statement = client.prepare_cached(INSERT_ACCOUNT).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &account.user_id,
                &account.provider,
                &account.provider_account_id,
                &account.kind,
            ],
        )
        .await?;
    account_from(&row)
}

/// A user's linked accounts, oldest first.
pub async fn accounts_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Vec<Account>, StoreError> {
    let statement = client.prepare_cached(ACCOUNTS_OF).await?;
    client
        .query(&statement, &[&user_id])
        .await?
        .iter()
        .map(account_from)
        .collect()
}

/// Records a session whose cookie token hashes to `token_hash`.
pub async fn create_session(
    client: &impl GenericClient,
    user_id: UserId,
    token_hash: &str,
    expires_at: OffsetDateTime,
    ip_address: Option<&str>,
    user_agent: Option<&str>,
) -> Result<Session, StoreError> {
    let statement = client.prepare_cached(INSERT_SESSION).await?;
    let row = client
        .query_one(
            &statement,
            &[&user_id, &token_hash, &expires_at, &ip_address, &user_agent],
        )
        .await?;
    session_from(&row)
}

/// A user's sessions, newest first.
pub async fn sessions_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Vec<Session>, StoreError> {
    let statement = client.prepare_cached(SESSIONS_OF).await?;
    client
        .query(&statement, &[&user_id])
        .await?
        .iter()
        .map(session_from)
        .collect()
}

/// Records a verification token whose link value hashes to `token_hash`.
pub async fn create_verification_token(
    client: &impl GenericClient,
    email: &str,
    token_hash: &str,
    kind: VerificationTokenType,
    expires_at: OffsetDateTime,
) -> Result<VerificationToken, StoreError> {
    let statement = client.prepare_cached(INSERT_VERIFICATION_TOKEN).await?;
    let row = client
        .query_one(&statement, &[&email, &token_hash, &kind, &expires_at])
        .await?;
    Ok(VerificationToken {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        token_hash: row.try_get("token")?,
        kind: row.try_get("type")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        created_at: row.try_get("created_at")?,
    })
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
