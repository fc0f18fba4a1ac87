//! All SQL on `users`, `user_profiles`, `accounts`, `sessions` and
//! `verification_tokens`. Functions take any client (pooled connection or
//! transaction) so callers compose them into one transaction.

use deadpool_postgres::GenericClient;
use time::OffsetDateTime;
use tokio_postgres::Row;

use crate::db::{StoreError, from_json, required};

use super::model::{
    Account, NewAccount, NewUser, Profile, Role, Session, SessionId, Theme, User, UserId,
    UserWithDetails, VerificationToken, VerificationTokenType,
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

// ---- sign-in: credentials, sessions, tokens, profiles ----

const CREDENTIALS_BY_EMAIL: &str = "SELECT to_jsonb(u) AS user_json, a.password_hash FROM users u \
     LEFT JOIN accounts a ON a.user_id = u.id AND a.provider = 'credentials' WHERE u.email = lower($1)";
const CREDENTIALS_OF: &str =
    "SELECT password_hash FROM accounts WHERE user_id = $1 AND provider = 'credentials'";
const SET_PASSWORD: &str = "INSERT INTO accounts (user_id, provider, provider_account_id, type, password_hash) \
     VALUES ($1::uuid, 'credentials', ($1::uuid)::text, 'credentials', $2) \
     ON CONFLICT (provider, provider_account_id) DO UPDATE SET password_hash = excluded.password_hash \
     RETURNING (xmax = 0) AS created";
const INSERT_USER_IF_NEW: &str = "INSERT INTO users (email, name, role, email_verified) VALUES (lower($1), $2, $3, $4) \
     ON CONFLICT (email) DO NOTHING \
     RETURNING id, email, name, avatar_url, role, email_verified, is_active, last_login_at, created_at, updated_at";
const SESSION_USER: &str = "SELECT s.id AS session_id, s.last_seen_at < now() - interval '1 minute' AS stale, \
            to_jsonb(u) AS user_json, p.theme, p.timezone \
       FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN user_profiles p ON p.user_id = u.id \
      WHERE s.token = $1 AND s.is_active AND s.expires_at > now() \
        AND s.last_seen_at > now() - make_interval(secs => $2) AND u.is_active AND u.email_verified";
const TOUCH_SESSION: &str = "UPDATE sessions SET last_seen_at = now() WHERE id = $1";
const END_SESSION: &str = "UPDATE sessions SET is_active = false WHERE id = $1 AND user_id = $2 AND is_active \
     RETURNING id";
const END_OTHER_SESSIONS: &str = "UPDATE sessions SET is_active = false \
     WHERE user_id = $1 AND is_active AND id IS DISTINCT FROM $2 RETURNING id";
const ACTIVE_SESSIONS_OF: &str = "SELECT id, user_id, token, expires_at, ip_address, user_agent, is_active, created_at, \
     last_seen_at FROM sessions WHERE user_id = $1 AND is_active AND expires_at > now() \
     ORDER BY last_seen_at DESC";
const MARK_LOGIN: &str = "UPDATE users SET last_login_at = now() WHERE id = $1";
const REDEEM_TOKEN: &str = "UPDATE verification_tokens SET used_at = now() \
     WHERE token = $1 AND type = $2 AND used_at IS NULL AND expires_at > now() RETURNING email, user_id";
const PEEK_TOKEN: &str = "SELECT email, user_id FROM verification_tokens \
     WHERE token = $1 AND type = $2 AND used_at IS NULL AND expires_at > now()";
const INSERT_TOKEN_FOR_USER: &str = "INSERT INTO verification_tokens (email, token, type, expires_at, user_id) \
     VALUES (lower($1), $2, $3, $4, $5) RETURNING id";
const MARK_VERIFIED: &str = "UPDATE users SET email_verified = true WHERE email = lower($1) AND NOT email_verified \
     RETURNING id";
const CHANGE_EMAIL: &str = "UPDATE users SET email = lower($2), email_verified = true WHERE id = $1 \
     RETURNING (SELECT email FROM users WHERE id = $1) AS old_email";
const UPDATE_PROFILE: &str = "UPDATE user_profiles SET bio = $2, website = $3, location = $4, timezone = $5, \
     language = $6, theme = $7, notifications_enabled = $8 WHERE user_id = $1 \
     RETURNING to_jsonb(user_profiles.*) AS profile";
const UPDATE_USER_CARD: &str = "UPDATE users SET name = $2, avatar_url = $3 WHERE id = $1";
const ADMIN_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND is_active)";
const SET_ROLE: &str = "UPDATE users SET role = $2 WHERE id = $1";
const USER_BY_PROVIDER_ACCOUNT: &str = "SELECT u.id, u.email, u.name, u.avatar_url, u.role, u.email_verified, \
     u.is_active, u.last_login_at, u.created_at, u.updated_at FROM accounts a JOIN users u ON u.id = a.user_id \
     WHERE a.provider = $1 AND a.provider_account_id = $2";
