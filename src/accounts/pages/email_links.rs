//! The flows that go through a mailed link: email verification, password
//! reset and magic-link sign-in. A link opens a page whose button POSTs the
//! token (GET never changes data, and mail scanners that fetch links do not
//! use them up). Tokens are single use, even under concurrent redemption.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{actor, issue_link, parse_email, see_other, start_session};
use crate::accounts::model::VerificationTokenType;
use crate::accounts::secrets::{Password, token_hash};
use crate::accounts::store;
use crate::audit;
use crate::mail::Mail;
use crate::web::AppState;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::failure::PageError;
use crate::web::pages::{Layout, render};
use crate::web::rate_limit::{self, EMAIL_LINK_PER_ACCOUNT, EMAIL_LINK_PER_IP};
use crate::web::visitor::Visitor;

/// "Check your email" and other one-message pages.
#[derive(Template)]
#[template(path = "accounts/check_email.html")]
pub struct CheckEmailPage {
    /// The layout.
    pub layout: Layout,
    /// The heading.
    pub heading: String,
    /// The message.
    pub message: String,
}

/// A one-message page.
pub fn check_email_page(visitor: &Visitor, heading: &str, message: &str) -> HttpResponse {
    let page = CheckEmailPage {
        layout: Layout::for_visitor(visitor, heading, message),
        heading: heading.to_owned(),
        message: message.to_owned(),
    };
    render(&page, StatusCode::OK)
}

/// The page a mailed link opens: one button that POSTs the token.
#[derive(Template)]
#[template(path = "accounts/confirm_token.html")]
pub struct ConfirmTokenPage {
    /// The layout.
    pub layout: Layout,
    /// The heading.
    pub heading: String,
    /// The message.
    pub message: String,
    /// Where the button posts.
    pub action: String,
    /// The token from the link.
    pub token: String,
    /// The button's label.
    pub button: String,
}

/// A token in a link or a form.
#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// Token pages must not leak the token through the Referer header.
fn no_referrer(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn expired_link(visitor: &Visitor) -> HttpResponse {
    let page = CheckEmailPage {
        layout: Layout::for_visitor(
            visitor,
            "This link no longer works",
            "The link has expired or was used.",
        ),
        heading: "This link no longer works".to_owned(),
        message: "It has expired, was already used, or was mistyped. Ask for a new one.".to_owned(),
    };
    no_referrer(render(&page, StatusCode::BAD_REQUEST))
}

fn confirm_page(
    visitor: &Visitor,
    heading: &str,
    message: &str,
    action: &str,
    token: &str,
    button: &str,
) -> HttpResponse {
    let page = ConfirmTokenPage {
        layout: Layout::for_visitor(visitor, heading, message),
        heading: heading.to_owned(),
        message: message.to_owned(),
        action: action.to_owned(),
        token: token.chars().take(64).collect(),
        button: button.to_owned(),
    };
    no_referrer(render(&page, StatusCode::OK))
}

/// `GET /verify-email?token=`.
pub async fn verify_page(visitor: Visitor, query: web::Query<TokenQuery>) -> HttpResponse {
    confirm_page(
        &visitor,
        "Confirm your email address",
        "Press the button to confirm this address and sign in.",
        "/verify-email",
        &query.token,
        "Confirm my email",
    )
}

/// `POST /verify-email`: verifies the address (or completes an email
/// change) and signs in.
pub async fn verify(
    state: web::Data<AppState>,
    request: CsrfForm<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor } = request;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let Some((email, for_user)) = store::redeem_token(
        &transaction,
        &token_hash(&form.token),
        VerificationTokenType::EmailVerification,
    )
    .await?
    else {
        return Ok(expired_link(&visitor));
    };
    let user = match for_user {
        // An email change: the new address is proven, move the account to it.
        Some(user_id) => {
            if store::user_by_email(&transaction, &email).await?.is_some() {
                return Ok(check_email_page(
                    &visitor,
                    "That address is taken",
                    "Another account uses this address now, so the change was not made.",
                ));
            }
            let old = store::change_email(&transaction, user_id, &email).await?;
            let changes = audit::diff(&[("email", old.clone().into(), email.clone().into())]);
            audit::store::record(
                &transaction,
                &audit::Actor {
                    user_id: Some(user_id),
                    ..actor(&visitor)
                }
                .entry("UPDATE", "users", Some(user_id.0), changes),
            )
            .await?;
            state.send_mail_later(Mail {
                to: old,
                subject: format!("Your {} email address was changed", state.site_name),
                body: format!(
                    "Hello,\n\nThe email address of your account was changed to {email}.\n\
                     If you did not do this, reset your password at {}/reset-password and contact us.\n",
                    state.base_url
                ),
            });
            store::user_by_id(&transaction, user_id).await?
        }
        None => {
            if let Some(user_id) = store::mark_verified(&transaction, &email).await? {
                let changes = audit::diff(&[("email_verified", false.into(), true.into())]);
                audit::store::record(
                    &transaction,
                    &audit::Actor {
                        user_id: Some(user_id),
                        ..actor(&visitor)
                    }
                    .entry("UPDATE", "users", Some(user_id.0), changes),
                )
                .await?;
            }
            store::user_by_email(&transaction, &email).await?
        }
    };
    let Some(user) = user.filter(|user| user.is_active) else {
        transaction.commit().await?;
        return Ok(see_other("/sign-in?notice=email-verified"));
    };
    let cookie = start_session(&transaction, &state, &user, &visitor, "email verification").await?;
    transaction.commit().await?;
    let mut response = see_other("/account?notice=email-verified");
    response.add_cookie(&cookie).ok();
    Ok(response)
}

