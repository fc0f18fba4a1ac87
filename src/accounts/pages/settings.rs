//! The signed-in user's pages: the account overview, profile, email change,
//! sessions and password; and the admins' development outbox.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::issue_link;
use crate::accounts::model::DisplayName;
use crate::accounts::model::Email;
use crate::accounts::model::{SessionId, Theme, VerificationTokenType};
use crate::accounts::paths;
use crate::accounts::secrets::Password;
use crate::accounts::store::{self, ProfileUpdate};
use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity, Change, Fields, Secret};
use crate::web::AppState;
use crate::web::access::{Admin, Member};
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::{SignedIn, Visitor};

/// The plan line of the account page.
#[derive(Clone, Debug)]
pub struct PlanSummary {
    /// Plan name.
    pub name: String,
    /// Subscription status.
    pub status: String,
    /// Price and interval.
    pub price: String,
    /// When the period ends.
    pub period_end: Option<String>,
}

/// A post line of the account page.
#[derive(Clone, Debug)]
pub struct PostSummary {
    /// Title.
    pub title: String,
    /// Slug.
    pub slug: String,
    /// Publication time.
    pub published: String,
}

/// `GET /account`.
#[derive(Template)]
#[template(path = "accounts/account.html")]
pub struct AccountPage {
    /// The layout.
    pub layout: Layout,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
    /// Account creation.
    pub member_since: String,
    /// Last sign-in.
    pub last_login: Option<String>,
    /// Avatar.
    pub avatar_url: Option<String>,
    /// Bio.
    pub bio: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Location.
    pub location: Option<String>,
    /// Time zone.
    pub timezone: String,
    /// The subscription.
    pub plan: Option<PlanSummary>,
    /// Latest published posts.
    pub posts: Vec<PostSummary>,
}

/// `GET /account`: the seed's "user with details", one query.
pub async fn account(
    Member { visitor, signed_in }: Member,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let details = store::user_with_details(&client, signed_in.user.id)
        .await?
        .ok_or(PageError::SignInRequired)?;
    let profile = details.profile.as_ref();
    let zone = profile
        .and_then(|profile| profile.timezone.clone())
        .unwrap_or_else(|| "UTC".to_owned());
    let moments = [Some(details.user.created_at), details.user.last_login_at]
        .into_iter()
        .chain(
            details
                .subscription
                .iter()
                .map(|subscription| subscription.subscription.current_period_end),
        )
        .chain(details.posts.iter().map(|post| post.published_at))
        .flatten();
    let times = LocalTimes::load(&client, &zone, moments).await?;
    let when = |moment| times.show(moment);
    let page = AccountPage {
        layout: Layout::for_visitor(&visitor, "Your account", "Your account.")
            .with_notice(&request),
        name: details.user.name.clone(),
        email: details.user.email.clone(),
        role: details.user.role.as_str().to_owned(),
        member_since: when(details.user.created_at),
        last_login: details.user.last_login_at.map(when),
        avatar_url: details.user.avatar_url.clone(),
        bio: profile.and_then(|profile| profile.bio.clone()),
        website: profile.and_then(|profile| profile.website.clone()),
        location: profile.and_then(|profile| profile.location.clone()),
        timezone: profile
            .and_then(|profile| profile.timezone.clone())
            .unwrap_or_else(|| "UTC".to_owned()),
        plan: details
            .subscription
            .as_ref()
            .map(|subscription| PlanSummary {
                name: subscription.plan.name.clone(),
                status: subscription.subscription.status.as_str().to_owned(),
                price: format!(
                    "{}.{:02} {} / {}",
                    subscription.plan.price_cents / 100,
                    subscription.plan.price_cents % 100,
                    subscription.plan.currency,
                    subscription.plan.interval
                ),
                period_end: subscription.subscription.current_period_end.map(when),
            }),
        posts: details
            .posts
            .iter()
            .map(|post| PostSummary {
                title: post.title.clone(),
                slug: post.slug.clone(),
                published: post.published_at.map(when).unwrap_or_default(),
            })
            .collect(),
    };
    Ok(render(&page, StatusCode::OK))
}

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

