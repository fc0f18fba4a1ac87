//! The shared layout and the pages of the base application.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::AppState;
use super::failure::PageError;
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

/// Messages that a redirect can ask the next page to show (`?notice=`):
/// a closed set, so a link cannot put arbitrary text on the page.
fn notice(code: &str) -> Option<Flash> {
    let (kind, message) = match code {
        "signed-out" => ("info", "You are signed out."),
        "email-verified" => ("success", "Your email address is confirmed."),
        "verification-sent" => (
            "info",
            "We sent a new confirmation link. It works for 24 hours.",
        ),
        "password-reset" => (
            "success",
            "Your password was changed. Sign in with the new one.",
        ),
        "password-changed" => (
            "success",
            "Your password was changed and your other sessions were signed out.",
        ),
        "profile-saved" => ("success", "Your profile was saved."),
        "password-removed" => (
            "warning",
            "Your address is confirmed. This account had a password chosen before the address was proven, \
             perhaps by someone else, so it was removed and every other session was signed out. Choose \
             your own password below.",
        ),
        "password-link-sent" => (
            "info",
            "We mailed you a link to choose a password. It works for one hour.",
        ),
        "email-change-sent" => (
            "info",
            "Check the new address: the change happens when you open the link we sent.",
        ),
        "session-ended" => ("success", "That session was signed out."),
        "sessions-ended" => ("success", "All your other sessions were signed out."),
        "post-created" => (
            "success",
            "Your draft was saved. Publish it when it is ready.",
        ),
        "post-saved" => ("success", "Your changes were saved."),
        "post-published" => ("success", "The post is published."),
        "post-archived" => ("info", "The post is archived: readers no longer see it."),
        "post-drafted" => ("info", "The post is a draft again: only you see it."),
        "post-deleted" => ("success", "The post was deleted."),
        "category-created" => ("success", "The category was created."),
        "category-saved" => ("success", "The category was saved."),
        "category-deleted" => (
            "success",
            "The category was deleted; its posts have none now.",
        ),
        "already-subscribed" => ("info", "You already have a plan: change it here."),
        "checkout-canceled" => ("info", "Checkout was canceled: nothing was charged."),
        "checkout-complete" => (
            "success",
            "Thank you! Your subscription starts as soon as Stripe confirms the payment, usually within seconds.",
        ),
        "subscription-canceled" => (
            "info",
            "Your plan was canceled. You keep it until the end of the paid period.",
        ),
        "subscription-resumed" => ("success", "Your plan continues: it will renew as usual."),
        "plan-changed" => ("success", "Your plan was changed."),
        "plan-created" => ("success", "The plan was created."),
        "plan-saved" => ("success", "The plan was saved."),
        "plan-deleted" => ("success", "The plan was deleted."),
        "event-replayed" => (
            "success",
            "The event was applied again; its outcome is below.",
        ),
        "event-still-parked" => (
            "info",
            "The event was applied again and still waits for what it refers to.",
        ),
        "event-still-unsupported" => (
            "warning",
            "This Soloist still does not know the event's API version. Upgrade Soloist, then replay it.",
        ),
        "event-forgotten" => (
            "warning",
            "That event's body is no longer kept (applied events keep it for 90 days), so it can't be replayed.",
        ),
        "plan-granted" => ("success", "The plan was granted."),
        "user-saved" => ("success", "The role was changed."),
        "user-deactivated" => (
            "info",
            "The user was deactivated and signed out everywhere.",
        ),
        "user-reactivated" => ("success", "The user can sign in again."),
        "verification-resent" => ("success", "A new confirmation link was mailed."),
        "backup-started" => (
            "info",
            "The backup is being written; reload to see it in the list.",
        ),
        "backup-running" => (
            "warning",
            "A backup is already being written; it appears below when it is complete.",
        ),
        "welcome-admin" => (
            "success",
            "Welcome! You are the administrator of this site.",
        ),
        _ => return None,
    };
    Some(Flash {
        kind: kind.to_owned(),
        message: message.to_owned(),
    })
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
        if let Some(signed_in) = &visitor.signed_in {
            layout.user_name = Some(signed_in.user.name.clone());
            layout.is_admin = signed_in.user.role == Role::Admin;
        }
        layout
    }

    /// Shows the message a redirect asked for with `?notice=`.
    pub fn with_notice(mut self, request: &actix_web::HttpRequest) -> Self {
        self.flash = request
            .query_string()
            .split('&')
            .find_map(|pair| pair.strip_prefix("notice="))
            .and_then(notice);
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
        layout.extra_css = Some("/categories.css".to_owned());
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