const REMOVE_PASSWORD: &str =
    "DELETE FROM accounts WHERE user_id = $1 AND provider = 'credentials' RETURNING id";
const REVOKE_LINKS: &str = "UPDATE verification_tokens SET used_at = now() \
     WHERE used_at IS NULL AND expires_at > now() AND (email = lower($1) OR user_id = $2) RETURNING id";
const INSERT_SETUP_TOKEN: &str = "INSERT INTO setup_tokens (token_hash) VALUES ($1)";
const SETUP_TOKEN_EXISTS: &str = "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = $1)";
const DELETE_SETUP_TOKENS: &str = "DELETE FROM setup_tokens";
const IS_TIMEZONE: &str = "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)";

/// Statements added for sign-in, for the test that prepares them all.
pub const SIGN_IN_STATEMENTS: &[&str] = &[
    CREDENTIALS_BY_EMAIL,
    CREDENTIALS_OF,
    SET_PASSWORD,
    INSERT_USER_IF_NEW,
    SESSION_USER,
    TOUCH_SESSION,
    END_SESSION,
    END_OTHER_SESSIONS,
    ACTIVE_SESSIONS_OF,
    MARK_LOGIN,
    REDEEM_TOKEN,
    PEEK_TOKEN,
    INSERT_TOKEN_FOR_USER,
    MARK_VERIFIED,
    CHANGE_EMAIL,
    UPDATE_PROFILE,
    UPDATE_USER_CARD,
    ADMIN_EXISTS,
    SET_ROLE,
    USER_BY_PROVIDER_ACCOUNT,
    REMOVE_PASSWORD,
    REVOKE_LINKS,
    INSERT_SETUP_TOKEN,
    SETUP_TOKEN_EXISTS,
    DELETE_SETUP_TOKENS,
    IS_TIMEZONE,
];

/// A user and their password hash (if they have a password).
pub async fn credentials_by_email(
    client: &impl GenericClient,
    email: &str,
) -> Result<Option<(User, Option<String>)>, StoreError> {
    let statement = client.prepare_cached(CREDENTIALS_BY_EMAIL).await?;
    match client.query_opt(&statement, &[&email]).await? {
        Some(row) => Ok(Some((
            required(from_json(&row, "user_json")?)?,
            row.try_get("password_hash")?,
        ))),
        None => Ok(None),
    }
}

/// A user's password hash.
pub async fn password_hash_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Option<String>, StoreError> {
    let statement = client.prepare_cached(CREDENTIALS_OF).await?;
    Ok(client
        .query_opt(&statement, &[&user_id])
        .await?
        .map(|row| row.get(0)))
}

/// Sets (or first creates) a user's password; true when created.
pub async fn set_password_hash(
    client: &impl GenericClient,
    user_id: UserId,
    password_hash: &str,
) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(SET_PASSWORD).await?;
    Ok(client
        .query_one(&statement, &[&user_id, &password_hash])
        .await?
        .try_get("created")?)
}

/// Removes a user's password; true when they had one.
pub async fn remove_password(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(REMOVE_PASSWORD).await?;
    Ok(client.query_opt(&statement, &[&user_id]).await?.is_some())
}