/// `POST /verify-email/resend` (signed in).
pub async fn resend_verification(
    state: web::Data<AppState>,
    request: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let visitor = request.visitor;
    let signed_in = visitor.require_user()?;
    if signed_in.user.email_verified {
        return Ok(see_other("/account"));
    }
    let client = state.pool.get().await?;
    if !rate_limit::allow(&client, &EMAIL_LINK_PER_ACCOUNT, &signed_in.user.email).await? {
        return Err(PageError::TooManyRequests);
    }
    let link = issue_link(
        &client,
        &state,
        &signed_in.user.email,
        VerificationTokenType::EmailVerification,
        None,
    )
    .await?;
    state.send_mail_later(super::verification_mail(
        &state,
        &signed_in.user.email,
        &link,
    ));
    Ok(see_other("/account?notice=verification-sent"))
}

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
    email: String,
}

/// Rate-limits a link request, then mails a link of `kind` when the address
/// has an active account: the same work and answer either way.
async fn mail_link_if_known(
    state: &AppState,
    visitor: &Visitor,
    email: &str,
    kind: VerificationTokenType,
    compose: fn(&AppState, &crate::accounts::model::User, &str) -> Mail,
) -> Result<(), PageError> {
    let client = state.pool.get().await?;
    let ip = visitor.ip.clone().unwrap_or_default();
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
        state.send_mail_later(compose(state, &user, &link));
    }
    Ok(())
}

fn reset_mail(state: &AppState, user: &crate::accounts::model::User, link: &str) -> Mail {
    Mail {
        to: user.email.clone(),
        subject: format!("Reset your {} password", state.site_name),
        body: format!(
            "Hello {},\n\nTo choose a new password, open this link:\n\n{link}\n\n\
             It works for one hour and only once. If you did not ask for this, ignore this message: \
             your password stays as it is.\n",
            user.name
        ),
    }
}

fn magic_link_mail(state: &AppState, user: &crate::accounts::model::User, link: &str) -> Mail {
    Mail {
        to: user.email.clone(),
        subject: format!("Your {} sign-in link", state.site_name),
        body: format!(
            "Hello {},\n\nOpen this link to sign in:\n\n{link}\n\nIt works for 15 minutes and only once. \
             If you did not ask for it, ignore this message.\n",
            user.name
        ),
    }
}

