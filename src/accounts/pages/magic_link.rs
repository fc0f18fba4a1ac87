//! Magic-link sign-in: a mailed link that signs in.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::links::{TokenQuery, check_email_page, confirm_page, expired_link};
use super::password_reset::{EmailForm, magic_link_mail, mail_link_if_known};
use super::start_session;
use crate::accounts::model::Email;
use crate::accounts::model::VerificationTokenType;
use crate::accounts::paths;
use crate::accounts::proof;
use crate::accounts::secrets::token_hash;
use crate::accounts::store;
use crate::audit::Actor;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::see_other;
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

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
    let Ok(email) = Email::parse(&form.email) else {
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
        &Actor::from(&visitor).as_user(user.id),
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
