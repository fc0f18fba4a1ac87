//! Account pages: sign-up, sign-in, email links, the account and its
//! settings, first-run setup. Handlers parse input, call the store inside
//! one transaction (with its audit row), and render or redirect.

mod account;
mod links;
mod magic_link;
mod oauth;
mod outbox;
mod password_reset;
mod profile;
mod security;
mod setup;
mod sign_in;
mod sign_up;
mod verification;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

use deadpool_postgres::GenericClient;
use time::OffsetDateTime;

use crate::accounts::model::{User, VerificationTokenType};
use crate::accounts::paths;
use crate::accounts::secrets::{random_token, token_hash};
use crate::accounts::store;
use crate::audit::{self, Actor};
use crate::audit::{AuditAction, AuditEntity};
use crate::mail::Mail;
use crate::web::AppState;
use crate::web::page_error::PageError;
use crate::web::visitor::Visitor;

pub use sign_up::{SignUpErrors, SignUpForm};

crate::web::routes::route_table! {
    pub fn routes, pub const ROUTES = [
        paths::SIGN_UP, Public => { get: sign_up::sign_up_page, post: sign_up::sign_up },
        paths::SIGN_IN, Public => { get: sign_in::sign_in_page, post: sign_in::sign_in },
        paths::SIGN_OUT, Public => { post: sign_in::sign_out },
        paths::SETUP, Public => { get: setup::setup_page, post: setup::setup },
        paths::VERIFY_EMAIL, Public => { get: verification::verify_page, post: verification::verify },
        paths::VERIFY_EMAIL_RESEND, Public => { post: verification::resend_verification },
        paths::RESET_PASSWORD, Public => {
            get: password_reset::reset_request_page,
            post: password_reset::reset_request,
        },
        paths::RESET_PASSWORD_CONFIRM, Public => {
            get: password_reset::reset_page,
            post: password_reset::reset,
        },
        paths::MAGIC_LINK, Public => {
            get: magic_link::magic_link_page,
            post: magic_link::magic_link_request,
        },
        paths::MAGIC_LINK_CONFIRM, Public => {
            get: magic_link::magic_link_confirm_page,
            post: magic_link::magic_link_sign_in,
        },
        paths::ACCOUNT, Member => { get: account::account },
        paths::PROFILE, Member => { get: profile::profile_page, post: profile::update_profile },
        paths::EMAIL, Member => { post: profile::change_email },
        paths::SECURITY, Member => { get: security::security },
        paths::PASSWORD, Member => { post: security::change_password },
        paths::PASSWORD_LINK, Member => { post: security::password_link },
        paths::END_OTHER_SESSIONS, Member => { post: security::end_other_sessions },
        paths::END_SESSION, Member => { post: security::end_session },
        paths::OUTBOX, Admin => { get: outbox::outbox },
        paths::OAUTH_START, Public => { get: oauth::start },
        paths::OAUTH_CALLBACK, Public => { get: oauth::callback },
    ]
}

/// How long links in mail work.
const VERIFICATION_LIFETIME: time::Duration = time::Duration::hours(24);
const RESET_LIFETIME: time::Duration = time::Duration::hours(1);
const MAGIC_LINK_LIFETIME: time::Duration = time::Duration::minutes(15);

/// The session cookie for `token`.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    Cookie::build(state.session_cookie_name.clone(), token)
        .path("/")
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(
            i64::try_from(state.sessions.absolute.as_secs()).unwrap_or(i64::MAX),
        ))
        .finish()
}

/// A cookie that removes the session cookie.
pub fn removed_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = session_cookie(state, String::new());
    cookie.make_removal();
    cookie
}

