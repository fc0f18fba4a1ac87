//! Stripe: configuration, webhook signature verification, and the few API
//! calls Soloist makes (Checkout, the Customer Portal, reading and changing
//! a subscription), over HTTP with form-encoded requests as Stripe expects.

use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far a webhook's timestamp may be from now, either way.
pub const SIGNATURE_TOLERANCE_SECONDS: i64 = 300;

/// Stripe settings.
#[derive(Clone, Debug)]
pub struct StripeConfig {
    /// The secret API key; none means webhooks only.
    pub secret_key: Option<String>,
    /// The webhook endpoint's signing secret; none means no webhooks.
    pub webhook_secret: Option<String>,
    /// The API's base URL (tests point it at a local server).
    pub api_url: String,
}

impl StripeConfig {
    /// The configuration, when a key or a webhook secret is set.
    pub fn configured(values: &crate::config::Overrides) -> Option<Self> {
        let present = |value: &Option<String>| {
            value
                .as_ref()
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let secret_key = present(&values.stripe_secret_key);
        let webhook_secret = present(&values.stripe_webhook_secret);
        if secret_key.is_none() && webhook_secret.is_none() {
            return None;
        }
        Some(Self {
            secret_key,
            webhook_secret,
            api_url: present(&values.stripe_api_url)
                .unwrap_or_else(|| "https://api.stripe.com".to_owned())
                .trim_end_matches('/')
                .to_owned(),
        })
    }

    /// The origins of the pages Stripe hosts for visitors (Checkout and the
    /// Customer Portal). Soloist answers a form with a redirect there, and
    /// browsers block that unless the Content-Security-Policy's
    /// `form-action` names them. Another API URL (a stand-in) serves its
    /// pages from its own origin.
    pub fn hosted_page_origins(&self) -> Vec<String> {
        let mut origins = vec![
            "https://checkout.stripe.com".to_owned(),
            "https://billing.stripe.com".to_owned(),
        ];
        if let Ok(url) = reqwest::Url::parse(&self.api_url)
            && matches!(url.scheme(), "https" | "http")
            && url.host_str() != Some("api.stripe.com")
        {
            let origin = url.origin().ascii_serialization();
            // Only what an origin is made of: nothing that ends the directive.
            if origin
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:/[]".contains(c))
            {
                origins.push(origin);
            }
        }
        origins
    }
}

/// Why a webhook's signature was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header.
    #[error("the Stripe-Signature header is missing")]
    Missing,
    /// The header has no timestamp or no v1 signature.
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    /// The timestamp is too far in the past.
    #[error("the signature's timestamp is too old")]
    TooOld,
    /// The timestamp is too far in the future.
    #[error("the signature's timestamp is in the future")]
    InFuture,
    /// No v1 signature matches.
    #[error("no signature matches the payload")]
    Mismatch,
}

/// Checks a `Stripe-Signature` header exactly as Stripe specifies: the
/// HMAC-SHA256 of `"{t}.{raw body}"` with the endpoint's secret, compared
/// in constant time with every `v1` in the header (any may match), and a
/// timestamp within the tolerance of `now`. Returns the timestamp.
pub fn verify_signature(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" if timestamp.is_none() => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                );
            }
            "v1" => {
                if let Some(bytes) = decode_hex(value) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if timestamp < now.saturating_sub(tolerance) {
        return Err(SignatureError::TooOld);
    }
    if timestamp > now.saturating_add(tolerance) {
        return Err(SignatureError::InFuture);
    }
    let expected = sign(secret, timestamp, body);
    let mut matched = subtle::Choice::from(0);
    for signature in &signatures {
        matched |= signature.as_slice().ct_eq(expected.as_slice());
    }
    if bool::from(matched) {
        Ok(timestamp)
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The v1 signature of `body` at `timestamp` (what Stripe sends).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return Vec::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// A `Stripe-Signature` header for `body` (tests and benchmarks).
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let hex: String = sign(secret, timestamp, body)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    // Hex digits only: `from_str_radix` alone would also take a sign ("+2").
    if text.len() != 64 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

/// A failed Stripe API call.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe could not be reached or answered garbage.
    #[error("Stripe could not be reached: {0}")]
    Unreachable(String),
    /// Stripe refused the request.
    #[error("Stripe refused the request ({status}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// Stripe's message.
        message: String,
    },
    /// Stripe is not configured with a secret key.
    #[error("payments are not set up")]
    NotConfigured,
}

/// The Stripe API.
#[derive(Clone, Debug)]
pub struct StripeClient {
    http: reqwest::Client,
    runtime: crate::background::Background,
    secret_key: String,
    api_url: String,
}

