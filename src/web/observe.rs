//! Per-request observation: every request gets an id (tracing-actix-web's
//! [`RequestId`]) carried by a span around everything logged while it runs,
//! returned as `X-Request-Id`, shown on 5xx error pages, and written into
//! the metadata of the audit rows it causes (through
//! [`super::visitor::Visitor`]). Its answer is counted in
//! [`crate::monitoring::metrics`], and the error behind a 5xx answer is
//! logged here, once, with its causes.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

use super::AppState;
use super::page_error::PageError;
use crate::error_chain::Chain;

tokio::task_local! {
    /// The id of the request being served, for audit rows written without
    /// a [`super::visitor::Visitor`] at hand (the Stripe webhook).
    static CURRENT_REQUEST_ID: String;
}

/// The id of the request whose handler is running, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// The response header that carries the request id.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The request span: its id, method, path (never the query string, which
/// may hold tokens) and client address, and the status once answered.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let client_ip = super::client_ip::of(request.request())
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            path = %request.path(),
            client_ip = %client_ip,
            status = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.record("status", status.as_u16());
    }
}

/// The middleware: counts the answer by route, method and status, times
/// it, logs the error behind a 5xx, and sets `X-Request-Id`.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string);
    // Computed before the call: the request is the inner service's then.
    let route = request.match_pattern();
    let method = request.method().clone();
    let outcome = match &request_id {
        Some(id) => {
            CURRENT_REQUEST_ID
                .scope(id.clone(), next.call(request))
                .await
        }
        None => next.call(request).await,
    };
    let (status, error) = match &outcome {
        Ok(response) => (response.status(), response.response().error()),
        Err(error) => (error.as_response_error().status_code(), Some(error)),
    };
    if status.is_server_error()
        && let Some(error) = error
    {
        log_failure(error, status, request_id.as_deref());
    }
    if let Some(state) = &state {
        state.monitoring.http.record(
            route.as_deref(),
            &method,
            status.as_u16(),
            started.elapsed(),
        );
    }
    tracing::debug!(
        status = status.as_u16(),
        route = route
            .as_deref()
            .unwrap_or(crate::monitoring::metrics::UNMATCHED),
        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
        "answered"
    );
    let mut response = outcome?;
    if let Some(request_id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
    }
    Ok(response)
}

/// Logs the error behind a 5xx answer with its causes, the request id the
/// error page shows, and the SQLSTATE when PostgreSQL refused.
fn log_failure(error: &actix_web::Error, status: StatusCode, request_id: Option<&str>) {
    let request_id = request_id.unwrap_or_default();
    let status = status.as_u16();
    match error.as_error::<PageError>() {
        Some(failure) => {
            let database = failure.database_error();
            tracing::error!(
                request_id,
                status,
                error = %Chain(failure),
                sqlstate = database.map(|database| database.code().code()),
                constraint = database.and_then(|database| database.constraint()),
                "request failed"
            );
        }
        None => tracing::error!(request_id, status, %error, "request failed"),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::ResponseError;
    use actix_web::body::to_bytes;

    use super::{CURRENT_REQUEST_ID, PageError};

    async fn page_of(error: PageError, request_id: Option<&str>) -> (u16, String) {
        let response = match request_id {
            Some(id) => {
                CURRENT_REQUEST_ID
                    .scope(id.to_owned(), async { error.error_response() })
                    .await
            }
            None => error.error_response(),
        };
        let status = response.status().as_u16();
        let body = to_bytes(response.into_body()).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn the_500_and_503_pages_show_the_request_id_and_never_the_cause() {
        for (error, status) in [
            (PageError::internal("the secret cause"), 500),
            (
                PageError::Unavailable(std::io::Error::other("the secret cause").into()),
                503,
            ),
            (
                PageError::StorageFull(std::io::Error::other("the secret cause").into()),
                503,
            ),
        ] {
            let (answered, page) = page_of(error, Some("0b9e-request")).await;
            assert_eq!(answered, status);
            assert!(page.contains("<code>0b9e-request</code>"), "{page}");
            assert!(!page.contains("secret cause"), "{page}");
        }
    }

    #[tokio::test]
    async fn a_4xx_page_names_no_request() {
        let (status, page) = page_of(PageError::NotFound, Some("0b9e-request")).await;
        assert_eq!(status, 404);
        assert!(!page.contains("0b9e-request"), "{page}");
    }

    #[tokio::test]
    async fn a_500_outside_a_request_has_no_request_id_to_show() {
        let (status, page) = page_of(PageError::internal("a cause"), None).await;
        assert_eq!(status, 500);
        assert!(!page.contains("request id"), "{page}");
    }
}
