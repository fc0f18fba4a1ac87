//! SQL on `accounts`: linked OAuth identities and passwords.

use deadpool_postgres::GenericClient;

use super::rows::{account_from, user_from};
use crate::accounts::model::{Account, NewAccount, User, UserId};
use crate::db::{StoreError, from_json, required};

pub(super) const INSERT_ACCOUNT: &str = "INSERT INTO accounts (user_id, provider, provider_account_id, type) \
     VALUES ($1, $2, $3, $4) \
     RETURNING id, user_id, provider, provider_account_id, type, access_token, refresh_token, expires_at, scope, created_at";
pub(super) const ACCOUNTS_OF: &str = "SELECT id, user_id, provider, provider_account_id, type, access_token, refresh_token, \
     expires_at, scope, created_at FROM accounts WHERE user_id = $1 ORDER BY created_at";
pub(super) const CREDENTIALS_BY_EMAIL: &str = "SELECT to_jsonb(u) AS user_json, a.password_hash FROM users u \
     LEFT JOIN accounts a ON a.user_id = u.id AND a.provider = 'credentials' WHERE u.email = lower($1)";
pub(super) const CREDENTIALS_OF: &str =
    "SELECT password_hash FROM accounts WHERE user_id = $1 AND provider = 'credentials'";
pub(super) const SET_PASSWORD: &str = "INSERT INTO accounts (user_id, provider, provider_account_id, type, password_hash) \
     VALUES ($1::uuid, 'credentials', ($1::uuid)::text, 'credentials', $2) \
     ON CONFLICT (provider, provider_account_id) DO UPDATE SET password_hash = excluded.password_hash \
     RETURNING (xmax = 0) AS created";
pub(super) const REMOVE_PASSWORD: &str =
    "DELETE FROM accounts WHERE user_id = $1 AND provider = 'credentials' RETURNING id";
pub(super) const USER_BY_PROVIDER_ACCOUNT: &str = "SELECT u.id, u.email, u.name, u.avatar_url, u.role, u.email_verified, \
     u.is_active, u.last_login_at, u.created_at, u.updated_at FROM accounts a JOIN users u ON u.id = a.user_id \
     WHERE a.provider = $1 AND a.provider_account_id = $2";

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
