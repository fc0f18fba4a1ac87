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
    /// The site's name (its settings'; "Soloist" until it is named).
    pub app_name: String,
    /// The site's tagline.
    pub tagline: String,
    /// The stylesheet of the site's accent colour, when it has one.
    pub site_css: Option<String>,
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
            app_name: crate::site::DEFAULT_NAME.to_owned(),
            tagline: String::new(),
            site_css: None,
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
        layout.app_name = visitor.site.site_name.clone();
        layout.tagline = visitor.site.tagline.clone();
        layout.site_css = crate::site::pages::stylesheet_url(&visitor.site);
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

/// What only administrators see on the home page.
#[derive(Clone, Debug)]
pub struct SiteStatus {
    /// Which database runs Soloist.
    pub database: String,
    /// The schema version.
    pub migrations: String,
    /// Where the data lives (embedded database only).
    pub data_dir: Option<String>,
    /// The setup checklist: done, of how many.
    pub steps: (usize, usize),
}

/// The home page: the site's landing page.
#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    /// The layout.
    pub layout: Layout,
    /// The description under the tagline.
    pub description: String,
    /// Whether someone is signed in (the calls to action differ).
    pub signed_in: bool,
    /// "Featured posts", or "Latest posts" when none is featured.
    pub posts_heading: &'static str,
    /// The posts shown.
    pub posts: Vec<crate::content::pages::CardView>,
    /// A few plans on sale.
    pub plans: Vec<crate::billing::pages::PlanView>,
    /// More plans than shown.
    pub more_plans: bool,
    /// Installation details, for administrators.
    pub status: Option<SiteStatus>,
}

/// Plans shown on the home page.
const HOME_PLANS: usize = 3;

/// `GET /`.
pub async fn home(
    state: web::Data<AppState>,
    visitor: Visitor,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, PageError> {
    let site = &state.site;
    let settings = visitor.site.clone();
    let description = if settings.description.is_empty() {
        format!(
            "{}: {}",
            settings.site_name,
            if settings.tagline.is_empty() {
                "posts, plans and an account of your own."
            } else {
                settings.tagline.as_str()
            }
        )
    } else {
        settings.description.clone()
    };
    let mut layout = Layout::for_visitor(&visitor, "Home", description).with_notice(&request);
    // Only someone at the server itself is told how to finish the setup;
    // the public never learns that the site has no administrator yet.
    let on_this_machine = visitor
        .ip
        .as_deref()
        .and_then(|ip| ip.parse::<std::net::IpAddr>().ok())
        .is_some_and(|ip| ip.is_loopback());
    let client = state.pool.get().await?;
    if layout.flash.is_none()
        && on_this_machine
        && !crate::accounts::store::admin_exists(&client).await?
    {
        layout.flash = Some(Flash {
            kind: "info".to_owned(),
            message:
                "Finish setting up: open the one-time setup link that Soloist printed when it \
                      started (in its terminal or log), or run `soloist admin create`."
                    .to_owned(),
        });
    }
    let plans = crate::billing::store::active_plans(&client).await?;
    let status = if layout.is_admin {
        let steps = crate::admin::first_steps::FirstSteps::of(&state, &client).await?;
        Some(SiteStatus {
            database: site.database.clone(),
            migrations: format!("Version {}", site.schema_version),
            data_dir: site.data_dir.clone(),
            steps: (steps.done(), steps.steps.len()),
        })
    } else {
        None
    };
    drop(client);
    let mut posts_heading = "Featured posts";
    let mut posts = crate::content::pages::featured_cards(&state, visitor.time_zone()).await?;
    if posts.is_empty() {
        posts_heading = "Latest posts";
        posts = crate::content::pages::latest_cards(&state, visitor.time_zone(), 3).await?;
    }
    if !posts.is_empty() {
        layout.extra_css = Some(crate::content::paths::CATEGORY_STYLES.to_owned());
    }
    let page = HomePage {
        layout,
        description: settings.description.clone(),
        signed_in: visitor.signed_in.is_some(),
        posts_heading,
        posts,
        more_plans: plans.len() > HOME_PLANS,
        plans: plans
            .iter()
            .take(HOME_PLANS)
            .map(crate::billing::pages::PlanView::of)
            .collect(),
        status,
    };
    Ok(render(&page, StatusCode::OK))
}
