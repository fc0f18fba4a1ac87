//! The Stripe API client and the few calls Soloist makes, over HTTP with
//! form-encoded requests as Stripe expects.

use serde_json::Value;

use super::StripeConfig;

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
            .header("Stripe-Version", crate::billing::versions::PINNED);
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