/// Uses up every live mailed link of a user: those sent to `email` (reset,
/// magic link, verification) and the email changes started by `user_id`.
/// Returns how many there were.
pub async fn revoke_links(
    client: &impl GenericClient,
    email: &str,
    user_id: UserId,
) -> Result<usize, StoreError> {
    let statement = client.prepare_cached(REVOKE_LINKS).await?;
    Ok(client.query(&statement, &[&email, &user_id]).await?.len())
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

/// The user behind a live session token hash.
#[derive(Clone, Debug)]
pub struct SessionUser {
    /// The session.
    pub session_id: SessionId,
    /// Its user.
    pub user: User,
    /// Their theme.
    pub theme: Option<Theme>,
    /// Their time zone.
    pub timezone: Option<String>,
}

/// The active user of a live session (not expired, not idle longer than
/// `idle`); refreshes the session's last activity at most once a minute.
pub async fn session_user(
    client: &impl GenericClient,
    token_hash: &str,
    idle: std::time::Duration,
) -> Result<Option<SessionUser>, StoreError> {
    let statement = client.prepare_cached(SESSION_USER).await?;
    let idle_seconds = idle.as_secs_f64();
    let Some(row) = client
        .query_opt(&statement, &[&token_hash, &idle_seconds])
        .await?
    else {
        return Ok(None);
    };
    let session_id: SessionId = row.try_get("session_id")?;
    if row.try_get::<_, bool>("stale")? {
        let touch = client.prepare_cached(TOUCH_SESSION).await?;
        client.execute(&touch, &[&session_id]).await?;
    }
    Ok(Some(SessionUser {
        session_id,
        user: required(from_json(&row, "user_json")?)?,
        theme: row.try_get("theme")?,
        timezone: row.try_get("timezone")?,
    }))
}

/// Ends one of the user's sessions; false if it is not theirs or already ended.
pub async fn end_session(
    client: &impl GenericClient,
    user_id: UserId,
    session_id: SessionId,
) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(END_SESSION).await?;
    Ok(client
        .query_opt(&statement, &[&session_id, &user_id])
        .await?
        .is_some())
}

/// Ends all of the user's sessions but `keep`; returns the ended ids.
pub async fn end_other_sessions(
    client: &impl GenericClient,
    user_id: UserId,
    keep: Option<SessionId>,
) -> Result<Vec<SessionId>, StoreError> {
    let statement = client.prepare_cached(END_OTHER_SESSIONS).await?;
    Ok(client
        .query(&statement, &[&user_id, &keep])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// The user's live sessions with their last activity, most recent first.
pub async fn active_sessions_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Vec<(Session, OffsetDateTime)>, StoreError> {
    let statement = client.prepare_cached(ACTIVE_SESSIONS_OF).await?;
    client
        .query(&statement, &[&user_id])
        .await?
        .iter()
        .map(|row| Ok((session_from(row)?, row.try_get("last_seen_at")?)))
        .collect()
}

/// Records a successful sign-in.
pub async fn mark_login(client: &impl GenericClient, user_id: UserId) -> Result<(), StoreError> {
    let statement = client.prepare_cached(MARK_LOGIN).await?;
    client.execute(&statement, &[&user_id]).await?;
    Ok(())
}

/// Uses a token once: marks it used and returns its email (and the user
/// it was issued for), or `None` if it is unknown, used, expired or of
/// another type. One statement, so concurrent redemptions get one winner.
pub async fn redeem_token(
    client: &impl GenericClient,
    token_hash: &str,
    kind: VerificationTokenType,
) -> Result<Option<(String, Option<UserId>)>, StoreError> {
    let statement = client.prepare_cached(REDEEM_TOKEN).await?;
    Ok(client
        .query_opt(&statement, &[&token_hash, &kind])
        .await?
        .map(|row| (row.get(0), row.get(1))))
}

/// Whether a token is currently redeemable (without using it).
pub async fn token_is_live(
    client: &impl GenericClient,
    token_hash: &str,
    kind: VerificationTokenType,
) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(PEEK_TOKEN).await?;
    Ok(client
        .query_opt(&statement, &[&token_hash, &kind])
        .await?
        .is_some())
}

/// The email (and the user it was issued for) of a live token, without
/// using it.
pub async fn live_token(
    client: &impl GenericClient,
    token_hash: &str,
    kind: VerificationTokenType,
) -> Result<Option<(String, Option<UserId>)>, StoreError> {
    let statement = client.prepare_cached(PEEK_TOKEN).await?;
    Ok(client
        .query_opt(&statement, &[&token_hash, &kind])
        .await?
        .map(|row| (row.get(0), row.get(1))))
}

/// Records a token, optionally for a given user (email changes).
pub async fn create_token_for(
    client: &impl GenericClient,
    email: &str,
    token_hash: &str,
    kind: VerificationTokenType,
    expires_at: OffsetDateTime,
    user_id: Option<UserId>,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(INSERT_TOKEN_FOR_USER).await?;
    client
        .execute(
            &statement,
            &[&email, &token_hash, &kind, &expires_at, &user_id],
        )
        .await?;
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

/// The editable profile fields.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileUpdate {
    /// Display name.
    pub name: String,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// About.
    pub bio: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// IANA zone.
    pub timezone: String,
    /// Language tag.
    pub language: String,
    /// Theme.
    pub theme: Theme,
    /// Notification mail.
    pub notifications: bool,
}

/// Writes the profile fields (the profile row exists since sign-up).
pub async fn update_profile(
    client: &impl GenericClient,
    user_id: UserId,
    update: &ProfileUpdate,
) -> Result<Profile, StoreError> {
    let card = client.prepare_cached(UPDATE_USER_CARD).await?;
    client
        .execute(&card, &[&user_id, &update.name, &update.avatar_url])
        .await?;
    let statement = client.prepare_cached(UPDATE_PROFILE).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &user_id,
                &update.bio,
                &update.website,
                &update.location,
                &update.timezone,
                &update.language,
                &update.theme,
                &update.notifications,
            ],
        )
        .await?;
    required(from_json(&row, "profile")?)
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

