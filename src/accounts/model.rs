//! Account types: what a row of `users`, `user_profiles`, `accounts`,
//! `sessions` and `verification_tokens` is, in Rust.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::audit::{Audited, Fields};
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

/// An email address as Soloist keeps it: lower-cased, plausible, and one
/// mail can be sent to. Only [`Email::parse`] makes one, at the edge; past
/// it nothing checks again.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

/// What the form says about an address that is not one.
pub const NOT_AN_EMAIL: &str = "Enter an email address like name@example.com.";

impl Email {
    /// `text` as an address, or the form's message.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let email = text.trim().to_lowercase();
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(NOT_AN_EMAIL);
        };
        let valid = !local.is_empty()
            && local.len() <= 64
            && email.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && email
                .chars()
                .all(|character| character.is_ascii_graphic() || !character.is_ascii())
            && !email.contains(['<', '>', '"', ',', ';', '\\', '(', ')'])
            // What the mailer will send to ("a.@b.example" and "a@@b.example"
            // would be accounts whose mail never leaves).
            && email.parse::<lettre::Address>().is_ok();
        if valid {
            Ok(Self(email))
        } else {
            Err(NOT_AN_EMAIL)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for Email {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A display name: 1 to 100 characters, no control characters, trimmed.
/// Only [`DisplayName::parse`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// `text` as a name, or the form's message.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let name = text.trim();
        if name.is_empty() {
            return Err("Enter your name.");
        }
        if name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err("Use at most 100 characters, without line breaks.");
        }
        Ok(Self(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::ops::Deref for DisplayName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

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

impl Audited for User {
    fn audited(&self) -> Fields {
        Fields::new()
            .with("email", &self.email)
            .with("name", &self.name)
            .with("role", self.role)
            .with("is_active", self.is_active)
            .with("email_verified", self.email_verified)
    }
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

impl Audited for Profile {
    fn audited(&self) -> Fields {
        Fields::new()
            .with("bio", &self.bio)
            .with("website", &self.website)
            .with("location", &self.location)
            .with("timezone", &self.timezone)
            .with("language", &self.language)
            .with("theme", self.theme)
            .with("notifications_enabled", self.notifications_enabled)
    }
}

impl Audited for Account {
    fn audited(&self) -> Fields {
        Fields::new()
            .with("provider", &self.provider)
            .with("kind", &self.kind)
    }
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
