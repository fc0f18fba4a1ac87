//! Row decoders shared by the accounts store's submodules.

use tokio_postgres::Row;

use crate::accounts::model::{Account, Session, User};
use crate::db::StoreError;

pub(super) fn user_from(row: &Row) -> Result<User, StoreError> {
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

pub(super) fn account_from(row: &Row) -> Result<Account, StoreError> {
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

pub(super) fn session_from(row: &Row) -> Result<Session, StoreError> {
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