/// Records a first-run setup token by its hash.
pub async fn add_setup_token(
    client: &impl GenericClient,
    token_hash: &str,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(INSERT_SETUP_TOKEN).await?;
    client.execute(&statement, &[&token_hash]).await?;
    Ok(())
}

/// Whether `token_hash` is a setup token's.
pub async fn is_setup_token(
    client: &impl GenericClient,
    token_hash: &str,
) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(SETUP_TOKEN_EXISTS).await?;
    Ok(client.query_one(&statement, &[&token_hash]).await?.get(0))
}

/// Ends the first-run setup: no token works any more.
pub async fn clear_setup_tokens(client: &impl GenericClient) -> Result<(), StoreError> {
    let statement = client.prepare_cached(DELETE_SETUP_TOKENS).await?;
    client.execute(&statement, &[]).await?;
    Ok(())
}

/// Whether PostgreSQL knows the IANA time zone `name`.
pub async fn is_timezone(client: &impl GenericClient, name: &str) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(IS_TIMEZONE).await?;
    Ok(client.query_one(&statement, &[&name]).await?.get(0))
}

/// The user linked to a provider identity.
pub async fn user_by_provider_account(
    client: &impl GenericClient,
    provider: &str,
    provider_account_id: &str,
) -> Result<Option<User>, StoreError> {
    let statement = client.prepare_cached(USER_BY_PROVIDER_ACCOUNT).await?;
    client
        .query_opt(&statement, &[&provider, &provider_account_id])
        .await?
        .as_ref()
        .map(user_from)
        .transpose()
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

const SEARCH_USERS: &str = "SELECT id, email, name, role, email_verified, is_active, last_login_at, created_at \
     FROM users WHERE ($1::text IS NULL OR email ILIKE '%' || $1 || '%' OR name ILIKE '%' || $1 || '%') \
     ORDER BY created_at DESC, id LIMIT $2 OFFSET $3";
const SET_ACTIVE: &str = "UPDATE users SET is_active = $2 WHERE id = $1";
const END_ALL_SESSIONS: &str =
    "UPDATE sessions SET is_active = false WHERE user_id = $1 AND is_active RETURNING id";
const OTHER_ACTIVE_ADMINS: &str =
    "SELECT count(*) FROM users WHERE role = 'admin' AND is_active AND id <> $1";

/// The statements of the admins' user pages, for the prepare test.
pub const ADMIN_STATEMENTS: &[&str] = &[
    SEARCH_USERS,
    SET_ACTIVE,
    END_ALL_SESSIONS,
    OTHER_ACTIVE_ADMINS,
];

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

/// Ends every session of a user; returns how many were open.
pub async fn end_all_sessions(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<usize, StoreError> {
    let statement = client.prepare_cached(END_ALL_SESSIONS).await?;
    Ok(client.query(&statement, &[&user_id]).await?.len())
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
