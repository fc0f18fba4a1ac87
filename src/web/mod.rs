//! The HTTP side: app assembly, middleware, error pages, static files.

pub mod access;
pub mod assets;
pub mod caching;
pub mod client_ip;
pub mod confirm;
pub mod csrf;
pub mod error_pages;
pub mod forms;
pub mod host;
pub mod input;
pub mod local_time;
pub mod methods;
pub mod nav;
pub mod notice;
pub mod observe;
pub mod page_error;
pub mod pages;
pub mod rate_limit;
pub mod respond;
pub mod routes;
pub mod visitor;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::middleware::{
    Compress, DefaultHeaders, ErrorHandlers, NormalizePath, TrailingSlash,
};
use actix_web::{App, HttpResponse, HttpServer, web};
use deadpool_postgres::Pool;

/// Facts about this installation shown on pages, fixed at boot.
#[derive(Clone, Debug)]
pub struct Site {
    /// e.g. "Embedded PostgreSQL 18.6 (bundled)".
    pub database: String,
    /// The data directory, for the embedded database.
    pub data_dir: Option<String>,
    /// The schema version after migrating.
    pub schema_version: i32,
}

/// How long sessions live.
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    /// Signed out after this long without a request.
    pub idle: Duration,
    /// Signed out this long after sign-in, whatever happens.
    pub absolute: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(7 * 24 * 3600),
            absolute: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The pool this HTTP worker answers requests with, its own
    /// ([`AppState::for_worker`]; see [`crate::db::runtime`]).
    pub pool: Pool,
    /// The main pool, for work on the main runtime that outlives a request
    /// (mail to the outbox, view counts, maintenance).
    pub main_pool: Pool,
    /// Every HTTP worker's pool.
    pub worker_pools: crate::db::WorkerPools,
    /// Facts about this installation.
    pub site: Site,
    /// The site's settings (name, colour, time zone), read again every
    /// few seconds.
    pub site_settings: std::sync::Arc<crate::site::SiteCache>,
    /// The public URL (links in mail are built from it, never from Host).
    pub base_url: String,
    /// scheme://host[:port] of the base URL, for Origin checks.
    pub origin: String,
    /// Cookies get `Secure` (and the session cookie the `__Host-` prefix).
    pub secure_cookies: bool,
    /// The session cookie's name.
    pub session_cookie_name: String,
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Password hashing with a concurrency cap.
    pub hasher: crate::accounts::secrets::PasswordHasherPool,
    /// Outgoing mail.
    pub mailer: crate::mail::Mailer,
    /// Configured sign-in providers.
    pub oauth: Vec<crate::accounts::oauth::Provider>,
    /// The HTTP client for provider calls (only built when one is configured).
    pub http: Option<reqwest::Client>,
    /// Public reads of posts, written in batches.
    pub views: crate::content::views::ViewCounter,
    /// Rendered post bodies.
    pub rendered: crate::content::views::RenderedPosts,
    /// Stripe settings, when configured.
    pub stripe: Option<crate::billing::stripe::StripeConfig>,
    /// The Stripe API, when a secret key is configured.
    pub stripe_client: Option<crate::billing::stripe::StripeClient>,
    /// Reverse proxies whose X-Forwarded-For is believed.
    pub trusted_proxies: client_ip::TrustedProxies,
    /// Request counters and who may read /metrics.
    pub monitoring: std::sync::Arc<crate::monitoring::Monitoring>,
    /// Where backups go, how to make one, and how the last went.
    pub backups: crate::backup::Backups,
    /// Work requests start and do not wait for; the stop waits for it.
    pub background: crate::background::Background,
    /// The Host values requests may carry.
    pub allowed_hosts: host::AllowedHosts,
    /// Only this machine can reach the site (bound to loopback, base URL
    /// on loopback): the development outbox then shows every message whole.
    pub local_only: bool,
    /// The og:image of posts without an image of their own.
    pub share_image: Option<String>,
}

