//! SQL on `sessions`: creating, resolving, listing and ending them.

use deadpool_postgres::GenericClient;
use time::OffsetDateTime;

use super::rows::session_from;
use crate::accounts::model::{Session, SessionId, Theme, User, UserId};
use crate::db::{StoreError, from_json, required};

pub(super) const INSERT_SESSION: &str = "INSERT INTO sessions (user_id, token, expires_at, ip_address, user_agent) \
     VALUES ($1, $2, $3, $4, $5) \
     RETURNING id, user_id, token, expires_at, ip_address, user_agent, is_active, created_at";
pub(super) const SESSIONS_OF: &str = "SELECT id, user_id, token, expires_at, ip_address, user_agent, is_active, created_at \
     FROM sessions WHERE user_id = $1 ORDER BY created_at DESC";
pub(super) const SESSION_USER: &str = "SELECT s.id AS session_id, s.last_seen_at < now() - interval '1 minute' AS stale, \
            to_jsonb(u) AS user_json, p.theme, p.timezone, p.language \
       FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN user_profiles p ON p.user_id = u.id \
      WHERE s.token = $1 AND s.is_active AND s.expires_at > now() \
        AND s.last_seen_at > now() - make_interval(secs => $2) AND u.is_active AND u.email_verified";
pub(super) const TOUCH_SESSION: &str = "UPDATE sessions SET last_seen_at = now() WHERE id = $1";
pub(super) const END_SESSION: &str = "UPDATE sessions SET is_active = false WHERE id = $1 AND user_id = $2 AND is_active \
     RETURNING id";
pub(super) const END_OTHER_SESSIONS: &str = "UPDATE sessions SET is_active = false \
     WHERE user_id = $1 AND is_active AND id IS DISTINCT FROM $2 RETURNING id";
pub(super) const ACTIVE_SESSIONS_OF: &str = "SELECT id, user_id, token, expires_at, ip_address, user_agent, is_active, created_at, \
     last_seen_at FROM sessions WHERE user_id = $1 AND is_active AND expires_at > now() \
     ORDER BY last_seen_at DESC";
pub(super) const END_ALL_SESSIONS: &str =
    "UPDATE sessions SET is_active = false WHERE user_id = $1 AND is_active RETURNING id";

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
    /// Their language tag, as stored.
    pub language: Option<String>,
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
        language: row.try_get("language")?,
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

/// Ends every session of a user; returns how many were open.
pub async fn end_all_sessions(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<usize, StoreError> {
    let statement = client.prepare_cached(END_ALL_SESSIONS).await?;
    Ok(client.query(&statement, &[&user_id]).await?.len())
}
