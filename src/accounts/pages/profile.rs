//! The profile page and the email change it starts.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::issue_link;
use crate::accounts::model::DisplayName;
use crate::accounts::model::Email;
use crate::accounts::model::{Theme, VerificationTokenType};
use crate::accounts::paths;
use crate::accounts::secrets::Password;
use crate::accounts::store::{self, ProfileUpdate};
use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity, Fields};
use crate::i18n::Language;
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::csrf::CsrfForm;
use crate::web::nav::Nav;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::{SignedIn, Visitor};

/// Messages next to the profile fields.
#[derive(Clone, Debug, Default)]
pub struct ProfileErrors {
    /// About the name.
    pub name: Option<String>,
    /// About the avatar URL.
    pub avatar_url: Option<String>,
    /// About the website.
    pub website: Option<String>,
    /// About the time zone.
    pub timezone: Option<String>,
}

impl ProfileErrors {
    /// Each message with the id of its field, in the form's order.
    pub fn summary(&self) -> Vec<crate::web::forms::Problem> {
        crate::web::forms::Problem::list(&[
            ("name", &self.name),
            ("avatar_url", &self.avatar_url),
            ("website", &self.website),
            ("timezone", &self.timezone),
        ])
    }
}

/// `GET /account/profile`.
#[derive(Template)]
#[template(path = "accounts/profile.html")]
pub struct ProfilePage {
    /// The layout.
    pub layout: Layout,
    /// Name.
    pub name: String,
    /// Avatar URL.
    pub avatar_url: String,
    /// Bio.
    pub bio: String,
    /// Website.
    pub website: String,
    /// Location.
    pub location: String,
    /// Time zone.
    pub timezone: String,
    /// Language.
    pub language: String,
    /// Theme.
    pub theme: String,
    /// Notification mail.
    pub notifications: bool,
    /// Field messages.
    pub errors: ProfileErrors,
    /// The current email.
    pub email: String,
    /// The email form's message.
    pub email_error: Option<String>,
}

/// The profile form.
#[derive(Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    avatar_url: String,
    #[serde(default)]
    bio: String,
    #[serde(default)]
    website: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    timezone: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    theme: String,
    #[serde(default)]
    notifications: Option<String>,
}

pub async fn profile_page(
    Member { visitor, signed_in }: Member,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let email = signed_in.user.email.clone();
    profile_view(
        &state,
        &visitor,
        &signed_in,
        email,
        None,
        StatusCode::OK,
        Some(&request),
    )
    .await
}

/// The profile page with the stored values, a message for the email form,
/// and the `?notice=` of `request` (after a save).
async fn profile_view(
    state: &AppState,
    visitor: &Visitor,
    signed_in: &SignedIn,
    email: String,
    email_error: Option<String>,
    status: StatusCode,
    request: Option<&HttpRequest>,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let profile = match store::profile_of(&client, signed_in.user.id).await? {
        Some(profile) => profile,
        None => store::create_profile(&client, signed_in.user.id).await?,
    };
    let mut layout = Layout::for_visitor(visitor, "Your profile", "Edit your profile.");
    // Also shown by the email form's POST: the tabs mark the profile.
    layout.nav = Nav::at(paths::PROFILE);
    if let Some(request) = request {
        layout = layout.with_notice(request);
    }
    let page = ProfilePage {
        layout,
        name: signed_in.user.name.clone(),
        avatar_url: signed_in.user.avatar_url.clone().unwrap_or_default(),
        bio: profile.bio.unwrap_or_default(),
        website: profile.website.unwrap_or_default(),
        location: profile.location.unwrap_or_default(),
        timezone: profile.timezone.unwrap_or_else(|| "UTC".to_owned()),
        // A tag of no complete language (`fr`, `es`, offered once) reads
        // as English and is kept until the form is saved.
        language: Language::of_profile(profile.language.as_deref())
            .as_str()
            .to_owned(),
        theme: profile.theme.unwrap_or(Theme::System).as_str().to_owned(),
        notifications: profile.notifications_enabled.unwrap_or(true),
        errors: ProfileErrors::default(),
        email,
        email_error,
    };
    Ok(render(&page, status))
}

/// An optional http(s) URL of at most 2,000 characters.
fn parse_url(text: &str) -> Result<Option<String>, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let valid = (text.starts_with("https://") || text.starts_with("http://"))
        && text.len() <= 2000
        && !text.chars().any(|character| {
            character.is_whitespace() || character.is_control() || character == '"'
        });
    if valid {
        Ok(Some(text.to_owned()))
    } else {
        Err("Enter a web address starting with https://.")
    }
}

fn optional_text(text: &str, limit: usize) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(limit).collect())
}

