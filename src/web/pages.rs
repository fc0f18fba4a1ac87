//! The shared layout and the pages of the base application.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::AppState;
use super::page_error::PageError;
use super::visitor::Visitor;
use crate::accounts::model::Role;

/// A one-line message shown at the top of a page.
#[derive(Clone, Debug)]
pub struct Flash {
    /// success, error, info or warning.
    pub kind: String,
    /// The message.
    pub message: String,
}

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
    /// The token the page's forms carry.
    pub csrf_token: String,
    /// The signed-in user's name.
    pub user_name: Option<String>,
    /// Whether the visitor is an admin.
    pub is_admin: bool,
    /// A message at the top of the page.
    pub flash: Option<Flash>,
    /// A second stylesheet (e.g. `/categories.css`).
    pub extra_css: Option<String>,
    /// Where the page is, for marking the current link of the navigation.
    pub nav: super::nav::Nav,
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
            csrf_token: String::new(),
            user_name: None,
            is_admin: false,
            flash: None,
            extra_css: None,
            nav: super::nav::Nav::default(),
        }
    }

    /// The layout of a page for `visitor`: their theme, name, CSRF token.
    pub fn for_visitor(
        visitor: &Visitor,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        let mut layout = Self::new(title, description);
        layout.theme = visitor.theme().as_str().to_owned();
        layout.csrf_token = visitor.csrf_token.clone();
        layout.nav = super::nav::Nav::at(&visitor.path);
        if let Some(signed_in) = &visitor.signed_in {
            layout.user_name = Some(signed_in.user.name.clone());
            layout.is_admin = signed_in.user.role == Role::Admin;
        }
        layout
    }

    /// Shows the message a redirect asked for with `?notice=`.
    pub fn with_notice(mut self, request: &actix_web::HttpRequest) -> Self {
        self.flash = super::notice::Notice::of(request).map(super::notice::Notice::flash);
        self
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
    /// Featured posts.
    pub featured: Vec<crate::content::pages::CardView>,
}

/// `GET /`.
pub async fn home(
    state: web::Data<AppState>,
    visitor: Visitor,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, PageError> {
    let site = &state.site;
    let mut layout = Layout::for_visitor(
        &visitor,
        "Home",
        "Soloist: a complete SaaS application in one binary, with its own PostgreSQL.",
    )
    .with_notice(&request);
    // Only someone at the server itself is told how to finish the setup;
    // the public never learns that the site has no administrator yet.
    let on_this_machine = visitor
        .ip
        .as_deref()
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback());
    if layout.flash.is_none() && on_this_machine {
        let client = state.pool.get().await?;
        if !crate::accounts::store::admin_exists(&client).await? {
            layout.flash = Some(Flash {
                kind: "info".to_owned(),
                message:
                    "Finish setting up: open the one-time setup link that Soloist printed when it \
                          started (in its terminal or log), or run `soloist admin create`."
                        .to_owned(),
            });
        }
    }
    let featured = crate::content::pages::featured_cards(&state).await?;
    if !featured.is_empty() {
        layout.extra_css = Some(crate::content::paths::CATEGORY_STYLES.to_owned());
    }
    let is_admin = layout.is_admin;
    let page = HomePage {
        featured,
        layout,
        database: site.database.clone(),
        migrations: format!("Version {}", site.schema_version),
        // Where the data lives is for administrators only.
        data_dir: site.data_dir.clone().filter(|_| is_admin),
    };
    Ok(render(&page, StatusCode::OK))
}
