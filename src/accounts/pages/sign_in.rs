//! `GET`/`POST /sign-in` with a password, and `POST /sign-out`.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::sign_up::NextQuery;
use super::{removed_session_cookie, start_session};
use crate::accounts::model::Email;
use crate::accounts::secrets::{Password, known_device_proof, same_secret};
use crate::accounts::store;
use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity};
use crate::web::AppState;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::rate_limit::{
    self, SIGN_IN_FAILURES_PER_ACCOUNT, SIGN_IN_FAILURES_PER_ACCOUNT_AND_NETWORK, SIGN_IN_PER_IP,
};
use crate::web::respond::{Notice, see_other_with};
use crate::web::respond::{safe_next, see_other};
use crate::web::visitor::Visitor;

/// `GET /sign-in`.
#[derive(Template)]
#[template(path = "accounts/sign_in.html")]
pub struct SignInPage {
    /// The layout.
    pub layout: Layout,
    /// Typed email.
    pub email: String,
    /// Where to go afterwards.
    pub next: String,
    /// The form's error.
    pub error: Option<String>,
    /// Sign-in providers: (URL slug, name).
    pub providers: Vec<(String, String)>,
}

fn providers(state: &AppState) -> Vec<(String, String)> {
    state
        .oauth
        .iter()
        .map(|provider| (provider.kind.slug().to_owned(), provider.kind.to_string()))
        .collect()
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<NextQuery>,
    request: HttpRequest,
) -> HttpResponse {
    if visitor.signed_in.is_some() {
        return see_other(&safe_next(&query.next));
    }
    let page = SignInPage {
        layout: Layout::for_visitor(&visitor, "Sign in", "Sign in to your account.")
            .with_notice(&request),
        email: String::new(),
        next: safe_next(&query.next),
        error: None,
        providers: providers(&state),
    };
    render(&page, StatusCode::OK)
}

const WRONG_CREDENTIALS: &str = "That email and password do not match an account.";

/// The cookie of a browser that signed in to an account with its password
/// (see [`crate::accounts::secrets::known_device_proof`]).
const KNOWN_DEVICE_COOKIE: &str = "soloist_device";

/// `POST /sign-in` for an account whose address is not confirmed yet.
#[derive(Template)]
#[template(path = "accounts/confirm_first.html")]
pub struct ConfirmFirstPage {
    /// The layout.
    pub layout: Layout,
    /// The unconfirmed address.
    pub email: String,
}

