//! SQL on `user_profiles` (and the user's name and avatar shown with them).

use deadpool_postgres::GenericClient;

use crate::accounts::model::{Profile, Theme, UserId};
use crate::db::{StoreError, from_json, required};

pub(super) const INSERT_PROFILE: &str = "INSERT INTO user_profiles (user_id) VALUES ($1) \
     RETURNING to_jsonb(user_profiles.*)";
pub(super) const PROFILE_OF: &str = "SELECT to_jsonb(p) FROM user_profiles p WHERE p.user_id = $1";
pub(super) const UPDATE_PROFILE: &str = "UPDATE user_profiles SET bio = $2, website = $3, location = $4, timezone = $5, \
     language = $6, theme = $7, notifications_enabled = $8 WHERE user_id = $1 \
     RETURNING to_jsonb(user_profiles.*) AS profile";
pub(super) const UPDATE_USER_CARD: &str =
    "UPDATE users SET name = $2, avatar_url = $3 WHERE id = $1";
pub(super) const IS_TIMEZONE: &str =
    "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)";

/// Creates a user's profile with the seed's defaults.
pub async fn create_profile(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Profile, StoreError> {
    let statement = client.prepare_cached(INSERT_PROFILE).await?;
    let row = client.query_one(&statement, &[&user_id]).await?;
    required(from_json(&row, "to_jsonb")?)
}

/// A user's profile.
pub async fn profile_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Option<Profile>, StoreError> {
    let statement = client.prepare_cached(PROFILE_OF).await?;
    match client.query_opt(&statement, &[&user_id]).await? {
        Some(row) => from_json(&row, "to_jsonb"),
        None => Ok(None),
    }
}

/// The editable profile fields.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileUpdate {
    /// Display name.
    pub name: String,
    /// Avatar URL.
    pub avatar_url: Option<String>,
    /// About.
    pub bio: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// Where.
    pub location: Option<String>,
    /// IANA zone.
    pub timezone: String,
    /// Language tag.
    pub language: String,
    /// Theme.
    pub theme: Theme,
    /// Notification mail.
    pub notifications: bool,
}

/// Writes the profile fields (the profile row exists since sign-up).
pub async fn update_profile(
    client: &impl GenericClient,
    user_id: UserId,
    update: &ProfileUpdate,
) -> Result<Profile, StoreError> {
    let card = client.prepare_cached(UPDATE_USER_CARD).await?;
    client
        .execute(&card, &[&user_id, &update.name, &update.avatar_url])
        .await?;
    let statement = client.prepare_cached(UPDATE_PROFILE).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &user_id,
                &update.bio,
                &update.website,
                &update.location,
                &update.timezone,
                &update.language,
                &update.theme,
                &update.notifications,
            ],
        )
        .await?;
    required(from_json(&row, "profile")?)
}

/// Whether PostgreSQL knows the IANA time zone `name`.
pub async fn is_timezone(client: &impl GenericClient, name: &str) -> Result<bool, StoreError> {
    let statement = client.prepare_cached(IS_TIMEZONE).await?;
    Ok(client.query_one(&statement, &[&name]).await?.get(0))
}
