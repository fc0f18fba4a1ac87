//! CSRF protection for every state-changing request.
//!
//! Two layers: [`guard`] (middleware) refuses unsafe methods whose
//! `Sec-Fetch-Site` or `Origin` shows another site, and issues the anonymous
//! CSRF cookie; [`CsrfForm`] (extractor) decodes a form only when its
//! `csrf_token` matches the visitor's token: derived from the session for a
//! signed-in user (synchronizer token), the cookie's value before sign-in
//! (double submit).

use std::future::Future;
use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::AppState;
use super::access::{Anyone, Gate};
use super::page_error::PageError;
use super::visitor::{AnonymousCsrf, Visitor, csrf_cookie_name};
use crate::accounts::secrets::{random_token, same_secret};

/// Paths whose POSTs come from other sites by design (signed webhooks).
const EXEMPT_PREFIXES: &[&str] = &["/webhooks/"];

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// True when the request's own headers say it came from another site.
fn cross_site(request: &ServiceRequest, own_origin: &str) -> bool {
    let headers = request.headers();
    if let Some(site) = headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
    {
        return !matches!(site, "same-origin" | "none");
    }
    match headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
    {
        Some(origin) => origin != own_origin && origin != request_origin(request),
        None => false,
    }
}

/// The origin the request was sent to. Forwarding headers (`Forwarded`,
/// `X-Forwarded-Host`, `X-Forwarded-Proto`) count only from a trusted
/// reverse proxy; from anyone else it is the `Host` header on this
/// connection.
fn request_origin(request: &ServiceRequest) -> String {
    let trusted = request
        .app_data::<web::Data<AppState>>()
        .is_some_and(|state| {
            request
                .peer_addr()
                .is_some_and(|peer| state.trusted_proxies.contains(peer.ip()))
        });
    if trusted {
        let info = request.connection_info();
        return format!("{}://{}", info.scheme(), info.host());
    }
    let scheme = if request.app_config().secure() {
        "https"
    } else {
        "http"
    };
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_else(|| request.app_config().host());
    format!("{scheme}://{host}")
}

/// The middleware: issues the anonymous CSRF cookie and refuses cross-site
/// unsafe requests with 403.
pub async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let own_origin = state
        .as_ref()
        .map(|state| state.origin.clone())
        .unwrap_or_default();
    let secure = state.as_ref().is_some_and(|state| state.secure_cookies);
    let exempt = EXEMPT_PREFIXES
        .iter()
        .any(|prefix| request.path().starts_with(prefix));
    if is_unsafe(request.method()) && !exempt && cross_site(&request, &own_origin) {
        return Err(PageError::Forbidden.into());
    }
    let existing = request
        .cookie(csrf_cookie_name(secure))
        .map(|cookie| cookie.value().to_owned())
        .filter(|value| value.len() == 43);
    let (value, fresh) = match existing {
        Some(value) => (value, false),
        None => match random_token() {
            Ok(value) => (value, true),
            // Answered here, inside the request's scope, so that the
            // error page names the request.
            Err(error) => {
                return Ok(request
                    .error_response(PageError::from(error))
                    .map_into_right_body());
            }
        },
    };
    request
        .extensions_mut()
        .insert(AnonymousCsrf(value.clone()));
    let mut response = next.call(request).await?;
    // Only pages carry forms: a public, cacheable answer (a stylesheet,
    // the feed, the sitemap) must not set a cookie, or shared caches
    // would hand one visitor's token to the next.
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    if fresh && is_page {
        let cookie = Cookie::build(csrf_cookie_name(secure), value)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Lax)
            .finish();
        response.response_mut().add_cookie(&cookie).ok();
    }
    Ok(response.map_into_left_body())
}

/// A form with no fields of its own (sign-out, "end this session", ...).
#[derive(serde::Deserialize)]
pub struct EmptyForm {}

/// A form decoded only after its `csrf_token` matched the visitor's, from a
/// visitor `A` lets in: `CsrfForm<F>` takes anyone's, `CsrfForm<F, Member>`
/// only a signed-in user's, `CsrfForm<F, Admin>` only an admin's.
///
/// The token is checked first and the access second, so a forged form gets
/// 403 whoever sends it, and a genuine one from someone not allowed gets
/// what [`Gate::of`] says (sign-in, or 403). actix extracts a handler's
/// arguments together and answers with the first error, so the order can
/// only be kept inside one extractor.
pub struct CsrfForm<T, A = Anyone> {
    /// The decoded form.
    pub form: T,
    /// The visitor who sent it.
    pub visitor: Visitor,
    /// Who the visitor is allowed in as.
    pub access: A,
}

#[derive(serde::Deserialize)]
struct TokenField {
    #[serde(default)]
    csrf_token: String,
}

impl<T: DeserializeOwned + 'static, A: Gate + 'static> FromRequest for CsrfForm<T, A> {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        let body = web::Bytes::from_request(&request, payload);
        Box::pin(async move {
            let body = body
                .await
                .map_err(|_| PageError::BadRequest("The form could not be read.".to_owned()))?;
            if !super::input::is_clean(&body) {
                return Err(PageError::BadRequest(super::input::REFUSED.to_owned()));
            }
            let visitor = Visitor::from_request(&request, &mut Payload::None).await?;
            let token: TokenField = serde_html_form::from_bytes(&body)
                .map_err(|_| PageError::BadRequest("The form could not be read.".to_owned()))?;
            if visitor.csrf_token.is_empty() || !same_secret(&token.csrf_token, &visitor.csrf_token)
            {
                return Err(PageError::CsrfFailed);
            }
            let access = A::of(visitor.clone())?;
            let form = serde_html_form::from_bytes(&body).map_err(|error| {
                PageError::BadRequest(format!("The form is incomplete: {error}"))
            })?;
            Ok(Self {
                form,
                visitor,
                access,
            })
        })
    }
}
