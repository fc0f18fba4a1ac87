//! The flows that go through a mailed link: email verification, password
//! reset and magic-link sign-in. A link opens a page whose button POSTs the
//! token (GET never changes data, and mail scanners that fetch links do not
//! use them up). Tokens are single use, even under concurrent redemption.
//!
//! This module holds the pages they share: "check your email", the
//! confirmation page and the expired link.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use askama::Template;
use serde::Deserialize;

use crate::accounts::model::VerificationTokenType;
use crate::accounts::secrets::token_hash;
use crate::accounts::store;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
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
    pub token: String,
}

/// The confirmation form: the token, and the password chosen at sign-up
/// when the link is opened in another browser.
#[derive(Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    pub token: String,
    #[serde(default)]
    pub password: String,
}

/// Token pages must not leak the token through the Referer header.
pub(super) fn no_referrer(mut response: HttpResponse) -> HttpResponse {
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

pub(super) fn expired_link(visitor: &Visitor) -> HttpResponse {
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

pub(super) fn confirm_page(
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
pub(super) fn confirm_elsewhere_page(
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
pub(super) async fn unproven_password_account(
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