/// `POST /sign-in`: rate limits first, then one password check (against a
/// dummy hash for unknown addresses), the same answer for every failure.
/// Failures count per account and network (10 in 15 minutes) and, from
/// browsers that never signed in to the account, per account (100 an
/// hour): the owner's own browser is never locked out by someone else.
pub async fn sign_in(
    state: web::Data<AppState>,
    request: CsrfForm<SignInForm>,
    http: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    // An address that does not parse gets the same answer as an unknown
    // one, after the same work.
    let email = Email::parse(&form.email)
        .map(Email::into_string)
        .unwrap_or_default();
    let failed = |error: &str| {
        let page = SignInPage {
            layout: Layout::for_visitor(&visitor, "Sign in", "Sign in to your account."),
            email: form.email.chars().take(254).collect(),
            next: safe_next(&form.next),
            error: Some(error.to_owned()),
            providers: providers(&state),
        };
        render(&page, StatusCode::UNAUTHORIZED)
    };
    let Some(password) = Password::attempt(&form.password) else {
        return Ok(failed(WRONG_CREDENTIALS));
    };
    let client = state.pool.get().await?;
    let network = rate_limit::network_of(visitor.ip.as_deref());
    let account_network = format!("{email} from {network}");
    if !rate_limit::allow(&client, &SIGN_IN_PER_IP, &network).await? {
        return Err(PageError::TooManyRequests);
    }
    let found = if email.is_empty() {
        None
    } else {
        store::credentials_by_email(&client, &email).await?
    };
    let stored_hash = found.as_ref().and_then(|(_, hash)| hash.clone());
    let device_proof = match (&found, &stored_hash) {
        (Some((user, _)), Some(hash)) => Some(known_device_proof(hash, user.id)),
        _ => None,
    };
    let known_device = device_proof.as_ref().is_some_and(|proof| {
        http.cookie(KNOWN_DEVICE_COOKIE)
            .is_some_and(|cookie| same_secret(cookie.value(), proof))
    });
    if !rate_limit::within(
        &client,
        &SIGN_IN_FAILURES_PER_ACCOUNT_AND_NETWORK,
        &account_network,
    )
    .await?
        || (!known_device
            && !rate_limit::within(&client, &SIGN_IN_FAILURES_PER_ACCOUNT, &email).await?)
    {
        return Err(PageError::TooManyRequests);
    }
    // No database connection is held while waiting for the hashing threads.
    drop(client);
    let matched = state
        .hasher
        .verify(&password, stored_hash.as_deref())
        .await?;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    match found {
        // The password is right, but whoever chose it may not own the
        // address: nothing until the address is proven.
        Some((user, _)) if matched && user.is_active && !user.email_verified => {
            let page = ConfirmFirstPage {
                layout: Layout::for_visitor(
                    &visitor,
                    "Confirm your email first",
                    "Confirm your email address.",
                ),
                email: user.email,
            };
            Ok(render(&page, StatusCode::FORBIDDEN))
        }
        Some((user, _)) if matched && user.is_active => {
            let cookie = start_session(&transaction, &state, &user, &visitor, "password").await?;
            transaction.commit().await?;
            let mut response = see_other(&safe_next(&form.next));
            response.add_cookie(&cookie).ok();
            if let Some(proof) = device_proof {
                let device = Cookie::build(KNOWN_DEVICE_COOKIE, proof)
                    .path("/sign-in")
                    .http_only(true)
                    .secure(state.secure_cookies)
                    .same_site(SameSite::Strict)
                    .max_age(CookieDuration::days(400))
                    .finish();
                response.add_cookie(&device).ok();
            }
            Ok(response)
        }
        found => {
            rate_limit::allow(
                &transaction,
                &SIGN_IN_FAILURES_PER_ACCOUNT_AND_NETWORK,
                &account_network,
            )
            .await?;
            if !known_device {
                rate_limit::allow(&transaction, &SIGN_IN_FAILURES_PER_ACCOUNT, &email).await?;
            }
            let user_id = found.as_ref().map(|(user, _)| user.id);
            let mut entry = audit::Actor {
                user_id,
                ..Actor::from(&visitor)
            }
            .entry(
                AuditAction::LoginFailed,
                AuditEntity::Users,
                user_id.map(|id| id.0),
                audit::Change::none(),
            );
            let reason = match &found {
                None => "unknown email",
                Some((user, _)) if matched && !user.is_active => "deactivated",
                Some(_) => "wrong password",
            };
            entry.metadata = Some(serde_json::json!({ "email": email, "reason": reason }));
            audit::store::record(&transaction, &entry).await?;
            transaction.commit().await?;
            Ok(failed(WRONG_CREDENTIALS))
        }
    }
}

/// `POST /sign-out`.
pub async fn sign_out(
    state: web::Data<AppState>,
    request: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let visitor = request.visitor;
    if let Some(signed_in) = &visitor.signed_in {
        let mut client = state.pool.get().await?;
        let transaction = client.transaction().await?;
        store::end_session(&transaction, signed_in.user.id, signed_in.session_id).await?;
        audit::store::record(
            &transaction,
            &Actor::from(&visitor).entry(
                AuditAction::Logout,
                AuditEntity::Sessions,
                Some(signed_in.session_id.0),
                audit::Change::none(),
            ),
        )
        .await?;
        transaction.commit().await?;
    }
    let mut response = see_other_with(crate::web::HOME, Notice::SignedOut);
    response.add_cookie(&removed_session_cookie(&state)).ok();
    Ok(response)
}