impl AppState {
    /// The state for a site served at `base_url`, before it is given to
    /// the HTTP workers ([`AppState::for_worker`]): until then `pool` is
    /// the main pool.
    pub fn new(
        main_pool: Pool,
        worker_pools: crate::db::WorkerPools,
        site: Site,
        base_url: &str,
        hasher: crate::accounts::secrets::PasswordHasherPool,
        mailer: crate::mail::Mailer,
    ) -> Self {
        let secure_cookies = base_url.starts_with("https://");
        let origin = base_url
            .splitn(4, '/')
            .take(3)
            .collect::<Vec<_>>()
            .join("/");
        Self {
            pool: main_pool.clone(),
            main_pool,
            worker_pools,
            site,
            site_settings: std::sync::Arc::default(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            origin,
            secure_cookies,
            session_cookie_name: if secure_cookies {
                "__Host-soloist_session"
            } else {
                "soloist_session"
            }
            .to_owned(),
            sessions: SessionPolicy::default(),
            hasher,
            mailer,
            oauth: Vec::new(),
            http: None,
            views: crate::content::views::ViewCounter::default(),
            rendered: crate::content::views::RenderedPosts::default(),
            stripe: None,
            stripe_client: None,
            trusted_proxies: client_ip::TrustedProxies::default(),
            monitoring: std::sync::Arc::default(),
            backups: crate::backup::Backups::default(),
            background: crate::background::Background::current(),
            allowed_hosts: host::AllowedHosts::default(),
            local_only: false,
            share_image: None,
        }
    }

    /// The state of one HTTP worker, called on it as it starts: the same,
    /// with the worker's own pool.
    pub fn for_worker(&self) -> Self {
        Self {
            pool: self.worker_pools.for_worker(),
            ..self.clone()
        }
    }

    /// What the pools that serve requests hold.
    pub fn request_pools(&self) -> crate::db::PoolTotals {
        crate::db::PoolTotals::of(self.worker_pools.all())
    }

    /// The site's name, as an administrator set it.
    pub fn site_name(&self) -> String {
        self.site_settings.peek().site_name.clone()
    }

    /// The site as mail in `language` names it.
    pub fn mail_site(&self, language: crate::i18n::Language) -> crate::mail::messages::Site {
        crate::mail::messages::Site {
            name: self.site_name(),
            base_url: self.base_url.trim_end_matches('/').to_owned(),
            language,
        }
    }

    /// Sends `mail` in the background, after the response: the time a
    /// request takes must not reveal whether a mail was sent (account
    /// enumeration).
    pub fn send_mail_later(&self, mail: crate::mail::Mail) {
        let mailer = self.mailer.clone();
        self.background.spawn(async move {
            if let Err(error) = mailer.send(&mail).await {
                tracing::error!(%error, to = %mail.to, subject = %mail.subject, "mail not sent");
            }
        });
    }
}

/// The Content-Security-Policy: nothing inline, nothing from elsewhere
/// except images (avatars) over https. Forms post to this site only, which
/// may send the browser on to `form_targets` (Stripe's hosted pages).
pub fn content_security_policy(form_targets: &[String]) -> String {
    let mut form_action = String::from("'self'");
    for target in form_targets {
        form_action.push(' ');
        form_action.push_str(target);
    }
    format!(
        "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action {form_action}; frame-ancestors 'none'"
    )
}

/// Builds the HTTP server on an already bound listener. Signals are left to
/// the caller, which stops the server before stopping PostgreSQL.
pub fn server(
    listener: TcpListener,
    state: AppState,
    workers: usize,
) -> std::io::Result<actix_web::dev::Server> {
    let hsts = state.secure_cookies;
    let form_targets = match (&state.stripe, &state.stripe_client) {
        (Some(stripe), Some(_)) => stripe.hosted_page_origins(),
        _ => Vec::new(),
    };
    let csp = content_security_policy(&form_targets);
    let server = HttpServer::new(move || {
        // Called once on each worker, which gets its own database pool.
        let state = web::Data::new(state.for_worker());
        App::new()
            .app_data(state)
            .wrap(ErrorHandlers::new().default_handler(error_pages::render_error_page))
            .wrap(Compress::default())
            .wrap(actix_web::middleware::from_fn(csrf::guard))
            .wrap(actix_web::middleware::from_fn(no_store_when_signed_in))
            .wrap(actix_web::middleware::from_fn(input::guard))
            .wrap(actix_web::middleware::from_fn(host::guard))
            .wrap(actix_web::middleware::from_fn(methods::head_as_get))
            .wrap(security_headers(hsts, &csp))
            .wrap(actix_web::middleware::from_fn(observe::observe))
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .wrap(tracing_actix_web::TracingLogger::<observe::RequestSpan>::new())
            .app_data(path_ids())
            .configure(routes::register)
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(30)
    .client_request_timeout(Duration::from_secs(10))
    .listen(listener)?
    .run();
    Ok(server)
}

/// `Cache-Control: private, no-store` on every answer to a signed-in browser and on
/// the admin area (unless the handler chose its own): a shared computer's
/// cache or a proxy must not keep a private page.
async fn no_store_when_signed_in(
    request: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    let private = request.path().starts_with(crate::admin::paths::OVERVIEW)
        || request.path().starts_with(crate::accounts::paths::ACCOUNT)
        || request
            .app_data::<web::Data<AppState>>()
            .is_some_and(|state| request.cookie(&state.session_cookie_name).is_some());
    let mut response = next.call(request).await?;
    let headers = response.headers_mut();
    if private && !headers.contains_key(actix_web::http::header::CACHE_CONTROL) {
        headers.insert(
            actix_web::http::header::CACHE_CONTROL,
            actix_web::http::header::HeaderValue::from_static("private, no-store"),
        );
    }
    Ok(response)
}

fn security_headers(hsts: bool, csp: &str) -> DefaultHeaders {
    let headers = if hsts {
        DefaultHeaders::new().add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        DefaultHeaders::new()
    };
    headers
        .add(("Content-Security-Policy", csp.to_owned()))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}

/// The home page.
pub const HOME: &str = "/";
/// Liveness, for load balancers.
pub const HEALTHZ: &str = "/healthz";

routes::route_table! {
    fn routes, pub const ROUTES = [
        HOME, Public => { get: pages::home },
        HEALTHZ, Public => { get: healthz },
    ]
}

/// Typed ids in paths (`web::Path<PostId>`): one that does not parse is a
/// page that does not exist, answered by the one 404 page.
pub fn path_ids() -> web::PathConfig {
    web::PathConfig::default()
        .error_handler(|_, _| actix_web::Error::from(page_error::PageError::NotFound))
}

/// 200 when the database answers within a second, 503 otherwise.
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    if crate::db::is_healthy(&state.pool, Duration::from_secs(1)).await {
        HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .content_type("text/plain; charset=utf-8")
            .body("ok\n")
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Retry-After", "5"))
            .content_type("text/plain; charset=utf-8")
            .body("database unavailable\n")
    }
}
