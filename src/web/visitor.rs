//! Who is asking: the signed-in user (from the session cookie), the CSRF
//! token their forms must carry, their address and browser. One extractor,
//! cached per request, used by every handler that renders a page.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};

use super::AppState;
use super::page_error::PageError;
use crate::accounts::model::{SessionId, Theme, User};
use crate::accounts::secrets::token_hash;
use crate::accounts::store as accounts;
use crate::i18n::Language;

/// The name of the anonymous CSRF cookie (double-submit before sign-in):
/// `__Host-` prefixed over https, so neither a subdomain nor a network
/// attacker on plain http can plant one.
pub fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-soloist_csrf"
    } else {
        "soloist_csrf"
    }
}

/// A signed-in user and their session.
#[derive(Clone, Debug)]
pub struct SignedIn {
    /// The user.
    pub user: User,
    /// The session in use.
    pub session_id: SessionId,
    /// Their chosen theme.
    pub theme: Theme,
    /// Their time zone (IANA name).
    pub timezone: String,
}

/// The visitor of this request.
#[derive(Clone, Debug)]
pub struct Visitor {
    /// The signed-in user, if any.
    pub signed_in: Option<SignedIn>,
    /// The token this visitor's forms carry.
    pub csrf_token: String,
    /// The client address (see [`super::client_ip`]).
    pub ip: Option<String>,
    /// The client's User-Agent.
    pub user_agent: Option<String>,
    /// This request's id (also its `X-Request-Id` and in its audit rows).
    pub request_id: Option<String>,
    /// The site's settings as this request saw them.
    pub site: std::sync::Arc<crate::site::SiteSettings>,
    /// The path asked for (no query), for the navigation's current page.
    pub path: String,
    /// The language to answer in: the profile's for a signed-in user, the
    /// browser's `Accept-Language` for anyone else.
    pub language: Language,
}

/// The anonymous CSRF value for this request, set by [`super::csrf`].
#[derive(Clone, Debug)]
pub struct AnonymousCsrf(pub String);

impl Visitor {
    /// The IANA zone this visitor reads times in: their profile's, or the
    /// site's for visitors who are not signed in.
    pub fn time_zone(&self) -> &str {
        self.signed_in
            .as_ref()
            .map_or(self.site.time_zone.as_str(), |signed_in| {
                signed_in.timezone.as_str()
            })
    }

    /// The theme to render with.
    pub fn theme(&self) -> Theme {
        self.signed_in
            .as_ref()
            .map_or(Theme::System, |signed_in| signed_in.theme)
    }

    async fn load(request: HttpRequest) -> Result<Self, PageError> {
        let state = request
            .app_data::<web::Data<AppState>>()
            .ok_or_else(|| PageError::internal("application state missing"))?
            .clone();
        let ip = super::client_ip::of(&request).map(|ip| ip.to_string());
        let request_id = request
            .extensions()
            .get::<tracing_actix_web::RequestId>()
            .map(ToString::to_string);
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|value| value.chars().take(512).collect());
        let anonymous_csrf = request
            .extensions()
            .get::<AnonymousCsrf>()
            .map(|csrf| csrf.0.clone())
            .unwrap_or_default();
        let session_token = request
            .cookie(&state.session_cookie_name)
            .map(|cookie| cookie.value().to_owned())
            .filter(|value| !value.is_empty() && value.len() <= 100);
        let site = state.site_settings.get(&state.pool).await;
        let signed_in = match &session_token {
            Some(token) => {
                let client = state.pool.get().await?;
                accounts::session_user(&client, &token_hash(token), state.sessions.idle).await?
            }
            None => None,
        };
        let language = match &signed_in {
            Some(found) => Language::of_profile(found.language.as_deref()),
            None => Language::negotiate(
                request
                    .headers()
                    .get(actix_web::http::header::ACCEPT_LANGUAGE)
                    .and_then(|value| value.to_str().ok()),
            ),
        };
        let csrf_token = match (&signed_in, &session_token) {
            (Some(_), Some(token)) => token_hash(&format!("csrf:{token}")),
            _ => anonymous_csrf,
        };
        Ok(Self {
            signed_in: signed_in.map(|found| SignedIn {
                user: found.user,
                session_id: found.session_id,
                theme: found.theme.unwrap_or(Theme::System),
                timezone: found.timezone.unwrap_or_else(|| "UTC".to_owned()),
            }),
            csrf_token,
            ip,
            user_agent,
            request_id,
            site,
            path: request.path().to_owned(),
            language,
        })
    }
}

impl FromRequest for Visitor {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            if let Some(visitor) = request.extensions().get::<Visitor>() {
                return Ok(visitor.clone());
            }
            let visitor = Self::load(request.clone()).await?;
            request.extensions_mut().insert(visitor.clone());
            Ok(visitor)
        })
    }
}
