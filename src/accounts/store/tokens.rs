//! SQL on `verification_tokens` (mailed links) and `setup_tokens`.

use deadpool_postgres::GenericClient;
use time::OffsetDateTime;

use crate::accounts::model::{UserId, VerificationToken, VerificationTokenType};
use crate::db::StoreError;

pub(super) const INSERT_VERIFICATION_TOKEN: &str = "INSERT INTO verification_tokens (email, token, type, expires_at) \
     VALUES (lower($1), $2, $3, $4) RETURNING id, email, token, type, expires_at, used_at, created_at";
pub(super) const REDEEM_TOKEN: &str = "UPDATE verification_tokens SET used_at = now() \
     WHERE token = $1 AND type = $2 AND used_at IS NULL AND expires_at > now() RETURNING email, user_id";
pub(super) const PEEK_TOKEN: &str = "SELECT email, user_id FROM verification_tokens \
     WHERE token = $1 AND type = $2 AND used_at IS NULL AND expires_at > now()";
pub(super) const INSERT_TOKEN_FOR_USER: &str = "INSERT INTO verification_tokens (email, token, type, expires_at, user_id) \
     VALUES (lower($1), $2, $3, $4, $5) RETURNING id";
pub(super) const REVOKE_LINKS: &str = "UPDATE verification_tokens SET used_at = now() \
     WHERE used_at IS NULL AND expires_at > now() AND (email = lower($1) OR user_id = $2) RETURNING id";
pub(super) const INSERT_SETUP_TOKEN: &str = "INSERT INTO setup_tokens (token_hash) VALUES ($1)";
pub(super) const SETUP_TOKEN_EXISTS: &str =
    "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = $1)";
pub(super) const DELETE_SETUP_TOKENS: &str = "DELETE FROM setup_tokens";

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
