//! `/admin/settings` (the site's name, tagline, description, accent colour
//! and time zone) and `/site.css` (the accent colour as a stylesheet).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::accent::{self, Rgb};
use super::form::{self, SettingsForm, SettingsView};
use super::{SiteSettings, store};
use crate::audit::{self, Actor, AuditAction, AuditEntity};
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::caching::public_body;
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

/// The settings page.
pub const SETTINGS: &str = crate::admin::paths::SETTINGS;
/// The accent colour's stylesheet (linked with `?v=<colour>` when one is set).
pub const STYLESHEET: &str = "/site.css";

crate::web::routes::route_table! {
    pub fn routes, pub const ROUTES = [
        SETTINGS, Admin => { get: settings_page, post: save },
        STYLESHEET, Public => { get: stylesheet },
    ]
}

/// The URL of the stylesheet for `settings`, when they set a colour (the
/// colour is in the URL, so a changed colour is a new file to caches).
pub fn stylesheet_url(settings: &SiteSettings) -> Option<String> {
    settings
        .accent_color
        .as_deref()
        .map(|color| format!("{STYLESHEET}?v={}", color.trim_start_matches('#')))
}

/// `GET /admin/settings`.
#[derive(Template)]
#[template(path = "admin/settings.html")]
pub struct SettingsPage {
    /// The layout.
    pub layout: Layout,
    /// The form.
    pub form: SettingsView,
    /// The form's messages with the fields they are about.
    pub problems: Vec<crate::web::forms::Problem>,
    /// Longest name, tagline and description.
    pub limits: (usize, usize, usize),
}

fn page(
    visitor: &Visitor,
    form: SettingsView,
    request: Option<&HttpRequest>,
    status: StatusCode,
) -> HttpResponse {
    let mut layout = Layout::for_visitor(
        visitor,
        "Settings",
        "The site's name, description, colour and time zone.",
    );
    if let Some(request) = request {
        layout = layout.with_notice(request);
    }
    let page = SettingsPage {
        layout,
        problems: form.problems(),
        form,
        limits: (form::NAME_MAX, form::TAGLINE_MAX, form::DESCRIPTION_MAX),
    };
    render(&page, status)
}

/// `GET /admin/settings`.
pub async fn settings_page(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    let settings = store::load(&client).await?;
    drop(client);
    Ok(page(
        &visitor,
        SettingsView::of(&settings),
        Some(&request),
        StatusCode::OK,
    ))
}

/// `POST /admin/settings`: saves the settings with their audit row.
pub async fn save(
    state: web::Data<AppState>,
    request: CsrfForm<SettingsForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let (mut view, fields) = form::parse(&form);
    let mut client = state.pool.get().await?;
    if view.time_zone_error.is_none()
        && !crate::accounts::store::is_timezone(&client, &view.time_zone).await?
    {
        view.time_zone_error = Some("Choose a time zone such as Europe/Berlin or UTC.".to_owned());
    }
    let Some(fields) = fields.filter(|_| view.time_zone_error.is_none()) else {
        drop(client);
        return Ok(page(&visitor, view, None, StatusCode::UNPROCESSABLE_ENTITY));
    };
    let transaction = client.transaction().await?;
    let before = store::lock(&transaction).await?;
    let after = store::save(&transaction, &fields).await?;
    let changes = audit::changed(&before, &after);
    if !changes.is_empty() {
        audit::store::record(
            &transaction,
            &Actor::from(&visitor).entry(
                AuditAction::Update,
                AuditEntity::SiteSettings,
                None,
                changes,
            ),
        )
        .await?;
    }
    transaction.commit().await?;
    state.site_settings.set(after);
    Ok(see_other_with(SETTINGS, Notice::SettingsSaved))
}

/// `GET /site.css`: the accent tokens for the site's colour (empty when
/// the stylesheet's own colour is used).
pub async fn stylesheet(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let settings = state.site_settings.get(&state.pool).await;
    let css = settings
        .accent_color
        .as_deref()
        .and_then(Rgb::parse)
        .map(accent::stylesheet)
        .unwrap_or_else(|| "/* The stylesheet's own accent colour. */\n".to_owned());
    Ok(public_body(
        &request,
        css,
        "text/css; charset=utf-8",
        "public, max-age=300",
    ))
}
