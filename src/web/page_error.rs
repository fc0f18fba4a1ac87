//! The one error type of page handlers, mapped to responses in one place:
//! an error page with the right status, or a redirect to sign-in. Internal
//! details are logged, never shown.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};

use crate::db::StoreError;

/// What can stop a page handler.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The page needs a signed-in user.
    #[error("sign-in required")]
    SignInRequired,
    /// The user may not do this.
    #[error("forbidden")]
    Forbidden,
    /// The CSRF token was missing or wrong.
    #[error("CSRF token missing or wrong")]
    CsrfFailed,
    /// Nothing here (also for things that exist but are not the visitor's).
    #[error("not found")]
    NotFound,
    /// The request could not be understood.
    #[error("{0}")]
    BadRequest(String),
    /// A rate limit was hit.
    #[error("too many requests")]
    TooManyRequests,
    /// The payment provider failed.
    #[error("payment provider: {0}")]
    Upstream(String),
    /// The database is unreachable.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database's disk is full: nothing could be written.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// A bug or an unexpected failure.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<deadpool_postgres::PoolError> for PageError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        Self::Unavailable(error.to_string())
    }
}

impl From<tokio_postgres::Error> for PageError {
    fn from(error: tokio_postgres::Error) -> Self {
        let io =
            std::error::Error::source(&error).is_some_and(|source| source.is::<std::io::Error>());
        // Class 08 (connection exception) and 57 (operator intervention:
        // shutting down, starting up, in recovery) mean the server is not
        // there right now, not that the request was wrong.
        // Class 53 (insufficient resources: out of memory, too many
        // connections) passes too; 53100 is a full disk, said as such.
        let state = error
            .as_db_error()
            .map(|db_error| db_error.code().code().to_owned());
        let unavailable_state = state
            .as_deref()
            .is_some_and(|code| matches!(code.get(..2), Some("08" | "53" | "57")));
        if matches!(state.as_deref(), Some("22021" | "22P05")) {
            // Text PostgreSQL cannot store (a NUL that slipped past the
            // edge, say): the request's fault, said as such.
            Self::BadRequest(super::input::REFUSED.to_owned())
        } else if state.as_deref() == Some("53100") {
            Self::StorageFull(error.as_db_error().map_or_else(
                || error.to_string(),
                |db_error| db_error.message().to_owned(),
            ))
        } else if error.is_closed() || io || unavailable_state {
            Self::Unavailable(error.to_string())
        } else if let Some(db_error) = error.as_db_error() {
            Self::Internal(format!(
                "{} ({}){}",
                db_error.message(),
                db_error.code().code(),
                db_error
                    .constraint()
                    .map(|name| format!(" on {name}"))
                    .unwrap_or_default()
            ))
        } else {
            Self::Internal(error.to_string())
        }
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Postgres(error) => error.into(),
            StoreError::Decode { .. } => Self::Internal(error.to_string()),
        }
    }
}

impl From<crate::accounts::secrets::HashError> for PageError {
    fn from(error: crate::accounts::secrets::HashError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<crate::accounts::AccountError> for PageError {
    fn from(error: crate::accounts::AccountError) -> Self {
        use crate::accounts::AccountError;
        match error {
            AccountError::NeedsPassword => Self::BadRequest(error.to_string()),
            AccountError::Pool(error) => error.into(),
            AccountError::Transaction(error) => error.into(),
            AccountError::Store(error) => error.into(),
            AccountError::Hash(error) => error.into(),
        }
    }
}

impl From<crate::content::ContentError> for PageError {
    fn from(error: crate::content::ContentError) -> Self {
        use crate::content::ContentError;
        match error {
            ContentError::Pool(error) => error.into(),
            ContentError::Store(error) => error.into(),
        }
    }
}

impl From<crate::billing::BillingError> for PageError {
    fn from(error: crate::billing::BillingError) -> Self {
        use crate::billing::BillingError;
        match error {
            BillingError::Stripe(error) => Self::Upstream(error.to_string()),
            BillingError::Pool(error) => error.into(),
            BillingError::Transaction(error) => error.into(),
            BillingError::Store(error) => error.into(),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignInRequired => StatusCode::SEE_OTHER,
            Self::Forbidden | Self::CsrfFailed => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::StorageFull(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Upstream(_) => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignInRequired => HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/sign-in"))
                .finish(),
            Self::Unavailable(detail) | Self::Internal(detail) => {
                tracing::error!(%detail, status = %self.status_code(), "request failed");
                let mut response = super::error_pages::error_page(self.status_code());
                if matches!(self, Self::Unavailable(_)) {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
                }
                response
            }
            Self::StorageFull(detail) => {
                tracing::error!(%detail, "the database's disk is full");
                let mut response = super::error_pages::error_page_with(
                    self.status_code(),
                    "Storage is full",
                    "The server has run out of disk space, so nothing was saved. \
                     Pages can still be read; try again later.",
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
                response
            }
            Self::Upstream(detail) => {
                tracing::error!(%detail, "the payment provider failed");
                super::error_pages::error_page_with(
                    self.status_code(),
                    "The payment provider did not answer",
                    "Nothing was charged. Try again in a minute.",
                )
            }
            Self::BadRequest(message) => {
                super::error_pages::error_page_with(self.status_code(), "Bad request", message)
            }
            Self::CsrfFailed => super::error_pages::error_page_with(
                self.status_code(),
                "This form has expired",
                "Go back, reload the page and submit the form again.",
            ),
            Self::TooManyRequests => {
                let mut response = super::error_pages::error_page(self.status_code());
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
                response
            }
            _ => super::error_pages::error_page(self.status_code()),
        }
    }
}