/// Starts a new session for `user` (a fresh token: no fixation), records
/// the sign-in and its audit row, in the caller's transaction. Returns the
/// cookie to set.
pub async fn start_session(
    client: &impl GenericClient,
    state: &AppState,
    user: &User,
    visitor: &Visitor,
    method: &str,
) -> Result<Cookie<'static>, PageError> {
    let token = random_token()?;
    let expires = OffsetDateTime::now_utc()
        + time::Duration::seconds(
            i64::try_from(state.sessions.absolute.as_secs()).unwrap_or(i64::MAX / 2),
        );
    let session = store::create_session(
        client,
        user.id,
        &token_hash(&token),
        expires,
        visitor.ip.as_deref(),
        visitor.user_agent.as_deref(),
    )
    .await?;
    store::mark_login(client, user.id).await?;
    let mut entry = Actor::from(visitor).as_user(user.id).entry(
        AuditAction::Login,
        AuditEntity::Sessions,
        Some(session.id.0),
        audit::Change::none(),
    );
    entry.metadata = Some(serde_json::json!({ "method": method }));
    audit::store::record(client, &entry).await?;
    Ok(session_cookie(state, token))
}

/// Issues a token of `kind` for `email` and returns the link to mail.
pub async fn issue_link(
    client: &impl GenericClient,
    state: &AppState,
    email: &str,
    kind: VerificationTokenType,
    user_id: Option<crate::accounts::model::UserId>,
) -> Result<String, PageError> {
    Ok(issue_token(client, state, email, kind, user_id).await?.0)
}

/// Issues a token of `kind` for `email`: the link to mail and its token.
pub async fn issue_token(
    client: &impl GenericClient,
    state: &AppState,
    email: &str,
    kind: VerificationTokenType,
    user_id: Option<crate::accounts::model::UserId>,
) -> Result<(String, String), PageError> {
    let token = random_token()?;
    let (lifetime, path) = match kind {
        VerificationTokenType::EmailVerification => (VERIFICATION_LIFETIME, "/verify-email"),
        VerificationTokenType::PasswordReset => (RESET_LIFETIME, "/reset-password/confirm"),
        VerificationTokenType::MagicLink => (MAGIC_LINK_LIFETIME, "/magic-link/confirm"),
    };
    store::create_token_for(
        client,
        email,
        &token_hash(&token),
        kind,
        OffsetDateTime::now_utc() + lifetime,
        user_id,
    )
    .await?;
    // Links are built from the configured base URL, never the Host header.
    Ok((format!("{}{path}?token={token}", state.base_url), token))
}

/// The cookie that marks the browser a sign-up (or a new confirmation
/// link) was asked from: opening the link in that browser keeps the
/// password chosen there (see [`crate::accounts::proof`]).
const SIGN_UP_COOKIE: &str = "soloist_sign_up";

/// The sign-up cookie's value for a confirmation link's token.
fn sign_up_binding(token: &str) -> String {
    token_hash(&format!("sign-up:{token}"))
}

/// The sign-up cookie for `token` (a random value when there is none, so
/// the answer looks the same for known and unknown addresses).
pub fn sign_up_cookie(state: &AppState, token: Option<&str>) -> Result<Cookie<'static>, PageError> {
    let value = match token {
        Some(token) => sign_up_binding(token),
        None => sign_up_binding(&random_token()?),
    };
    Ok(Cookie::build(SIGN_UP_COOKIE, value)
        .path("/verify-email")
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(
            VERIFICATION_LIFETIME.whole_seconds(),
        ))
        .finish())
}

/// True when `request` comes from the browser that asked for the
/// confirmation link whose token is `token`.
pub fn asked_from_this_browser(request: &actix_web::HttpRequest, token: &str) -> bool {
    request.cookie(SIGN_UP_COOKIE).is_some_and(|cookie| {
        crate::accounts::secrets::same_secret(cookie.value(), &sign_up_binding(token))
    })
}

/// The verification mail for a new or changed address, in `language`.
pub fn verification_mail(
    state: &AppState,
    language: crate::i18n::Language,
    to: &str,
    link: &str,
) -> Mail {
    let facts = crate::mail::messages::verify_email::Facts {
        link: link.to_owned(),
    };
    facts.mail(&state.mail_site(language), to)
}
