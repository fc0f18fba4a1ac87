//! Stripe settings; `config` builds them from its `[stripe]` section.

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