/// `POST /reset-password`: always "check your email".
pub async fn reset_request(
    state: web::Data<AppState>,
    request: CsrfForm<EmailForm>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor } = request;
    let Ok(email) = parse_email(&form.email) else {
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
    let CsrfForm { form, visitor } = request;
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
    store::set_password_hash(&transaction, user.id, &password_hash).await?;
    // Opening the mailed link proves the address too.
    store::mark_verified(&transaction, &email).await?;
    let ended = store::end_other_sessions(&transaction, user.id, None).await?;
    let actor = audit::Actor {
        user_id: Some(user.id),
        ..actor(&visitor)
    };
    let mut entry = actor.entry(
        "UPDATE",
        "accounts",
        Some(user.id.0),
        Some(serde_json::json!({ "password_hash": { "before": "[hidden]", "after": "[hidden]" } })),
    );
    entry.metadata =
        Some(serde_json::json!({ "via": "password reset", "sessions_ended": ended.len() }));
    audit::store::record(&transaction, &entry).await?;
    transaction.commit().await?;
    state.send_mail_later(Mail {
        to: user.email.clone(),
        subject: format!("Your {} password was changed", state.site_name),
        body: format!(
            "Hello {},\n\nYour password was just reset, and every device was signed out.\n\
             If this was not you, reset it again at {}/reset-password and contact us.\n",
            user.name, state.base_url
        ),
    });
    Ok(see_other("/sign-in?notice=password-reset"))
}

/// `GET /magic-link`.
#[derive(Template)]
#[template(path = "accounts/magic_link.html")]
pub struct MagicLinkPage {
    /// The layout.
    pub layout: Layout,
    /// Typed email.
    pub email: String,
    /// The form's error.
    pub error: Option<String>,
}

pub async fn magic_link_page(visitor: Visitor) -> HttpResponse {
    let page = MagicLinkPage {
        layout: Layout::for_visitor(
            &visitor,
            "Sign in with a link",
            "Get a sign-in link by email.",
        ),
        email: String::new(),
        error: None,
    };
    render(&page, StatusCode::OK)
}

/// `POST /magic-link`: always "check your email".
pub async fn magic_link_request(
    state: web::Data<AppState>,
    request: CsrfForm<EmailForm>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor } = request;
    let Ok(email) = parse_email(&form.email) else {
        let page = MagicLinkPage {
            layout: Layout::for_visitor(
                &visitor,
                "Sign in with a link",
                "Get a sign-in link by email.",
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
        VerificationTokenType::MagicLink,
        magic_link_mail,
    )
    .await?;
    Ok(check_email_page(
        &visitor,
        "Check your email",
        &format!(
            "If {email} has an account, a sign-in link is on its way. It works for 15 minutes."
        ),
    ))
}

/// `GET /magic-link/confirm?token=`.
pub async fn magic_link_confirm_page(
    visitor: Visitor,
    query: web::Query<TokenQuery>,
) -> HttpResponse {
    confirm_page(
        &visitor,
        "Sign in",
        "Press the button to sign in on this device.",
        "/magic-link/confirm",
        &query.token,
        "Sign in",
    )
}

/// `POST /magic-link/confirm`.
pub async fn magic_link_sign_in(
    state: web::Data<AppState>,
    request: CsrfForm<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor } = request;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let Some((email, _)) = store::redeem_token(
        &transaction,
        &token_hash(&form.token),
        VerificationTokenType::MagicLink,
    )
    .await?
    else {
        return Ok(expired_link(&visitor));
    };
    let Some(user) = store::user_by_email(&transaction, &email)
        .await?
        .filter(|user| user.is_active)
    else {
        return Ok(expired_link(&visitor));
    };
    store::mark_verified(&transaction, &email).await?;
    let cookie = start_session(&transaction, &state, &user, &visitor, "magic link").await?;
    transaction.commit().await?;
    let mut response = see_other("/account");
    response.add_cookie(&cookie).ok();
    Ok(response)
}
