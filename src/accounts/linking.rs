//! Which account a provider's sign-in (GitHub, Google) signs in to, and
//! the linking that decides it; the rules against account pre-hijacking.
//!
//! A provider identity already linked signs its user in. Otherwise the
//! provider must vouch for the email address:
//! - no account has it: a new, confirmed account is made and linked;
//! - an account has it: it is linked, and its owner is told by mail. If its
//!   address was not confirmed, this is its first proof, which removes a
//!   password chosen before it ([`super::proof`]);
//! - an administrator's account is linked only from a browser already
//!   signed in to it (its password, or a mailed link, proved who links).
//!
//! Everything is written in the caller's transaction with its audit rows;
//! the caller starts the session and sends the mail after committing.

use deadpool_postgres::GenericClient;

use super::model::{NewAccount, NewUser, Role, User, UserId};
use super::oauth::ProviderProfile;
use super::{proof, store};
use crate::audit::{self, Actor, AuditAction, AuditEntity};
use crate::db::StoreError;

/// What a provider's sign-in comes to.
#[derive(Clone, Debug, PartialEq)]
pub enum Linking {
    /// The identity was linked before: its user.
    Known(User),
    /// The identity is linked now to the account that has its address,
    /// whose owner is to be told when `tell_owner`.
    LinkedExisting {
        /// The account, as it is after the linking.
        user: User,
        /// The address was confirmed before, so its owner gets a notice.
        tell_owner: bool,
    },
    /// A new account was made for the identity.
    Created(User),
    /// The provider vouches for no address: nothing to link to.
    NoVerifiedEmail,
    /// The address is an administrator's, and this browser is not signed
    /// in to it.
    AdminMustSignInFirst {
        /// The administrator's address.
        email: String,
    },
}

/// Links `profile` from the provider `provider` (its slug) to an account,
/// as the rules above say. `signed_in` is the user this browser is signed
/// in as, if any; `actor` is the visitor (each row is written as the user
/// it is about).
pub async fn sign_in_with_provider(
    client: &impl GenericClient,
    actor: &Actor,
    signed_in: Option<UserId>,
    provider: &str,
    profile: &ProviderProfile,
) -> Result<Linking, StoreError> {
    if let Some(user) = store::user_by_provider_account(client, provider, &profile.id).await? {
        return Ok(Linking::Known(user));
    }
    let Some(email) = profile.verified_email.clone() else {
        return Ok(Linking::NoVerifiedEmail);
    };
    let (user, linking) = match store::user_by_email(client, &email).await? {
        Some(existing) if existing.role == Role::Admin && signed_in != Some(existing.id) => {
            return Ok(Linking::AdminMustSignInFirst { email });
        }
        Some(existing) => {
            let as_owner = actor.as_user(existing.id);
            proof::address_proven(client, &existing, false, &as_owner, provider).await?;
            let user = crate::db::required(store::user_by_id(client, existing.id).await?)?;
            let linking = Linking::LinkedExisting {
                user: user.clone(),
                tell_owner: existing.email_verified,
            };
            (user, linking)
        }
        None => {
            let user = create_user(client, actor, provider, profile, &email).await?;
            (user.clone(), Linking::Created(user))
        }
    };
    let account = store::link_account(
        client,
        &NewAccount {
            user_id: user.id,
            provider: provider.to_owned(),
            provider_account_id: profile.id.clone(),
            kind: "oauth".to_owned(),
        },
    )
    .await?;
    let as_user = actor.as_user(user.id);
    audit::store::record(
        client,
        &as_user.entry(
            AuditAction::Create,
            AuditEntity::Accounts,
            Some(account.id.0),
            audit::created(&account),
        ),
    )
    .await?;
    Ok(linking)
}

/// A new, confirmed account for the provider's identity, with its audit row.
async fn create_user(
    client: &impl GenericClient,
    actor: &Actor,
    provider: &str,
    profile: &ProviderProfile,
    email: &str,
) -> Result<User, StoreError> {
    let name: String = profile
        .name
        .chars()
        .filter(|character| !character.is_control())
        .take(100)
        .collect();
    let user = store::create_user(
        client,
        &NewUser {
            email: email.to_owned(),
            name,
            role: Role::User,
        },
    )
    .await?;
    store::create_profile(client, user.id).await?;
    store::mark_verified(client, email).await?;
    let mut entry = actor.as_user(user.id).entry(
        AuditAction::Create,
        AuditEntity::Users,
        Some(user.id.0),
        audit::created(&user),
    );
    entry.metadata = Some(serde_json::json!({ "via": provider }));
    audit::store::record(client, &entry).await?;
    crate::db::required(store::user_by_id(client, user.id).await?)
}
