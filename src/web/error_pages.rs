//! Error pages: every 4xx and 5xx answer is a page in the site's layout,
//! never a stack trace or an internal message. A 5xx page shows the
//! request id, which the log line of its error carries too. A signed-in
//! visitor's error page has their header and theme, like every other page.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpMessage, HttpResponse, Result};
use askama::Template;

use super::pages::{Layout, render};
use super::visitor::Visitor;

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

/// What an error page says. Its response keeps it, so that
/// [`render_error_page`] can lay the page out again for the signed-in
/// visitor an extractor found after the page was made.
#[derive(Clone, Debug)]
struct ErrorText {
    status: StatusCode,
    heading: String,
    message: String,
    request_id: Option<String>,
    /// Whether the page was laid out for a signed-in visitor.
    personal: bool,
}

impl ErrorText {
    fn new(status: StatusCode, heading: &str, message: &str) -> Self {
        Self {
            status,
            heading: heading.to_owned(),
            message: message.to_owned(),
            request_id: status
                .is_server_error()
                .then(super::observe::current_request_id)
                .flatten(),
            personal: false,
        }
    }

    fn render(&self, visitor: Option<&Visitor>) -> HttpResponse {
        let page = ErrorPage {
            layout: match visitor {
                Some(visitor) => Layout::for_visitor(visitor, &self.heading, &self.message),
                None => Layout::new(&self.heading, &self.message),
            },
            status: self.status.as_u16(),
            heading: self.heading.clone(),
            message: self.message.clone(),
            request_id: self.request_id.clone(),
        };
        let mut response = render(&page, self.status);
        response.extensions_mut().insert(Self {
            personal: visitor.is_some_and(|visitor| visitor.signed_in.is_some()),
            ..self.clone()
        });
        response
    }
}

/// The page for `status`, with a heading and message fit for visitors.
pub fn error_page(status: StatusCode) -> HttpResponse {
    let (heading, message) = standard_text(status);
    error_page_with(status, heading, message)
}

/// The heading and message of the page for `status`.
fn standard_text(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
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
    }
}

/// An error page with its own heading and message; a 5xx page names the
/// request being answered.
pub fn error_page_with(status: StatusCode, heading: &str, message: &str) -> HttpResponse {
    ErrorText::new(status, heading, message).render(None)
}

/// The 404 page.
pub fn not_found_page() -> HttpResponse {
    error_page(StatusCode::NOT_FOUND)
}

/// Default service: 404 for unknown routes, in the visitor's layout (a
/// visitor who cannot be looked up gets the signed-out one).
pub async fn not_found(visitor: Option<Visitor>) -> HttpResponse {
    let status = StatusCode::NOT_FOUND;
    let (heading, message) = standard_text(status);
    ErrorText::new(status, heading, message).render(visitor.as_ref())
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
    // An error page made without the visitor (a `PageError` has no request)
    // for someone signed in: the same page in their layout.
    let signed_in = response
        .request()
        .extensions()
        .get::<Visitor>()
        .filter(|visitor| visitor.signed_in.is_some())
        .cloned();
    let text = response
        .response()
        .extensions()
        .get::<ErrorText>()
        .filter(|text| !text.personal)
        .cloned();
    let relaid = match (signed_in, text) {
        (Some(visitor), Some(text)) if is_html => Some(text.render(Some(&visitor))),
        _ => None,
    };
    if !replace && relaid.is_none() {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let (request, original) = response.into_parts();
    let (page, body) = relaid.unwrap_or_else(|| error_page(status)).into_parts();
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
