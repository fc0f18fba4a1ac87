//! Seeding the administrator and the demo people with their profiles.

use deadpool_postgres::GenericClient;

use super::{AdminAccount, Seeder, Tally, data};
use crate::accounts::model::{NewUser, Role, User, UserId};
use crate::accounts::store::{self as accounts, ProfileUpdate};
use crate::audit::{self, AuditAction, AuditEntity, Secret};
use crate::db::StoreError;

impl<C: GenericClient> Seeder<'_, C> {
    /// The administrator: created (verified, with `password_hash`),
    /// promoted, or found.
    pub(super) async fn admin(
        &self,
        email: &str,
        password_hash: Option<&str>,
        tally: &mut Tally,
    ) -> Result<AdminAccount, StoreError> {
        if let Some(user) = accounts::user_by_email(self.client, email).await? {
            tally.count(false);
            if user.role == Role::Admin {
                return Ok(AdminAccount::Existing);
            }
            accounts::set_role(self.client, user.id, Role::Admin).await?;
            let mut entry = self.actor.entry(
                AuditAction::Update,
                AuditEntity::Users,
                Some(user.id.0),
                audit::changed(
                    &user,
                    &User {
                        role: Role::Admin,
                        ..user.clone()
                    },
                ),
            );
            entry.metadata = Some(serde_json::json!({ "source": "seed" }));
            audit::store::record(self.client, &entry).await?;
            return Ok(AdminAccount::Promoted);
        }
        let Some(password_hash) = password_hash else {
            // Someone created the account between the check and now: it
            // is theirs, and it stays as it is.
            tally.count(false);
            return Ok(AdminAccount::Existing);
        };
        let new = NewUser {
            email: email.to_owned(),
            name: "Administrator".to_owned(),
            role: Role::Admin,
        };
        let Some(user) = accounts::create_user_if_new(self.client, &new, true).await? else {
            tally.count(false);
            return Ok(AdminAccount::Existing);
        };
        accounts::create_profile(self.client, user.id).await?;
        accounts::set_password_hash(self.client, user.id, password_hash).await?;
        self.audit(
            AuditEntity::Users,
            user.id.0,
            audit::created(&user).secret("password_hash", Secret::Set),
        )
        .await?;
        tally.count(true);
        Ok(AdminAccount::Created {
            generated_password: None,
        })
    }

    /// A demo person with a profile (no password); `true` when made now.
    pub(super) async fn user(&self, person: &data::DemoUser) -> Result<(UserId, bool), StoreError> {
        if let Some(user) = accounts::user_by_email(self.client, person.email).await? {
            return Ok((user.id, false));
        }
        let new = NewUser {
            email: person.email.to_owned(),
            name: person.name.to_owned(),
            role: Role::User,
        };
        let Some(user) = accounts::create_user_if_new(self.client, &new, true).await? else {
            let user = accounts::user_by_email(self.client, person.email).await?;
            return Ok((crate::db::required(user)?.id, false));
        };
        accounts::create_profile(self.client, user.id).await?;
        let update = ProfileUpdate {
            name: person.name.to_owned(),
            avatar_url: None,
            bio: Some(person.bio.to_owned()),
            website: person.website.map(str::to_owned),
            location: Some(person.location.to_owned()),
            timezone: person.timezone.to_owned(),
            language: person.language.to_owned(),
            theme: person.theme,
            notifications: true,
        };
        let profile = accounts::update_profile(self.client, user.id, &update).await?;
        self.audit(
            AuditEntity::Users,
            user.id.0,
            audit::created(&user).and(audit::created(&profile)),
        )
        .await?;
        Ok((user.id, true))
    }
}
