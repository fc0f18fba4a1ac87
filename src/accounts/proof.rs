//! The first proof of an account's address, the rule against pre-account
//! takeover.
//!
//! Anyone can sign up with someone else's address, and the password they
//! choose is theirs, not the address owner's. So an account cannot be used
//! until its address is proven (sessions belong to confirmed accounts
//! only), and the first proof (the confirmation link, a magic link, a
//! provider that vouches for the address) removes a password that was set
//! before it, unless whoever proves the address also shows they chose that
//! password (the browser that signed up, or the password typed again).
//! Every other session ends and every other mailed link dies with it.

use deadpool_postgres::GenericClient;

use super::model::User;
use super::store;
use crate::audit::{self, Actor};
use crate::audit::{AuditAction, AuditEntity, Change, Fields, Secret};
use crate::db::StoreError;

/// What the first proof of an address changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Proven {
    /// The address was not confirmed before.
    pub newly_verified: bool,
    /// A password set before the proof was removed.
    pub password_removed: bool,
    /// Sessions ended with it.
    pub sessions_ended: usize,
}

/// Records that `user`'s address is proven by `via` ("email verification",
/// "magic link", "google", ...), in the caller's transaction, with its
/// audit rows. On an unconfirmed account, a password is kept only when
/// `password_chosen_by_prover`; otherwise it is removed, and every session
/// and mailed link of the account ends.
pub async fn address_proven(
    client: &impl GenericClient,
    user: &User,
    password_chosen_by_prover: bool,
    actor: &Actor,
    via: &str,
) -> Result<Proven, StoreError> {
    if user.email_verified {
        return Ok(Proven::default());
    }
    store::mark_verified(client, &user.email).await?;
    let mut entry = actor.entry(
        AuditAction::Update,
        AuditEntity::Users,
        Some(user.id.0),
        audit::changed(
            &Fields::of("email_verified", false),
            &Fields::of("email_verified", true),
        ),
    );
    entry.metadata = Some(serde_json::json!({ "via": via }));
    audit::store::record(client, &entry).await?;
    let mut proven = Proven {
        newly_verified: true,
        ..Proven::default()
    };
    if password_chosen_by_prover || !store::remove_password(client, user.id).await? {
        return Ok(proven);
    }
    proven.password_removed = true;
    proven.sessions_ended = store::end_other_sessions(client, user.id, None)
        .await?
        .len();
    let links_revoked = store::revoke_links(client, &user.email, user.id).await?;
    let mut entry = actor.entry(
        AuditAction::Delete,
        AuditEntity::Accounts,
        Some(user.id.0),
        Change::none().secret("password_hash", Secret::Removed),
    );
    entry.metadata = Some(serde_json::json!({
        "reason": "the password was set before the address was proven",
        "via": via,
        "sessions_ended": proven.sessions_ended,
        "links_revoked": links_revoked,
    }));
    audit::store::record(client, &entry).await?;
    Ok(proven)
}
