//! SQL on `user_profiles` (and the user's name and avatar shown with them).

use deadpool_postgres::GenericClient;

use crate::accounts::model::{Profile, Theme, UserId};
use crate::db::{StoreError, from_json, required};
use crate::i18n::Language;

pub(super) const INSERT_PROFILE: &str = "INSERT INTO user_profiles (user_id, language) VALUES ($1, $2) \
     RETURNING to_jsonb(user_profiles.*)";
pub(super) const PROFILE_OF: &str = "SELECT to_jsonb(p) FROM user_profiles p WHERE p.user_id = $1";
pub(super) const LANGUAGE_OF: &str = "SELECT language FROM user_profiles WHERE user_id = $1";
pub(super) const SET_LANGUAGE: &str = "UPDATE user_profiles SET language = $2 WHERE user_id = $1";
pub(super) const UPDATE_PROFILE: &str = "UPDATE user_profiles SET bio = $2, website = $3, location = $4, timezone = $5, \
     language = $6, theme = $7, notifications_enabled = $8 WHERE user_id = $1 \
     RETURNING to_jsonb(user_profiles.*) AS profile";
pub(super) const UPDATE_USER_CARD: &str =
    "UPDATE users SET name = $2, avatar_url = $3 WHERE id = $1";
pub(super) const IS_TIMEZONE: &str =
    "SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $1)";

/// Creates a user's profile with the seed's defaults (English).
pub async fn create_profile(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Profile, StoreError> {
    create_profile_in(client, user_id, Language::En).await
}

/// Creates a user's profile with the seed's defaults, in `language` (the
/// one the browser asked for, at sign-up).
pub async fn create_profile_in(
    client: &impl GenericClient,
    user_id: UserId,
    language: Language,
) -> Result<Profile, StoreError> {
    let statement = client.prepare_cached(INSERT_PROFILE).await?;
    let row = client
        .query_one(&statement, &[&user_id, &language.as_str()])
        .await?;
    required(from_json(&row, "to_jsonb")?)
}

/// Sets the language of a new user's profile (a sign-up through a
/// provider, whose profile the linking rules made).
pub async fn set_language(
    client: &impl GenericClient,
    user_id: UserId,
    language: Language,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(SET_LANGUAGE).await?;
    client
        .execute(&statement, &[&user_id, &language.as_str()])
        .await?;
    Ok(())
}

/// The language mail to the user is written in: their profile's, English
/// when it names no complete language or there is no profile.
pub async fn language_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Language, StoreError> {
    let statement = client.prepare_cached(LANGUAGE_OF).await?;
    let stored: Option<String> = match client.query_opt(&statement, &[&user_id]).await? {
        Some(row) => row.try_get(0)?,
        None => None,
    };
    Ok(Language::of_profile(stored.as_deref()))
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