const LANGUAGES: &[&str] = &["en", "de", "fr", "es"];

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
        language: profile.language.unwrap_or_else(|| "en".to_owned()),
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
        .map(DisplayName::into_string)
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
    let language = if LANGUAGES.contains(&form.language.as_str()) {
        form.language.clone()
    } else {
        "en".to_owned()
    };
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
        name,
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
    let email = Email::parse(&form.email).map(Email::into_string);
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
        (Ok(email), true) if *email == signed_in.user.email => {
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
    if store::user_by_email(&client, &email).await?.is_some() {
        let site = state.mail_site();
        let facts = crate::mail::messages::address_taken::Facts {};
        state.send_mail_later(crate::mail::messages::or_plain(
            facts.to(&site, &email),
            &email,
            &facts.subject(&site),
        ));
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
    state.send_mail_later(super::verification_mail(&state, &email, &link));
    Ok(see_other_with(paths::PROFILE, Notice::EmailChangeSent))
}

/// A row of the sessions table.
#[derive(Clone, Debug)]
pub struct SessionRow {
    /// Session id.
    pub id: String,
    /// Browser.
    pub user_agent: String,
    /// Address.
    pub ip: String,
    /// Sign-in time.
    pub created: String,
    /// Last activity.
    pub last_seen: String,
    /// Whether it is the one in use.
    pub current: bool,
}

/// Messages next to the password fields.
#[derive(Clone, Debug, Default)]
pub struct PasswordErrors {
    /// About the current password.
    pub current: Option<String>,
    /// About the new password.
    pub new: Option<String>,
}

/// `GET /account/security`.
#[derive(Template)]
#[template(path = "accounts/security.html")]
pub struct SecurityPage {
    /// The layout.
    pub layout: Layout,
    /// Live sessions.
    pub sessions: Vec<SessionRow>,
    /// Password form messages.
    pub password_errors: PasswordErrors,
    /// Whether the account has a password (else it is offered a link to
    /// choose one).
    pub has_password: bool,
    /// Sign-in providers this account can connect: (URL slug, name).
    pub providers: Vec<(String, String)>,
}

async fn security_page(
    state: &AppState,
    visitor: &Visitor,
    signed_in: &SignedIn,
    request: Option<&HttpRequest>,
    password_errors: PasswordErrors,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let sessions = store::active_sessions_of(&client, signed_in.user.id).await?;
    let has_password = store::password_hash_of(&client, signed_in.user.id)
        .await?
        .is_some();
    let moments = sessions
        .iter()
        .flat_map(|(session, last_seen)| [session.created_at, *last_seen]);
    let times = LocalTimes::load(&client, &signed_in.timezone, moments).await?;
    let when = |moment| times.show(moment);
    let sessions = sessions
        .into_iter()
        .map(|(session, last_seen)| SessionRow {
            id: session.id.to_string(),
            user_agent: session
                .user_agent
                .unwrap_or_else(|| "Unknown browser".to_owned()),
            ip: session.ip_address.unwrap_or_default(),
            created: when(session.created_at),
            last_seen: when(last_seen),
            current: session.id == signed_in.session_id,
        })
        .collect();
    let mut layout = Layout::for_visitor(visitor, "Security", "Your sessions and password.");
    if let Some(request) = request {
        layout = layout.with_notice(request);
    }
    let page = SecurityPage {
        layout,
        sessions,
        password_errors,
        has_password,
        providers: state
            .oauth
            .iter()
            .map(|provider| (provider.kind.slug().to_owned(), provider.kind.to_string()))
            .collect(),
    };
    Ok(render(&page, status))
}

pub async fn security(
    Member { visitor, signed_in }: Member,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    security_page(
        &state,
        &visitor,
        &signed_in,
        Some(&request),
        PasswordErrors::default(),
        StatusCode::OK,
    )
    .await
}

/// `POST /account/sessions/{id}/end`: only the user's own sessions (any
/// other id is 404, whoever owns it).
pub async fn end_session(
    state: web::Data<AppState>,
    path: web::Path<String>,
    request: CsrfForm<EmptyForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let visitor = request.visitor;
    let session_id = path
        .parse::<uuid::Uuid>()
        .map(SessionId)
        .map_err(|_| PageError::NotFound)?;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    if !store::end_session(&transaction, signed_in.user.id, session_id).await? {
        return Err(PageError::NotFound);
    }
    audit::store::record(
        &transaction,
        &Actor::from(&visitor).entry(
            AuditAction::Logout,
            AuditEntity::Sessions,
            Some(session_id.0),
            audit::Change::none(),
        ),
    )
    .await?;
    transaction.commit().await?;
    if session_id == signed_in.session_id {
        let mut response = see_other_with(crate::web::HOME, Notice::SignedOut);
        response
            .add_cookie(&super::removed_session_cookie(&state))
            .ok();
        return Ok(response);
    }
    Ok(see_other_with(paths::SECURITY, Notice::SessionEnded))
}

/// `POST /account/sessions/end-others`.
pub async fn end_other_sessions(
    state: web::Data<AppState>,
    request: CsrfForm<EmptyForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let visitor = request.visitor;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let ended =
        store::end_other_sessions(&transaction, signed_in.user.id, Some(signed_in.session_id))
            .await?;
    for session_id in &ended {
        audit::store::record(
            &transaction,
            &Actor::from(&visitor).entry(
                AuditAction::Logout,
                AuditEntity::Sessions,
                Some(session_id.0),
                audit::Change::none(),
            ),
        )
        .await?;
    }
    transaction.commit().await?;
    Ok(see_other_with(paths::SECURITY, Notice::SessionsEnded))
}

/// The password-change form.
#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /account/password`: needs the current password; ends the other
/// sessions.
pub async fn change_password(
    state: web::Data<AppState>,
    request: CsrfForm<PasswordForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let CsrfForm { form, visitor, .. } = request;
    let client = state.pool.get().await?;
    let stored = store::password_hash_of(&client, signed_in.user.id).await?;
    drop(client);
    let mut errors = PasswordErrors::default();
    let current_ok = match (Password::attempt(&form.current_password), &stored) {
        (Some(password), Some(hash)) => state.hasher.verify(&password, Some(hash)).await?,
        // A first password goes through a link mailed to the address
        // (`POST /account/password/link`): a stolen session alone must not
        // be able to give the account a password.
        (_, None) => false,
        (None, Some(_)) => false,
    };
    if !current_ok {
        errors.current = Some(if stored.is_some() {
            "That is not your current password.".to_owned()
        } else {
            "This account has no password yet: use the link we mail you to choose one.".to_owned()
        });
    }
    let new = Password::new(
        &form.new_password,
        &[&signed_in.user.email, &signed_in.user.name],
    )
    .map_err(|error| errors.new = Some(error.to_string()))
    .ok();
    let (true, Some(new)) = (current_ok, new) else {
        return security_page(
            &state,
            &visitor,
            &signed_in,
            None,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let password_hash = state.hasher.hash(&new).await?;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    store::set_password_hash(&transaction, signed_in.user.id, &password_hash).await?;
    let ended =
        store::end_other_sessions(&transaction, signed_in.user.id, Some(signed_in.session_id))
            .await?;
    // Links mailed before (a reset, a magic link, an email change) die
    // with the old password.
    store::revoke_links(&transaction, &signed_in.user.email, signed_in.user.id).await?;
    let mut entry = Actor::from(&visitor).entry(
        AuditAction::Update,
        AuditEntity::Accounts,
        Some(signed_in.user.id.0),
        Change::none().secret("password_hash", Secret::Replaced),
    );
    entry.metadata = Some(serde_json::json!({ "sessions_ended": ended.len() }));
    audit::store::record(&transaction, &entry).await?;
    transaction.commit().await?;
    Ok(see_other_with(paths::SECURITY, Notice::PasswordChanged))
}

/// `POST /account/password/link`: mails the signed-in user's address a
/// link to choose a password (an account that has none proves it owns the
/// address first; a stolen session cannot).
pub async fn password_link(
    state: web::Data<AppState>,
    _request: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = Member::of(_request.visitor.clone())?;
    let client = state.pool.get().await?;
    if !crate::web::rate_limit::allow(
        &client,
        &crate::web::rate_limit::EMAIL_LINK_PER_ACCOUNT,
        &signed_in.user.email,
    )
    .await?
    {
        return Err(PageError::TooManyRequests);
    }
    let link = issue_link(
        &client,
        &state,
        &signed_in.user.email,
        VerificationTokenType::PasswordReset,
        None,
    )
    .await?;
    let site = state.mail_site();
    let facts = crate::mail::messages::choose_password::Facts {
        name: signed_in.user.name.clone(),
        link,
    };
    state.send_mail_later(crate::mail::messages::or_plain(
        facts.to(&site, &signed_in.user.email),
        &signed_in.user.email,
        &facts.subject(&site),
    ));
    Ok(see_other_with(paths::SECURITY, Notice::PasswordLinkSent))
}

/// An outbox message as shown.
#[derive(Clone, Debug)]
pub struct OutboxMessage {
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// When.
    pub sent: String,
}

/// `GET /admin/outbox`.
#[derive(Template)]
#[template(path = "admin/outbox.html")]
pub struct OutboxPage {
    /// The layout.
    pub layout: Layout,
    /// Newest first.
    pub messages: Vec<OutboxMessage>,
    /// Mail is sent over SMTP (the outbox only holds older mail).
    pub mail_sent: bool,
    /// Only this machine reaches the site: every message is shown whole.
    pub local_only: bool,
}

/// Hides the tokens of a message's links (`token=...`), so that reading
/// someone else's mail in the outbox does not let an admin into their
/// account.
fn mask_tokens(body: &str) -> String {
    let mut masked = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("token=") {
        let (before, after) = rest.split_at(at + "token=".len());
        masked.push_str(before);
        let end = after
            .find(|character: char| character.is_whitespace() || character == '&')
            .unwrap_or(after.len());
        if end > 0 {
            masked.push_str("[hidden]");
        }
        rest = &after[end..];
    }
    masked.push_str(rest);
    masked
}

/// `GET /admin/outbox` (admins only). Each
/// admin reads their own mail whole; the links in anyone else's are
/// masked, unless only this machine can reach the site.
pub async fn outbox(
    Admin {
        visitor,
        signed_in: admin,
    }: Admin,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let entries = crate::mail::recent_outbox(&client, 100).await?;
    let times = LocalTimes::load(
        &client,
        &admin.timezone,
        entries.iter().map(|entry| entry.created_at),
    )
    .await?;
    let when = |moment| times.show(moment);
    let messages = entries
        .into_iter()
        .map(|entry| {
            let whole = state.local_only || entry.to.eq_ignore_ascii_case(&admin.user.email);
            OutboxMessage {
                body: if whole {
                    entry.body
                } else {
                    mask_tokens(&entry.body)
                },
                to: entry.to,
                subject: entry.subject,
                sent: when(entry.created_at),
            }
        })
        .collect();
    let page = OutboxPage {
        layout: Layout::for_visitor(
            &visitor,
            "Development outbox",
            "Mail written while no SMTP server is set.",
        ),
        messages,
        mail_sent: state.mailer.sends(),
        local_only: state.local_only,
    };
    Ok(render(&page, StatusCode::OK))
}

#[cfg(test)]
mod tests {
    use super::mask_tokens;

    #[test]
    fn outbox_links_lose_their_tokens_and_keep_the_rest() {
        assert_eq!(
            mask_tokens("Open:\n\nhttps://site.example/verify-email?token=abc_DEF-123\n\nThanks"),
            "Open:\n\nhttps://site.example/verify-email?token=[hidden]\n\nThanks"
        );
        assert_eq!(
            mask_tokens("a ?token=x&next=/ b token=y"),
            "a ?token=[hidden]&next=/ b token=[hidden]"
        );
        assert_eq!(mask_tokens("no links"), "no links");
    }
}
