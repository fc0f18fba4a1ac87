//! The one error type of page handlers, mapped to responses in one place:
//! an error page with the right status, or a redirect to sign-in. Internal
//! details are never shown: a failure keeps its cause, which
//! [`super::observe`] logs once with the request id the page shows.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};

use crate::db::StoreError;

/// The cause of a failure, kept for the log.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

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
    #[error("database unavailable")]
    Unavailable(#[source] Cause),
    /// The database's disk is full: nothing could be written.
    #[error("storage full")]
    StorageFull(#[source] Cause),
    /// A bug or an unexpected failure.
    #[error("internal error")]
    Internal(#[source] Cause),
}

impl PageError {
    /// An internal error that has no cause but a broken expectation, said
    /// in `message`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::Internal(message.into().into())
    }

    /// The PostgreSQL error among this error's causes, if one is.
    pub fn database_error(&self) -> Option<&tokio_postgres::error::DbError> {
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            if let Some(database_error) = error.downcast_ref::<tokio_postgres::error::DbError>() {
                return Some(database_error);
            }
            cause = error.source();
        }
        None
    }
}

impl From<deadpool_postgres::PoolError> for PageError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        Self::Unavailable(error.into())
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
            Self::StorageFull(error.into())
        } else if error.is_closed() || io || unavailable_state {
            Self::Unavailable(error.into())
        } else {
            Self::Internal(error.into())
        }
    }
}

impl From<StoreError> for PageError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Postgres(error) => error.into(),
            StoreError::Decode { .. } => Self::Internal(error.into()),
        }
    }
}

impl From<crate::accounts::secrets::HashError> for PageError {
    fn from(error: crate::accounts::secrets::HashError) -> Self {
        Self::Internal(error.into())
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
            Self::Unavailable(_) | Self::Internal(_) => {
                let mut response = super::error_pages::error_page(self.status_code());
                if matches!(self, Self::Unavailable(_)) {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
                }
                response
            }
            Self::StorageFull(_) => {
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
            Self::Upstream(_) => super::error_pages::error_page_with(
                self.status_code(),
                "The payment provider did not answer",
                "Nothing was charged. Try again in a minute.",
            ),
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

#[cfg(test)]
mod tests {
    use super::PageError;
    use crate::db::StoreError;
    use crate::error_chain::Chain;

    #[test]
    fn an_internal_error_keeps_its_cause() {
        let error = PageError::from(StoreError::Decode {
            column: "settings".to_owned(),
            message: "expected a map".to_owned(),
        });
        assert!(matches!(error, PageError::Internal(_)));
        assert_eq!(
            Chain(&error).to_string(),
            "internal error: caused by: column settings did not decode: expected a map"
        );
    }

    #[test]
    fn a_broken_expectation_is_an_internal_error_that_says_which() {
        let error = PageError::internal("the new admin vanished");
        assert_eq!(
            Chain(&error).to_string(),
            "internal error: caused by: the new admin vanished"
        );
        assert!(error.database_error().is_none());
    }
}
