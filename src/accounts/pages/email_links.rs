//! The flows that go through a mailed link: email verification, password
//! reset and magic-link sign-in. A link opens a page whose button POSTs the
//! token (GET never changes data, and mail scanners that fetch links do not
//! use them up). Tokens are single use, even under concurrent redemption.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{asked_from_this_browser, issue_link, issue_token, start_session};
use crate::accounts::model::Email;
use crate::accounts::model::VerificationTokenType;
use crate::accounts::paths;
use crate::accounts::proof;
use crate::accounts::secrets::{Password, token_hash};
use crate::accounts::store;
use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity, Change, Fields, Secret};
use crate::mail::Mail;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::rate_limit::{self, EMAIL_LINK_PER_ACCOUNT, EMAIL_LINK_PER_IP};
use crate::web::respond::see_other;
use crate::web::respond::{Notice, see_other_with};
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
    /// Ask for the password chosen at sign-up (a link opened elsewhere
    /// than where the account was made).
    pub ask_password: bool,
    /// The password field's message.
    pub password_error: Option<String>,
}

/// A token in a link or a form.
#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

/// The confirmation form: the token, and the password chosen at sign-up
/// when the link is opened in another browser.
#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
}

/// Token pages must not leak the token through the Referer header.
fn no_referrer(mut response: HttpResponse) -> HttpResponse {
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
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
        ask_password: false,
        password_error: None,
    };
    no_referrer(render(&page, StatusCode::OK))
}

/// The confirmation page of a sign-up link opened in another browser than
/// the one that signed up: whoever opens it owns the address, but may not
/// be who chose the account's password.
fn confirm_elsewhere_page(
    visitor: &Visitor,
    token: &str,
    password_error: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let page = ConfirmTokenPage {
        layout: Layout::for_visitor(
            visitor,
            "Confirm your email address",
            "Confirm this address.",
        ),
        heading: "Confirm your email address".to_owned(),
        message: "If you created this account, enter the password you chose to keep it. If you did not, \
                  leave it empty: the password someone else chose is removed, and you can choose your own."
            .to_owned(),
        action: "/verify-email".to_owned(),
        token: token.chars().take(64).collect(),
        button: "Confirm my email".to_owned(),
        ask_password: true,
        password_error,
    };
    no_referrer(render(&page, status))
}

/// The account a live sign-up confirmation token would confirm, when it
/// has a password that was set before its address was proven.
async fn unproven_password_account(
    client: &impl deadpool_postgres::GenericClient,
    token: &str,
) -> Result<Option<(crate::accounts::model::User, String)>, PageError> {
    let Some((email, None)) = store::live_token(
        client,
        &token_hash(token),
        VerificationTokenType::EmailVerification,
    )
    .await?
    else {
        return Ok(None);
    };
    match store::credentials_by_email(client, &email).await? {
        Some((user, Some(hash))) if !user.email_verified => Ok(Some((user, hash))),
        _ => Ok(None),
    }
}

/// `GET /verify-email?token=`.
pub async fn verify_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<TokenQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    if !asked_from_this_browser(&request, &query.token) {
        let client = state.pool.get().await?;
        if unproven_password_account(&client, &query.token)
            .await?
            .is_some()
        {
            return Ok(confirm_elsewhere_page(
                &visitor,
                &query.token,
                None,
                StatusCode::OK,
            ));
        }
    }
    Ok(confirm_page(
        &visitor,
        "Confirm your email address",
        "Press the button to confirm this address and sign in.",
        "/verify-email",
        &query.token,
        "Confirm my email",
    ))
}

/// `POST /verify-email`: verifies the address (or completes an email
/// change) and signs in. The first proof of a new account's address keeps
/// its password only when the link is opened in the browser that signed up
/// or the password is typed again; otherwise the password is removed (see
/// [`crate::accounts::proof`]).
pub async fn verify(
    state: web::Data<AppState>,
    request: CsrfForm<VerifyForm>,
    http: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let mut keep_password = asked_from_this_browser(&http, &form.token);
    if !keep_password && !form.password.is_empty() {
        let client = state.pool.get().await?;
        let account = unproven_password_account(&client, &form.token).await?;
        drop(client);
        if let Some((_, hash)) = account {
            let typed = Password::attempt(&form.password);
            keep_password = match &typed {
                Some(password) => state.hasher.verify(password, Some(&hash)).await?,
                None => false,
            };
            if !keep_password {
                return Ok(confirm_elsewhere_page(
                    &visitor,
                    &form.token,
                    Some(
                        "That is not the password of this account. Leave it empty if you did not create it."
                            .to_owned(),
                    ),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ));
            }
        }
    }
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
    let mut password_removed = false;
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
            let changes = audit::changed(&Fields::of("email", &old), &Fields::of("email", &email));
            audit::store::record(
                &transaction,
                &audit::Actor {
                    user_id: Some(user_id),
                    ..Actor::from(&visitor)
                }
                .entry(
                    AuditAction::Update,
                    AuditEntity::Users,
                    Some(user_id.0),
                    changes,
                ),
            )
            .await?;
            let site = state.mail_site();
            let facts = crate::mail::messages::email_changed::Facts {
                new_email: email.clone(),
            };
            state.send_mail_later(crate::mail::messages::or_plain(
                facts.to(&site, &old),
                &old,
                &facts.subject(&site),
            ));
            store::user_by_id(&transaction, user_id).await?
        }
        None => match store::user_by_email(&transaction, &email).await? {
            Some(user) => {
                let proven = proof::address_proven(
                    &transaction,
                    &user,
                    keep_password,
                    &audit::Actor {
                        user_id: Some(user.id),
                        ..Actor::from(&visitor)
                    },
                    "email verification",
                )
                .await?;
                password_removed = proven.password_removed;
                store::user_by_id(&transaction, user.id).await?
            }
            None => None,
        },
    };
    let Some(user) = user.filter(|user| user.is_active) else {
        transaction.commit().await?;
        return Ok(see_other_with(paths::SIGN_IN, Notice::EmailVerified));
    };
    let cookie = start_session(&transaction, &state, &user, &visitor, "email verification").await?;
    transaction.commit().await?;
    let mut response = if password_removed {
        see_other_with(paths::SECURITY, Notice::PasswordRemoved)
    } else {
        see_other_with(paths::ACCOUNT, Notice::EmailVerified)
    };
    response.add_cookie(&cookie).ok();
    Ok(response)
}

