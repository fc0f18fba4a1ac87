//! Password reset: a mailed link to choose a new password.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::issue_link;
use super::links::{TokenQuery, check_email_page, expired_link, no_referrer};
use crate::accounts::model::Email;
use crate::accounts::model::VerificationTokenType;
use crate::accounts::paths;
use crate::accounts::proof;
use crate::accounts::secrets::{Password, token_hash};
use crate::accounts::store;
use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity, Change, Secret};
use crate::i18n::Language;
use crate::mail::Mail;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::rate_limit::{self, EMAIL_LINK_PER_ACCOUNT, EMAIL_LINK_PER_IP};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

/// `GET /reset-password`.
#[derive(Template)]
#[template(path = "accounts/reset_request.html")]
pub struct ResetRequestPage {
    /// The layout.
    pub layout: Layout,
    /// Typed email.
    pub email: String,
    /// The form's error.
    pub error: Option<String>,
}

pub async fn reset_request_page(visitor: Visitor) -> HttpResponse {
    let page = ResetRequestPage {
        layout: Layout::for_visitor(
            &visitor,
            "Reset your password",
            "Get a link to choose a new password.",
        ),
        email: String::new(),
        error: None,
    };
    render(&page, StatusCode::OK)
}

/// An email-only form.
#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    pub email: String,
}

/// Rate-limits a link request, then mails a link of `kind` when the address
/// has an active account: the same work and answer either way.
pub(super) async fn mail_link_if_known(
    state: &AppState,
    visitor: &Visitor,
    email: &str,
    kind: VerificationTokenType,
    compose: fn(&AppState, Language, &crate::accounts::model::User, &str) -> Mail,
) -> Result<(), PageError> {
    let client = state.pool.get().await?;
    let ip = rate_limit::network_of(visitor.ip.as_deref());
    if !rate_limit::allow(&client, &EMAIL_LINK_PER_IP, &ip).await?
        || !rate_limit::allow(&client, &EMAIL_LINK_PER_ACCOUNT, email).await?
    {
        return Err(PageError::TooManyRequests);
    }
    let user = store::user_by_email(&client, email)
        .await?
        .filter(|user| user.is_active);
    if let Some(user) = user {
        let link = issue_link(&client, state, &user.email, kind, None).await?;
        let language = store::language_of(&client, user.id).await?;
        state.send_mail_later(compose(state, language, &user, &link));
    }
    Ok(())
}

pub(super) fn reset_mail(
    state: &AppState,
    language: Language,
    user: &crate::accounts::model::User,
    link: &str,
) -> Mail {
    let facts = crate::mail::messages::reset_password::Facts {
        name: user.name.clone(),
        link: link.to_owned(),
    };
    facts.mail(&state.mail_site(language), &user.email)
}

pub(super) fn magic_link_mail(
    state: &AppState,
    language: Language,
    user: &crate::accounts::model::User,
    link: &str,
) -> Mail {
    let facts = crate::mail::messages::magic_link::Facts {
        name: user.name.clone(),
        link: link.to_owned(),
    };
    facts.mail(&state.mail_site(language), &user.email)
}

/// `POST /reset-password`: always "check your email".
pub async fn reset_request(
    state: web::Data<AppState>,
    request: CsrfForm<EmailForm>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let Ok(email) = Email::parse(&form.email) else {
        let page = ResetRequestPage {
            layout: Layout::for_visitor(
                &visitor,
                "Reset your password",
                "Get a link to choose a new password.",
            ),
            email: form.email.chars().take(254).collect(),
            error: Some("Enter an email address like name@example.com.".to_owned()),
        };
        return Ok(render(&page, StatusCode::UNPROCESSABLE_ENTITY));
    };
    mail_link_if_known(
        &state,
        &visitor,
        &email,
        VerificationTokenType::PasswordReset,
        reset_mail,
    )
    .await?;
    Ok(check_email_page(
        &visitor,
        "Check your email",
        &format!(
            "If {email} has an account, a link to reset its password is on its way. It works for one hour."
        ),
    ))
}

/// `GET /reset-password/confirm?token=`.
#[derive(Template)]
#[template(path = "accounts/reset_password.html")]
pub struct ResetPasswordPage {
    /// The layout.
    pub layout: Layout,
    /// The token from the link.
    pub token: String,
    /// The form's error.
    pub error: Option<String>,
}

pub async fn reset_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    if !store::token_is_live(
        &client,
        &token_hash(&query.token),
        VerificationTokenType::PasswordReset,
    )
    .await?
    {
        return Ok(expired_link(&visitor));
    }
    let page = ResetPasswordPage {
        layout: Layout::for_visitor(&visitor, "Choose a new password", "Choose a new password."),
        token: query.token.chars().take(64).collect(),
        error: None,
    };
    Ok(no_referrer(render(&page, StatusCode::OK)))
}

/// The new-password form.
#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

/// `POST /reset-password/confirm`: sets the password, ends every session
/// of the account, and sends a notice.
pub async fn reset(
    state: web::Data<AppState>,
    request: CsrfForm<ResetForm>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let password = match Password::new(&form.password, &[]) {
        Ok(password) => password,
        Err(error) => {
            let page = ResetPasswordPage {
                layout: Layout::for_visitor(
                    &visitor,
                    "Choose a new password",
                    "Choose a new password.",
                ),
                token: form.token.chars().take(64).collect(),
                error: Some(error.to_string()),
            };
            return Ok(no_referrer(render(&page, StatusCode::UNPROCESSABLE_ENTITY)));
        }
    };
    let password_hash = state.hasher.hash(&password).await?;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let Some((email, _)) = store::redeem_token(
        &transaction,
        &token_hash(&form.token),
        VerificationTokenType::PasswordReset,
    )
    .await?
    else {
        return Ok(expired_link(&visitor));
    };
    let Some(user) = store::user_by_email(&transaction, &email).await? else {
        return Ok(expired_link(&visitor));
    };
    let actor = Actor::from(&visitor).as_user(user.id);
    // Opening the mailed link proves the address too; the new password is
    // the prover's own.
    proof::address_proven(&transaction, &user, true, &actor, "password reset").await?;
    store::set_password_hash(&transaction, user.id, &password_hash).await?;
    let ended = store::end_other_sessions(&transaction, user.id, None).await?;
    // Other links mailed before (another reset, a magic link, an email
    // change) die with the old password.
    store::revoke_links(&transaction, &user.email, user.id).await?;
    let mut entry = actor.entry(
        AuditAction::Update,
        AuditEntity::Accounts,
        Some(user.id.0),
        Change::none().secret("password_hash", Secret::Replaced),
    );
    entry.metadata =
        Some(serde_json::json!({ "via": "password reset", "sessions_ended": ended.len() }));
    audit::store::record(&transaction, &entry).await?;
    let language = store::language_of(&transaction, user.id).await?;
    transaction.commit().await?;
    let facts = crate::mail::messages::password_changed::Facts {
        name: user.name.clone(),
    };
    state.send_mail_later(facts.mail(&state.mail_site(language), &user.email));
    Ok(see_other_with(paths::SIGN_IN, Notice::PasswordReset))
}