impl StripeClient {
    /// A client for `config`, when it has a secret key.
    pub fn new(config: &StripeConfig) -> Result<Option<Self>, reqwest::Error> {
        let Some(secret_key) = config.secret_key.clone() else {
            return Ok(None);
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()?;
        Ok(Some(Self {
            http,
            runtime: crate::background::Background::current(),
            secret_key,
            api_url: config.api_url.clone(),
        }))
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, StripeError> {
        let request = request
            .bearer_auth(&self.secret_key)
            .header("Stripe-Version", super::versions::PINNED);
        // The client's pooled connections are shared by every HTTP worker.
        let exchange = async move {
            let response = request.send().await?;
            let status = response.status();
            let body: Value = response.json().await?;
            Ok::<_, reqwest::Error>((status, body))
        };
        let (status, body) = self
            .runtime
            .run(exchange)
            .await
            .ok_or_else(|| StripeError::Unreachable("Soloist is stopping".to_owned()))?
            .map_err(|error| StripeError::Unreachable(error.to_string()))?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(StripeError::Refused {
                status: status.as_u16(),
                message: body["error"]["message"]
                    .as_str()
                    .unwrap_or("no message")
                    .to_owned(),
            })
        }
    }

    async fn post(&self, path: &str, form: &[(String, String)]) -> Result<Value, StripeError> {
        let url = format!("{}{path}", self.api_url);
        self.call(self.http.post(url).form(form)).await
    }

    /// `GET /v1/subscriptions/{id}`: the subscription as it is now.
    pub async fn subscription(&self, id: &str) -> Result<Value, StripeError> {
        let url = format!("{}/v1/subscriptions/{}", self.api_url, encode_path(id));
        self.call(self.http.get(url)).await
    }

    /// `GET /v1/subscriptions?status=all`: one page of every subscription,
    /// after `starting_after`.
    pub async fn subscriptions_page(
        &self,
        starting_after: Option<&str>,
    ) -> Result<Value, StripeError> {
        let url = format!("{}/v1/subscriptions", self.api_url);
        let mut query = vec![("status", "all"), ("limit", "100")];
        if let Some(after) = starting_after {
            query.push(("starting_after", after));
        }
        self.call(self.http.get(url).query(&query)).await
    }

    /// Starts a Checkout session in subscription mode; returns (id, url).
    pub async fn checkout(&self, checkout: &Checkout<'_>) -> Result<(String, String), StripeError> {
        let mut form = vec![
            ("mode".to_owned(), "subscription".to_owned()),
            ("line_items[0][price]".to_owned(), checkout.price.to_owned()),
            ("line_items[0][quantity]".to_owned(), "1".to_owned()),
            ("success_url".to_owned(), checkout.success_url.to_owned()),
            ("cancel_url".to_owned(), checkout.cancel_url.to_owned()),
            (
                "client_reference_id".to_owned(),
                checkout.user_id.to_owned(),
            ),
            ("metadata[user_id]".to_owned(), checkout.user_id.to_owned()),
            ("metadata[plan_id]".to_owned(), checkout.plan_id.to_owned()),
            (
                "subscription_data[metadata][user_id]".to_owned(),
                checkout.user_id.to_owned(),
            ),
            (
                "subscription_data[metadata][plan_id]".to_owned(),
                checkout.plan_id.to_owned(),
            ),
            ("expires_at".to_owned(), checkout.expires_at.to_string()),
        ];
        match checkout.customer {
            Some(customer) => form.push(("customer".to_owned(), customer.to_owned())),
            None => form.push(("customer_email".to_owned(), checkout.email.to_owned())),
        }
        let session = self.post("/v1/checkout/sessions", &form).await?;
        match (session["id"].as_str(), session["url"].as_str()) {
            (Some(id), Some(url)) => Ok((id.to_owned(), url.to_owned())),
            _ => Err(StripeError::Unreachable(
                "a Checkout session without id or url".to_owned(),
            )),
        }
    }

    /// Expires an open Checkout session (it can no longer be paid).
    pub async fn expire_checkout(&self, id: &str) -> Result<(), StripeError> {
        match self
            .post(
                &format!("/v1/checkout/sessions/{}/expire", encode_path(id)),
                &[],
            )
            .await
        {
            // Already complete or expired: nothing left to stop.
            Ok(_) | Err(StripeError::Refused { status: 400, .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// A Customer Portal session's URL.
    pub async fn portal(&self, customer: &str, return_url: &str) -> Result<String, StripeError> {
        let session = self
            .post(
                "/v1/billing_portal/sessions",
                &[
                    ("customer".to_owned(), customer.to_owned()),
                    ("return_url".to_owned(), return_url.to_owned()),
                ],
            )
            .await?;
        session["url"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| StripeError::Unreachable("a portal session without url".to_owned()))
    }

    /// Sets or clears "cancel at period end".
    pub async fn set_cancel_at_period_end(
        &self,
        id: &str,
        cancel: bool,
    ) -> Result<Value, StripeError> {
        self.post(
            &format!("/v1/subscriptions/{}", encode_path(id)),
            &[("cancel_at_period_end".to_owned(), cancel.to_string())],
        )
        .await
    }

    /// Moves the subscription's item to another price, prorated.
    pub async fn change_price(
        &self,
        id: &str,
        item: &str,
        price: &str,
    ) -> Result<Value, StripeError> {
        self.post(
            &format!("/v1/subscriptions/{}", encode_path(id)),
            &[
                ("items[0][id]".to_owned(), item.to_owned()),
                ("items[0][price]".to_owned(), price.to_owned()),
                (
                    "proration_behavior".to_owned(),
                    "create_prorations".to_owned(),
                ),
                ("cancel_at_period_end".to_owned(), "false".to_owned()),
            ],
        )
        .await
    }
}

/// What a Checkout session needs.
#[derive(Clone, Debug)]
pub struct Checkout<'a> {
    /// The Stripe Price.
    pub price: &'a str,
    /// Our user id.
    pub user_id: &'a str,
    /// Our plan id.
    pub plan_id: &'a str,
    /// The user's email (for a new customer).
    pub email: &'a str,
    /// Their Stripe customer, when they have one.
    pub customer: Option<&'a str>,
    /// Where Stripe sends them after paying.
    pub success_url: &'a str,
    /// Where Stripe sends them when they give up.
    pub cancel_url: &'a str,
    /// Unix time the session expires.
    pub expires_at: i64,
}

/// Stripe ids are `[A-Za-z0-9_]`; anything else is percent-encoded.
fn encode_path(id: &str) -> String {
    id.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || byte == b'_' {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    const NOW: i64 = 1_800_000_000;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    #[test]
    fn a_v1_value_is_hex_digits_only_not_a_signed_number() {
        let real = hex(&sign(SECRET, NOW, BODY));
        // "+a" parses as a number in base 16; the header is still not hex.
        let signed = format!("+{}", &real[1..]);
        assert_eq!(
            verify_signature(
                SECRET,
                Some(&format!("t={NOW},v1={signed}")),
                BODY,
                NOW,
                300
            ),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(SECRET, Some(&format!("t={NOW},v1={real}")), BODY, NOW, 300),
            Ok(NOW)
        );
    }

    #[test]
    fn forms_may_go_on_to_the_pages_stripe_hosts() {
        let config = |api_url: &str| StripeConfig {
            secret_key: Some("sk_test".to_owned()),
            webhook_secret: None,
            api_url: api_url.to_owned(),
        };
        let stripe = ["https://checkout.stripe.com", "https://billing.stripe.com"];
        assert_eq!(
            config("https://api.stripe.com").hosted_page_origins(),
            stripe
        );
        assert_eq!(
            config("http://127.0.0.1:4010/v1").hosted_page_origins(),
            [stripe[0], stripe[1], "http://127.0.0.1:4010"]
        );
        // Nothing that could end the directive or add another one.
        assert_eq!(
            config("http://evil.test; script-src *").hosted_page_origins(),
            stripe
        );
        assert_eq!(
            config("http://evil.test;script-src/v1").hosted_page_origins(),
            stripe
        );
        assert_eq!(config("not a url").hosted_page_origins(), stripe);
    }

    #[test]
    fn signatures_verify_as_stripe_specifies() {
        let good = signature_header(SECRET, NOW, BODY);
        let verify = |header: Option<&str>, body: &[u8]| {
            verify_signature(SECRET, header, body, NOW, SIGNATURE_TOLERANCE_SECONDS)
        };
        assert_eq!(verify(Some(&good), BODY), Ok(NOW));
        assert_eq!(verify(None, BODY), Err(SignatureError::Missing));
        assert_eq!(
            verify(Some("garbage"), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&format!("t={NOW}")), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some("t=abc,v1=00"), BODY),
            Err(SignatureError::Malformed)
        );
        let mut changed = BODY.to_vec();
        changed[5] ^= 1;
        assert_eq!(verify(Some(&good), &changed), Err(SignatureError::Mismatch));
        let other = signature_header("whsec_other", NOW, BODY);
        assert_eq!(verify(Some(&other), BODY), Err(SignatureError::Mismatch));
        let stale = signature_header(SECRET, NOW - 301, BODY);
        assert_eq!(verify(Some(&stale), BODY), Err(SignatureError::TooOld));
        let future = signature_header(SECRET, NOW + 301, BODY);
        assert_eq!(verify(Some(&future), BODY), Err(SignatureError::InFuture));
        let edge = signature_header(SECRET, NOW - 300, BODY);
        assert_eq!(verify(Some(&edge), BODY), Ok(NOW - 300));
        // Any v1 may match (Stripe sends two while a secret is rolled).
        let right = hex(&sign(SECRET, NOW, BODY));
        let wrong = hex(&sign("whsec_old", NOW, BODY));
        let two = format!("t={NOW},v1={wrong},v1={right},v0=ignored");
        assert_eq!(verify(Some(&two), BODY), Ok(NOW));
        let two_wrong = format!("t={NOW},v1={wrong},v1={wrong}");
        assert_eq!(
            verify(Some(&two_wrong), BODY),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed: moving it breaks the signature.
        let moved = format!("t={},v1={right}", NOW + 1);
        assert_eq!(verify(Some(&moved), BODY), Err(SignatureError::Mismatch));
    }
}
