//! The HTTP side: `POST /webhooks/stripe` verifies the signature on the raw
//! body, parses the event, applies it and answers.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use time::OffsetDateTime;

use super::{Delivery, Event, apply};
use crate::billing::event_log::EventOutcome;
use crate::billing::stripe::{SIGNATURE_TOLERANCE_SECONDS, verify_signature};
use crate::web::AppState;
use crate::web::page_error::PageError;

/// The largest event body accepted.
pub const MAX_BODY: usize = 1024 * 1024;

fn plain(status: actix_web::http::StatusCode, text: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(format!("{text}\n"))
}

/// `POST /webhooks/stripe`.
pub async fn receive(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let Some(secret) = state
        .stripe
        .as_ref()
        .and_then(|stripe| stripe.webhook_secret.as_deref())
    else {
        return Ok(plain(
            actix_web::http::StatusCode::NOT_FOUND,
            "Stripe webhooks are not set up",
        ));
    };
    let header = request
        .headers()
        .get("Stripe-Signature")
        .and_then(|value| value.to_str().ok());
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if let Err(error) = verify_signature(secret, header, &body, now, SIGNATURE_TOLERANCE_SECONDS) {
        tracing::warn!(%error, "refused a Stripe webhook");
        return Ok(plain(
            actix_web::http::StatusCode::BAD_REQUEST,
            &error.to_string(),
        ));
    }
    let payload: Value = serde_json::from_slice(&body)
        .map_err(|_| PageError::BadRequest("the event is not JSON".to_owned()))?;
    let event = Event::parse(&payload).ok_or_else(|| {
        PageError::BadRequest("the event lacks id, type, created or data.object".to_owned())
    })?;
    let delivery = apply(&state, &event, &payload).await?;
    let answer = |outcome: EventOutcome, duplicate: bool| {
        HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(serde_json::json!({
                "received": true,
                "duplicate": duplicate,
                "outcome": outcome.as_str(),
            }))
    };
    match delivery {
        Delivery::Duplicate(outcome) => {
            tracing::info!(event = %event.id, kind = %event.kind, "Stripe event delivered again");
            Ok(answer(outcome, true))
        }
        Delivery::Done(fate) if fate.outcome == EventOutcome::Unsupported => {
            let reason = fate.reason.unwrap_or_default();
            tracing::error!(
                event = %event.id,
                kind = %event.kind,
                api_version = event.api_version.unwrap_or_default(),
                "a Stripe event in an API version Soloist does not know was kept, not applied \
                 (Stripe retries it): {reason}"
            );
            Ok(plain(actix_web::http::StatusCode::BAD_REQUEST, &reason))
        }
        Delivery::Done(fate) => {
            let reason = fate.reason.as_deref().unwrap_or_default();
            tracing::info!(
                event = %event.id,
                kind = %event.kind,
                outcome = fate.outcome.as_str(),
                reason,
                "Stripe event"
            );
            Ok(answer(fate.outcome, false))
        }
    }
}
