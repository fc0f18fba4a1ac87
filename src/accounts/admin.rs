//! Making administrators from the command line (`soloist admin create`).

use deadpool_postgres::Pool;

use super::model::{NewUser, Role, User};
use super::secrets::{Password, PasswordHasherPool};
use super::{AccountError, store};
use crate::audit::{self, Actor};
use crate::audit::{AuditAction, AuditEntity, Secret};

/// What `create_admin` did.
#[derive(Debug, PartialEq, Eq)]
pub enum AdminOutcome {
    /// A new admin account was made.
    Created,
    /// An existing account became an admin.
    Promoted,
    /// The account was an admin already.
    AlreadyAdmin,
}

/// Makes `email` an administrator: promotes an existing account, or creates
/// one (verified, with `password`, which a new account needs). Audited as
/// a system change.
pub async fn create_admin(
    pool: &Pool,
    hasher: &PasswordHasherPool,
    email: &str,
    name: &str,
    password: Option<&Password>,
) -> Result<(User, AdminOutcome), AccountError> {
    let password_hash = match password {
        Some(password) => Some(hasher.hash(password).await?),
        None => None,
    };
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    let actor = Actor::system();
    let (user, outcome) = match store::user_by_email(&transaction, email).await? {
        Some(user) if user.role == Role::Admin => (user, AdminOutcome::AlreadyAdmin),
        Some(user) => {
            store::set_role(&transaction, user.id, Role::Admin).await?;
            let promoted = User {
                role: Role::Admin,
                ..user.clone()
            };
            let changes = audit::changed(&user, &promoted);
            let mut entry = actor.entry(
                AuditAction::Update,
                AuditEntity::Users,
                Some(user.id.0),
                changes,
            );
            entry.metadata = Some(serde_json::json!({ "source": "cli" }));
            audit::store::record(&transaction, &entry).await?;
            (user, AdminOutcome::Promoted)
        }
        None => {
            let Some(password_hash) = &password_hash else {
                return Err(AccountError::NeedsPassword);
            };
            let user = store::create_user(
                &transaction,
                &NewUser {
                    email: email.to_owned(),
                    name: name.to_owned(),
                    role: Role::Admin,
                },
            )
            .await?;
            store::create_profile(&transaction, user.id).await?;
            store::mark_verified(&transaction, email).await?;
            store::set_password_hash(&transaction, user.id, password_hash).await?;
            let changes = audit::created(&user).secret("password_hash", Secret::Set);
            let mut entry = actor.entry(
                AuditAction::Create,
                AuditEntity::Users,
                Some(user.id.0),
                changes,
            );
            entry.metadata = Some(serde_json::json!({ "source": "cli" }));
            audit::store::record(&transaction, &entry).await?;
            (user, AdminOutcome::Created)
        }
    };
    // An administrator exists now: the first-run setup tokens are spent.
    store::clear_setup_tokens(&transaction).await?;
    if outcome != AdminOutcome::Created
        && let Some(password_hash) = &password_hash
    {
        store::set_password_hash(&transaction, user.id, password_hash).await?;
    }
    transaction.commit().await?;
    Ok((user, outcome))
}
