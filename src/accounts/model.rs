//! Account types: what a row of `users`, `user_profiles`, `accounts`,
//! `sessions` and `verification_tokens` is, in Rust.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::billing::model::SubscriptionWithPlan;
use crate::content::model::Post;
use crate::ids::{id_type, text_enum};

id_type!(
    /// `users.id`.
    UserId
);
id_type!(
    /// `user_profiles.id`.
    ProfileId
);
id_type!(
    /// `accounts.id`.
    AccountId
);
id_type!(
    /// `sessions.id`.
    SessionId
);
id_type!(
    /// `verification_tokens.id`.
    VerificationTokenId
);

text_enum!(
    /// `users.role`.
    Role {
        /// A member.
        User = "user",
        /// An administrator.
        Admin = "admin",
    }
);

text_enum!(
    /// `user_profiles.theme`.
    Theme {
        /// Always light.
        Light = "light",
        /// Always dark.
        Dark = "dark",
        /// Follow the device.
        System = "system",
    }
);

text_enum!(
    /// `verification_tokens.type`.
    VerificationTokenType {
        /// Proves an email address.
        EmailVerification = "email_verification",
        /// Sets a new password.
        PasswordReset = "password_reset",
        /// Signs in without a password.
        MagicLink = "magic_link",
    }
);

/// A row of `users`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The lower-case email address.
    pub email: String,
    /// The display name.
    pub name: String,
    /// An avatar image URL.
    pub avatar_url: Option<String>,
    /// user or admin.
    pub role: Role,
    /// Whether the email address is proven.
    pub email_verified: bool,
    /// False blocks sign-in.
    pub is_active: bool,
    /// The last successful sign-in.
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_login_at: Option<OffsetDateTime>,
    /// When the account was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What creating a user needs.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// The email address (stored lower-case).
    pub email: String,
    /// The display name.
    pub name: String,
    /// user or admin.
    pub role: Role,
}

/// A row of `user_profiles`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Profile {
    /// Its id.
    pub id: ProfileId,
    /// Whose profile.
    pub user_id: UserId,
    /// About the person.
    pub bio: Option<String>,
    /// Their website.
    pub website: Option<String>,
    /// Where they are.
    pub location: Option<String>,
    /// An IANA time zone name.
    pub timezone: Option<String>,
    /// A language tag.
    pub language: Option<String>,
    /// light, dark or system.
    pub theme: Option<Theme>,
    /// Whether they want notification mail.
    pub notifications_enabled: Option<bool>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A row of `accounts`: a sign-in method linked to a user. Provider tokens
/// are left out of `Debug`.
#[derive(Clone, PartialEq)]
pub struct Account {
    /// Its id.
    pub id: AccountId,
    /// The user it signs in.
    pub user_id: UserId,
    /// e.g. "github", "google".
    pub provider: String,
    /// The user's id at the provider.
    pub provider_account_id: String,
    /// e.g. "oauth".
    pub kind: String,
    /// The provider's access token.
    pub access_token: Option<String>,
    /// The provider's refresh token.
    pub refresh_token: Option<String>,
    /// When the access token expires.
    pub expires_at: Option<OffsetDateTime>,
    /// The granted scope.
    pub scope: Option<String>,
    /// When it was linked.
    pub created_at: OffsetDateTime,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Account")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("provider", &self.provider)
            .field("provider_account_id", &self.provider_account_id)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// What linking an account needs.
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// The user it signs in.
    pub user_id: UserId,
    /// e.g. "github".
    pub provider: String,
    /// The user's id at the provider.
    pub provider_account_id: String,
    /// e.g. "oauth".
    pub kind: String,
}

/// A row of `sessions`. `token` holds the SHA-256 of the cookie's value.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// Its id.
    pub id: SessionId,
    /// Whose session.
    pub user_id: UserId,
    /// The hashed token.
    pub token_hash: String,
    /// When it ends at the latest.
    pub expires_at: OffsetDateTime,
    /// The client address at sign-in.
    pub ip_address: Option<String>,
    /// The browser at sign-in.
    pub user_agent: Option<String>,
    /// False once ended.
    pub is_active: bool,
    /// When it began.
    pub created_at: OffsetDateTime,
}

/// A row of `verification_tokens`. `token` holds the SHA-256 of the link's value.
#[derive(Clone, Debug, PartialEq)]
pub struct VerificationToken {
    /// Its id.
    pub id: VerificationTokenId,
    /// The address it was sent to.
    pub email: String,
    /// The hashed token.
    pub token_hash: String,
    /// What it is for.
    pub kind: VerificationTokenType,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// When it was redeemed.
    pub used_at: Option<OffsetDateTime>,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// The seed's "user with details": profile, subscription with plan, and
/// the 10 latest published posts, fetched in one round trip.
#[derive(Clone, Debug, PartialEq)]
pub struct UserWithDetails {
    /// The user.
    pub user: User,
    /// Their profile, if made.
    pub profile: Option<Profile>,
    /// Their subscription and its plan.
    pub subscription: Option<SubscriptionWithPlan>,
    /// Their 10 latest published posts, newest first.
    pub posts: Vec<Post>,
}
