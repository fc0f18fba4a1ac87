//! The shared layout and the pages of the base application.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::AppState;

/// What every page's layout needs.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The page title.
    pub title: String,
    /// The meta description.
    pub description: String,
    /// "system", "light" or "dark".
    pub theme: String,
    /// The stylesheet URL.
    pub css_url: String,
    /// The icon URL.
    pub favicon_url: String,
    /// "Soloist".
    pub app_name: String,
    /// The running version.
    pub version: String,
}

impl Layout {
    /// The layout of a page titled `title`.
    pub fn new(title: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            description: description.into(),
            theme: "system".to_owned(),
            css_url: super::assets::url("app.css"),
            favicon_url: super::assets::url("favicon.svg"),
            app_name: "Soloist".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// Renders `template` as an HTML response with `status`. A template that
/// fails to render is a bug: it is logged and answered with a plain 500.
pub fn render(template: &impl Template, status: StatusCode) -> HttpResponse {
    match template.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(error) => {
            tracing::error!(%error, "rendering a template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Internal server error\n")
        }
    }
}

/// The home page.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    /// The layout.
    pub layout: Layout,
    /// Which database runs Soloist.
    pub database: String,
    /// The schema version.
    pub migrations: String,
    /// Where the data lives (embedded database only).
    pub data_dir: Option<String>,
}

/// `GET /`.
pub async fn home(state: web::Data<AppState>) -> HttpResponse {
    let site = &state.site;
    let page = HomePage {
        layout: Layout::new(
            "Home",
            "Soloist: a complete SaaS application in one binary, with its own PostgreSQL.",
        ),
        database: site.database.clone(),
        migrations: format!("Version {}", site.schema_version),
        data_dir: site.data_dir.clone(),
    };
    render(&page, StatusCode::OK)
}
