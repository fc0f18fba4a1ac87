//! `GET /auth/{provider}` and its callback: sign-in with GitHub or Google.
//! Which account it signs in to is decided by
//! [`crate::accounts::linking`].

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::links::check_email_page;
use super::start_session;
use crate::accounts::linking::{self, Linking};
use crate::accounts::oauth::{OAuthError, Provider, fetch_profile};
use crate::accounts::secrets::{random_token, same_secret};
use crate::audit::Actor;
use crate::web::AppState;
use crate::web::page_error::PageError;
use crate::web::respond::{safe_next, see_other};
use crate::web::visitor::Visitor;

const FLOW_COOKIE: &str = "soloist_oauth";

fn provider<'a>(state: &'a AppState, slug: &str) -> Result<&'a Provider, PageError> {
    state
        .oauth
        .iter()
        .find(|provider| provider.kind.slug() == slug)
        .ok_or(PageError::NotFound)
}

fn redirect_uri(state: &AppState, provider: &Provider) -> String {
    format!("{}/auth/{}/callback", state.base_url, provider.kind.slug())
}

/// Where to return after signing in.
#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    next: String,
}

/// `GET /auth/{provider}`: remembers state, PKCE verifier and `next` in a
/// short-lived cookie and sends the browser to the provider.
pub async fn start(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, PageError> {
    let provider = provider(&state, &path)?;
    let flow_state = random_token()?;
    let verifier = random_token()?;
    let next = safe_next(&query.next);
    let cookie = Cookie::build(FLOW_COOKIE, format!("{flow_state}|{verifier}|{next}"))
        .path("/auth")
        .http_only(true)
        .secure(state.secure_cookies)
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::minutes(10))
        .finish();
    let mut response =
        see_other(&provider.authorize(&redirect_uri(&state, provider), &flow_state, &verifier));
    response.add_cookie(&cookie).ok();
    Ok(response)
}

/// What the provider sends back.
#[derive(Deserialize)]
pub struct CallbackQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: Option<String>,
}

fn refused(visitor: &Visitor, heading: &str, message: &str, status: StatusCode) -> HttpResponse {
    let mut response = check_email_page(visitor, heading, message);
    *response.status_mut() = status;
    response
}

/// `GET /auth/{provider}/callback`.
pub async fn callback(
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
    visitor: Visitor,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let provider = provider(&state, &path)?;
    let flow = request
        .cookie(FLOW_COOKIE)
        .map(|cookie| cookie.value().to_owned())
        .unwrap_or_default();
    let mut parts = flow.splitn(3, '|');
    let (expected_state, verifier, next) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
        safe_next(parts.next().unwrap_or_default()),
    );
    if query.error.is_some() {
        return Ok(refused(
            &visitor,
            "Sign-in was cancelled",
            "Nothing was changed. You can try again.",
            StatusCode::BAD_REQUEST,
        ));
    }
    if expected_state.is_empty()
        || !same_secret(expected_state, &query.state)
        || query.code.is_empty()
    {
        return Ok(refused(
            &visitor,
            "This sign-in link is not valid",
            "It was not started from this browser or has expired. Start again from the sign-in page.",
            StatusCode::BAD_REQUEST,
        ));
    }
    let http = state.http.clone().ok_or(PageError::NotFound)?;
    // On the main runtime: the client's pooled connections are shared by
    // every HTTP worker.
    let exchange = {
        let (provider, code, verifier) =
            (provider.clone(), query.code.clone(), verifier.to_owned());
        let redirect_uri = redirect_uri(&state, &provider);
        async move { fetch_profile(&http, &provider, &code, &verifier, &redirect_uri).await }
    };
    let fetched = state
        .background
        .run(exchange)
        .await
        .unwrap_or_else(|| Err(OAuthError("Soloist is stopping".to_owned())));
    let profile = match fetched {
        Ok(profile) => profile,
        Err(error) => {
            tracing::warn!(%error, provider = %provider.kind, "OAuth exchange failed");
            return Ok(refused(
                &visitor,
                "Sign-in did not complete",
                &format!(
                    "{} did not confirm the sign-in. Please try again.",
                    provider.kind
                ),
                StatusCode::BAD_GATEWAY,
            ));
        }
    };
    let slug = provider.kind.slug();
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let signed_in = visitor
        .signed_in
        .as_ref()
        .map(|signed_in| signed_in.user.id);
    let linking = linking::sign_in_with_provider(
        &transaction,
        &Actor::from(&visitor),
        signed_in,
        slug,
        &profile,
    )
    .await?;
    let mut linked_notice = None;
    let user = match linking {
        Linking::Known(user) => user,
        Linking::Created(user) => {
            // A sign-up: the new profile speaks the browser's language.
            crate::accounts::store::set_language(&transaction, user.id, visitor.language).await?;
            user
        }
        Linking::LinkedExisting { user, tell_owner } => {
            if tell_owner {
                let language = crate::accounts::store::language_of(&transaction, user.id).await?;
                let facts = crate::mail::messages::provider_connected::Facts {
                    name: user.name.clone(),
                    provider: provider.kind.to_string(),
                };
                linked_notice = Some(facts.mail(&state.mail_site(language), &user.email));
            }
            user
        }
        Linking::NoVerifiedEmail => {
            return Ok(refused(
                &visitor,
                "No verified email address",
                &format!(
                    "Your {} account has no verified email address, so it cannot sign in here.",
                    provider.kind
                ),
                StatusCode::FORBIDDEN,
            ));
        }
        Linking::AdminMustSignInFirst { email } => {
            return Ok(refused(
                &visitor,
                "Sign in first",
                &format!(
                    "{email} is an administrator's account. Sign in to it with its password or a \
                     sign-in link, then connect {} from Security, in the same browser.",
                    provider.kind
                ),
                StatusCode::FORBIDDEN,
            ));
        }
    };
    if !user.is_active {
        return Ok(refused(
            &visitor,
            "This account is deactivated",
            "Contact the site's administrator.",
            StatusCode::FORBIDDEN,
        ));
    }
    let cookie = start_session(&transaction, &state, &user, &visitor, slug).await?;
    transaction.commit().await?;
    if let Some(mail) = linked_notice {
        state.send_mail_later(mail);
    }
    let mut response = see_other(&next);
    response.add_cookie(&cookie).ok();
    let mut spent = Cookie::build(FLOW_COOKIE, "").path("/auth").finish();
    spent.make_removal();
    response.add_cookie(&spent).ok();
    Ok(response)
}
