//! Error pages: every 4xx and 5xx answer is a page in the site's layout,
//! never a stack trace or an internal message. A 5xx page shows the
//! request id, which the log line of its error carries too.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpResponse, Result};
use askama::Template;

use super::pages::{Layout, render};

/// An error page.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The layout.
    pub layout: Layout,
    /// The HTTP status code.
    pub status: u16,
    /// One line saying what happened.
    pub heading: String,
    /// What the visitor can do.
    pub message: String,
    /// The request's id, on 5xx pages: the visitor can quote it.
    pub request_id: Option<String>,
}

/// The page for `status`, with a heading and message fit for visitors.
pub fn error_page(status: StatusCode) -> HttpResponse {
    let (heading, message) = match status.as_u16() {
        400 => (
            "Bad request",
            "The request could not be understood. Check what you entered and try again.",
        ),
        403 => ("Not allowed", "You do not have access to this page."),
        404 => (
            "Page not found",
            "There is nothing at this address. It may have moved, or the link may be mistyped.",
        ),
        405 => ("Method not allowed", "This page cannot be used that way."),
        408 => (
            "Request timed out",
            "The request took too long to arrive. Please try again.",
        ),
        413 => (
            "Too large",
            "What you sent is larger than this site accepts.",
        ),
        429 => (
            "Too many requests",
            "Please wait a moment before trying again.",
        ),
        503 => (
            "Temporarily unavailable",
            "The site cannot reach its database right now. Please try again in a moment.",
        ),
        code if code >= 500 => (
            "Something went wrong",
            "The error has been logged. Please try again in a moment.",
        ),
        _ => ("Request failed", "The request could not be completed."),
    };
    error_page_with(status, heading, message)
}

/// An error page with its own heading and message; a 5xx page names the
/// request being answered.
pub fn error_page_with(status: StatusCode, heading: &str, message: &str) -> HttpResponse {
    let page = ErrorPage {
        layout: Layout::new(heading, message),
        status: status.as_u16(),
        heading: heading.to_owned(),
        message: message.to_owned(),
        request_id: status
            .is_server_error()
            .then(super::observe::current_request_id)
            .flatten(),
    };
    render(&page, status)
}

/// The 404 page.
pub fn not_found_page() -> HttpResponse {
    error_page(StatusCode::NOT_FOUND)
}

/// Default service: 404 for unknown routes.
pub async fn not_found() -> HttpResponse {
    not_found_page()
}

/// Replaces the body of an error response that carries no page of its own
/// (actix's plain-text extractor errors, empty 4xx/5xx): those become the
/// site's error page. Deliberate plain answers (`/healthz`) are kept. The
/// answer keeps its error, for [`super::observe`] to log.
pub fn render_error_page<B: MessageBody + 'static>(
    response: ServiceResponse<B>,
) -> Result<ErrorHandlerResponse<B>> {
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/html"));
    let has_error = response.response().error().is_some();
    let empty = matches!(
        response.response().body().size(),
        actix_web::body::BodySize::None | actix_web::body::BodySize::Sized(0)
    );
    let replace =
        (status.is_client_error() || status.is_server_error()) && !is_html && (has_error || empty);
    if !replace {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let (request, original) = response.into_parts();
    let (page, body) = error_page(status).into_parts();
    // The original answer with the page's body: its error stays attached.
    let mut answer: HttpResponse<BoxBody> = original.set_body(body);
    let headers = answer.headers_mut();
    headers.retain(|name, _| {
        name == header::RETRY_AFTER || name == header::ALLOW || name == header::WWW_AUTHENTICATE
    });
    for (name, value) in page.headers() {
        headers.insert(name.clone(), value.clone());
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, answer).map_into_right_body(),
    ))
}
