//! The HTTP side: app assembly, middleware, error pages, static files.

pub mod assets;
pub mod errors;
pub mod pages;

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

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: Pool,
    /// Facts about this installation.
    pub site: Site,
}

/// The Content-Security-Policy: nothing inline, nothing from elsewhere
/// except images (avatars) over https.
const CSP: &str = "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; \
                   object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Builds the HTTP server on an already bound listener. Signals are left to
/// the caller, which stops the server before stopping PostgreSQL.
pub fn server(
    listener: TcpListener,
    pool: Pool,
    site: Site,
    workers: usize,
) -> std::io::Result<actix_web::dev::Server> {
    let state = web::Data::new(AppState { pool, site });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .wrap(ErrorHandlers::new().default_handler(errors::render_error_page))
            .wrap(Compress::default())
            .wrap(security_headers())
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .wrap(tracing_actix_web::TracingLogger::default())
            .configure(routes)
    })
    .workers(workers)
    .disable_signals()
    .shutdown_timeout(30)
    .client_request_timeout(Duration::from_secs(10))
    .listen(listener)?
    .run();
    Ok(server)
}

fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CSP))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
        .add(("Cross-Origin-Opener-Policy", "same-origin"))
}

/// Every route of the application.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(pages::home))
        .route("/healthz", web::get().to(healthz))
        .route("/static/{path:.*}", web::get().to(assets::serve))
        .default_service(web::to(errors::not_found));
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
