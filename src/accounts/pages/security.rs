//! `/account/security`: sessions (end one, end the others) and the password.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::issue_link;
use crate::accounts::model::{SessionId, VerificationTokenType};
use crate::accounts::paths;
use crate::accounts::secrets::Password;
use crate::accounts::store::{self};
use crate::accounts::user_agent;
use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity, Change, Secret};
use crate::web::AppState;
use crate::web::access::Member;
use crate::web::confirm::{ConfirmForm, ConfirmPage};
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::local_time::LocalTimes;
use crate::web::nav::Nav;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::{SignedIn, Visitor};

/// A row of the sessions table.
#[derive(Clone, Debug)]
pub struct SessionRow {
    /// Session id.
    pub id: String,
    /// Browser and system, as people say it ("Chrome 148 on Linux").
    pub browser: String,
    /// The User-Agent header as sent ("" when there was none).
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
            browser: user_agent::describe_optional(session.user_agent.as_deref()),
            user_agent: session.user_agent.unwrap_or_default(),
            ip: session.ip_address.unwrap_or_default(),
            created: when(session.created_at),
            last_seen: when(last_seen),
            current: session.id == signed_in.session_id,
        })
        .collect();
    let mut layout = Layout::for_visitor(visitor, "Security", "Your sessions and password.");
    // Also shown by the password form's POST: the tabs mark security.
    layout.nav = Nav::at(paths::SECURITY);
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
    request: CsrfForm<ConfirmForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let visitor = request.visitor;
    let session_id = path
        .parse::<uuid::Uuid>()
        .map(SessionId)
        .map_err(|_| PageError::NotFound)?;
    let mut client = state.pool.get().await?;
    if !request.form.confirmed() {
        let (session, _) = store::active_sessions_of(&client, signed_in.user.id)
            .await?
            .into_iter()
            .find(|(session, _)| session.id == session_id)
            .ok_or(PageError::NotFound)?;
        let browser = session
            .user_agent
            .unwrap_or_else(|| "an unknown browser".to_owned());
        let address = session
            .ip_address
            .map(|ip| format!(" at {ip}"))
            .unwrap_or_default();
        let page = ConfirmPage::new(
            &visitor,
            "Sign out this session?",
            paths::end_session(session_id),
            paths::SECURITY,
        )
        .saying(format!(
            "The session in {browser}{address} ends now: whoever uses it must sign in again."
        ))
        .yes("Yes, sign it out");
        let page = if session_id == signed_in.session_id {
            page.saying("It is the session you are using: you will be signed out here.")
        } else {
            page
        };
        return Ok(page.response());
    }
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
    request: CsrfForm<ConfirmForm, Member>,
) -> Result<HttpResponse, PageError> {
    let Member { signed_in, .. } = request.access;
    let visitor = request.visitor;
    let mut client = state.pool.get().await?;
    if !request.form.confirmed() {
        let others = store::active_sessions_of(&client, signed_in.user.id)
            .await?
            .iter()
            .filter(|(session, _)| session.id != signed_in.session_id)
            .count();
        return Ok(ConfirmPage::new(
            &visitor,
            "Sign out all other sessions?",
            paths::END_OTHER_SESSIONS,
            paths::SECURITY,
        )
        .saying(format!(
            "{others} other session(s) end now, on every other device and browser; this one stays signed in."
        ))
        .yes("Yes, sign out the others")
        .response());
    }
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
    let facts = crate::mail::messages::choose_password::Facts {
        name: signed_in.user.name.clone(),
        link,
    };
    let site = state.mail_site(_request.visitor.language);
    state.send_mail_later(facts.mail(&site, &signed_in.user.email));
    Ok(see_other_with(paths::SECURITY, Notice::PasswordLinkSent))
}