/// `POST /account/profile`.
pub async fn update_profile(
    state: web::Data<AppState>,
    request: CsrfForm<ProfileForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let CsrfForm { form, visitor, .. } = request;
    let mut errors = ProfileErrors::default();
    let name = DisplayName::parse(&form.name)
        .map_err(|message| errors.name = Some(message.to_owned()))
        .ok();
    let avatar_url = parse_url(&form.avatar_url)
        .map_err(|message| errors.avatar_url = Some(message.to_owned()))
        .ok();
    let website = parse_url(&form.website)
        .map_err(|message| errors.website = Some(message.to_owned()))
        .ok();
    let mut client = state.pool.get().await?;
    let timezone = form.timezone.trim().to_owned();
    if !store::is_timezone(&client, &timezone).await? {
        errors.timezone = Some("Choose a time zone such as Europe/Berlin or UTC.".to_owned());
    }
    let theme = form.theme.parse::<Theme>().unwrap_or(Theme::System);
    let language = Language::parse(&form.language)
        .unwrap_or_default()
        .as_str()
        .to_owned();
    let (Some(name), Some(avatar_url), Some(website), None) =
        (name, avatar_url, website, &errors.timezone)
    else {
        let page = ProfilePage {
            layout: Layout::for_visitor(&visitor, "Your profile", "Edit your profile."),
            name: form.name.chars().take(100).collect(),
            avatar_url: form.avatar_url.chars().take(2000).collect(),
            bio: form.bio.chars().take(2000).collect(),
            website: form.website.chars().take(2000).collect(),
            location: form.location.chars().take(200).collect(),
            timezone: form.timezone.chars().take(64).collect(),
            language,
            theme: theme.as_str().to_owned(),
            notifications: form.notifications.is_some(),
            errors,
            email: signed_in.user.email.clone(),
            email_error: None,
        };
        return Ok(render(&page, StatusCode::UNPROCESSABLE_ENTITY));
    };
    let update = ProfileUpdate {
        name: name.into_string(),
        avatar_url,
        bio: optional_text(&form.bio, 2000),
        website,
        location: optional_text(&form.location, 200),
        timezone,
        language,
        theme,
        notifications: form.notifications.is_some(),
    };
    let transaction = client.transaction().await?;
    let before = match store::profile_of(&transaction, signed_in.user.id).await? {
        Some(profile) => profile,
        None => store::create_profile(&transaction, signed_in.user.id).await?,
    };
    let after = store::update_profile(&transaction, signed_in.user.id, &update).await?;
    let identity = |name: &str, avatar_url: &Option<String>| {
        Fields::new()
            .with("name", name)
            .with("avatar_url", avatar_url)
    };
    let changes = audit::changed(
        &identity(&signed_in.user.name, &signed_in.user.avatar_url),
        &identity(&update.name, &update.avatar_url),
    )
    .and(audit::changed(&before, &after));
    if !changes.is_empty() {
        audit::store::record(
            &transaction,
            &Actor::from(&visitor).entry(
                AuditAction::Update,
                AuditEntity::UserProfiles,
                Some(after.id.0),
                changes,
            ),
        )
        .await?;
    }
    transaction.commit().await?;
    Ok(see_other_with(paths::PROFILE, Notice::ProfileSaved))
}

/// The email-change form.
#[derive(Deserialize)]
pub struct EmailChangeForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// `POST /account/email`: needs the password; the change happens when the
/// link mailed to the new address is opened.
pub async fn change_email(
    state: web::Data<AppState>,
    request: CsrfForm<EmailChangeForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let CsrfForm { form, visitor, .. } = request;
    let email = Email::parse(&form.email);
    let client = state.pool.get().await?;
    let stored = store::password_hash_of(&client, signed_in.user.id).await?;
    drop(client);
    let password = Password::attempt(&form.password);
    let password_ok = match &password {
        Some(password) => state.hasher.verify(password, stored.as_deref()).await?,
        None => false,
    };
    let error = match (&email, password_ok) {
        (Err(message), _) => Some((*message).to_owned()),
        (Ok(_), false) => Some("Your current password is needed to change your email.".to_owned()),
        (Ok(email), true) if email.as_str() == signed_in.user.email => {
            Some("That is already your address.".to_owned())
        }
        _ => None,
    };
    if let Some(error) = error {
        let typed: String = form.email.chars().take(254).collect();
        return profile_view(
            &state,
            &visitor,
            &signed_in,
            typed,
            Some(error),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        )
        .await;
    }
    let Ok(email) = email else {
        return Err(PageError::BadRequest("Enter an email address.".to_owned()));
    };
    // Whether or not the address is taken, the answer is the same. A taken
    // address gets a notice, never a link that looks like a sign-up
    // confirmation.
    let client = state.pool.get().await?;
    if let Some(owner) = store::user_by_email(&client, &email).await? {
        // Written to the address's own account, in its owner's language.
        let language = store::language_of(&client, owner.id).await?;
        let facts = crate::mail::messages::address_taken::Facts {};
        state.send_mail_later(facts.mail(&state.mail_site(language), &email));
        return Ok(see_other_with(paths::PROFILE, Notice::EmailChangeSent));
    }
    let link = issue_link(
        &client,
        &state,
        &email,
        VerificationTokenType::EmailVerification,
        Some(signed_in.user.id),
    )
    .await?;
    state.send_mail_later(super::verification_mail(
        &state,
        visitor.language,
        &email,
        &link,
    ));
    Ok(see_other_with(paths::PROFILE, Notice::EmailChangeSent))
}
