//! Signing up with an email address and a password.
//!
//! The answer to the visitor is the same whether or not the address is
//! known (no enumeration): a new address gets an unconfirmed account and a
//! confirmation mail, a known one a mail saying it is registered already.
//! The account cannot be used until its address is proven
//! ([`super::proof`]).

use deadpool_postgres::GenericClient;

use super::model::{DisplayName, Email, NewUser, Role, User};
use super::store;
use crate::audit::{self, Actor, AuditAction, AuditEntity, Secret};
use crate::db::StoreError;

/// A sign-up, parsed and with its password hashed.
#[derive(Clone, Debug)]
pub struct SignUp {
    /// The address, lower-case.
    pub email: Email,
    /// The display name.
    pub name: DisplayName,
    /// The hash of the chosen password.
    pub password_hash: String,
    /// The language the visitor's browser asked for, the new profile's.
    pub language: crate::i18n::Language,
}

/// What a sign-up came to.
#[derive(Clone, Debug, PartialEq)]
pub enum Registration {
    /// A new, unconfirmed account.
    Created(User),
    /// The address has an account already: nothing was written.
    AlreadyRegistered,
}

/// Makes the account of `sign_up` unless its address has one, with its
/// profile, password and audit row, in the caller's transaction. `actor`
/// is the visitor; the row is written as the new user.
pub async fn register(
    client: &impl GenericClient,
    actor: &Actor,
    sign_up: &SignUp,
) -> Result<Registration, StoreError> {
    let new = NewUser {
        email: sign_up.email.to_string(),
        name: sign_up.name.to_string(),
        role: Role::User,
    };
    let Some(user) = store::create_user_if_new(client, &new, false).await? else {
        return Ok(Registration::AlreadyRegistered);
    };
    store::create_profile_in(client, user.id, sign_up.language).await?;
    store::set_password_hash(client, user.id, &sign_up.password_hash).await?;
    let as_user = actor.as_user(user.id);
    audit::store::record(
        client,
        &as_user.entry(
            AuditAction::Create,
            AuditEntity::Users,
            Some(user.id.0),
            audit::created(&user).secret("password_hash", Secret::Set),
        ),
    )
    .await?;
    Ok(Registration::Created(user))
}