/// `POST /verify-email/resend`: a new confirmation link for an address
/// whose account is not confirmed yet; the same answer whether or not
/// there is one.
pub async fn resend_verification(
    state: web::Data<AppState>,
    request: CsrfForm<EmailForm>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    if visitor.signed_in.is_some() {
        // Only confirmed accounts have sessions.
        return Ok(see_other("/account"));
    }
    let Ok(email) = Email::parse(&form.email).map(Email::into_string) else {
        return Err(PageError::BadRequest(
            "Enter an email address like name@example.com.".to_owned(),
        ));
    };
    let client = state.pool.get().await?;
    let network = rate_limit::network_of(visitor.ip.as_deref());
    if !rate_limit::allow(&client, &EMAIL_LINK_PER_IP, &network).await?
        || !rate_limit::allow(&client, &EMAIL_LINK_PER_ACCOUNT, &email).await?
    {
        return Err(PageError::TooManyRequests);
    }
    let waiting = store::user_by_email(&client, &email)
        .await?
        .filter(|user| user.is_active && !user.email_verified);
    let token = match waiting {
        Some(user) => {
            let (link, token) = issue_token(
                &client,
                &state,
                &user.email,
                VerificationTokenType::EmailVerification,
                None,
            )
            .await?;
            state.send_mail_later(super::verification_mail(&state, &user.email, &link));
            Some(token)
        }
        None => None,
    };
    let mut response = check_email_page(
        &visitor,
        "Check your email",
        &format!(
            "If {email} has an account waiting for confirmation, a new link is on its way. It works for 24 hours."
        ),
    );
    response
        .add_cookie(&super::sign_up_cookie(&state, token.as_deref())?)
        .ok();
    Ok(response)
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
        state.send_mail_later(compose(state, &user, &link));
    }
    Ok(())
}

fn reset_mail(state: &AppState, user: &crate::accounts::model::User, link: &str) -> Mail {
    let site = state.mail_site();
    let facts = crate::mail::messages::reset_password::Facts {
        name: user.name.clone(),
        link: link.to_owned(),
    };
    crate::mail::messages::or_plain(
        facts.to(&site, &user.email),
        &user.email,
        &facts.subject(&site),
    )
}

fn magic_link_mail(state: &AppState, user: &crate::accounts::model::User, link: &str) -> Mail {
    let site = state.mail_site();
    let facts = crate::mail::messages::magic_link::Facts {
        name: user.name.clone(),
        link: link.to_owned(),
    };
    crate::mail::messages::or_plain(
        facts.to(&site, &user.email),
        &user.email,
        &facts.subject(&site),
    )
}

/// `POST /reset-password`: always "check your email".
pub async fn reset_request(
    state: web::Data<AppState>,
    request: CsrfForm<EmailForm>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let Ok(email) = Email::parse(&form.email).map(Email::into_string) else {
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
    let actor = audit::Actor {
        user_id: Some(user.id),
        ..Actor::from(&visitor)
    };
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
    transaction.commit().await?;
    let site = state.mail_site();
    let facts = crate::mail::messages::password_changed::Facts {
        name: user.name.clone(),
    };
    state.send_mail_later(crate::mail::messages::or_plain(
        facts.to(&site, &user.email),
        &user.email,
        &facts.subject(&site),
    ));
    Ok(see_other_with(paths::SIGN_IN, Notice::PasswordReset))
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
    let CsrfForm { form, visitor, .. } = request;
    let Ok(email) = Email::parse(&form.email).map(Email::into_string) else {
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
    let CsrfForm { form, visitor, .. } = request;
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
    let proven = proof::address_proven(
        &transaction,
        &user,
        false,
        &audit::Actor {
            user_id: Some(user.id),
            ..Actor::from(&visitor)
        },
        "magic link",
    )
    .await?;
    let cookie = start_session(&transaction, &state, &user, &visitor, "magic link").await?;
    transaction.commit().await?;
    let mut response = if proven.password_removed {
        see_other_with(paths::SECURITY, Notice::PasswordRemoved)
    } else {
        see_other(paths::ACCOUNT)
    };
    response.add_cookie(&cookie).ok();
    Ok(response)
}
