//! Sign-in with GitHub and Google: OAuth 2 authorization code with state
//! and PKCE (S256). The endpoints are configurable so tests run against a
//! local provider over real HTTP.
//!
//! The flow is four HTTP exchanges (authorize redirect, token, profile,
//! emails), written directly over reqwest rather than through the oauth2
//! crate, whose reqwest integration targets another major version.

use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Which provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderKind {
    /// GitHub (not OIDC: `/user` and `/user/emails`).
    GitHub,
    /// Google (the userinfo endpoint).
    Google,
}

/// A configured sign-in provider.
#[derive(Clone, Debug)]
pub struct Provider {
    /// Which one.
    pub kind: ProviderKind,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret.
    pub client_secret: String,
    /// Where the user authorizes.
    pub authorize_url: String,
    /// Where the code becomes a token.
    pub token_url: String,
    /// The profile endpoint.
    pub profile_url: String,
    /// GitHub's emails endpoint.
    pub emails_url: Option<String>,
    /// Scopes asked for.
    pub scope: &'static str,
}

impl std::fmt::Display for ProviderKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::GitHub => "GitHub",
            Self::Google => "Google",
        })
    }
}

impl ProviderKind {
    /// The name in URLs and in `accounts.provider`.
    pub fn slug(self) -> &'static str {
        match self {
            Self::GitHub => "github",
            Self::Google => "google",
        }
    }
}

/// A GitHub OAuth app, and the GitHub it is registered on.
#[derive(Clone, Debug)]
pub struct GitHubSettings {
    /// The OAuth app's client id.
    pub client_id: String,
    /// The OAuth app's client secret.
    pub client_secret: String,
    /// GitHub's web URL (the authorize and token endpoints live under it).
    pub web_url: String,
    /// GitHub's API URL.
    pub api_url: String,
}

/// A Google OAuth client, and Google's endpoints.
#[derive(Clone, Debug)]
pub struct GoogleSettings {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    /// The authorization endpoint.
    pub auth_url: String,
    /// The token endpoint.
    pub token_url: String,
    /// The userinfo endpoint.
    pub userinfo_url: String,
}

fn trimmed(url: &str) -> String {
    url.trim_end_matches('/').to_owned()
}

impl Provider {
    /// Sign-in with GitHub (not OIDC: `/user` and `/user/emails`).
    pub fn github(settings: GitHubSettings) -> Self {
        let web = trimmed(&settings.web_url);
        let api = trimmed(&settings.api_url);
        Self {
            kind: ProviderKind::GitHub,
            client_id: settings.client_id,
            client_secret: settings.client_secret,
            authorize_url: format!("{web}/login/oauth/authorize"),
            token_url: format!("{web}/login/oauth/access_token"),
            profile_url: format!("{api}/user"),
            emails_url: Some(format!("{api}/user/emails")),
            scope: "read:user user:email",
        }
    }

    /// Sign-in with Google (the userinfo endpoint).
    pub fn google(settings: GoogleSettings) -> Self {
        Self {
            kind: ProviderKind::Google,
            client_id: settings.client_id,
            client_secret: settings.client_secret,
            authorize_url: trimmed(&settings.auth_url),
            token_url: trimmed(&settings.token_url),
            profile_url: trimmed(&settings.userinfo_url),
            emails_url: None,
            scope: "openid email profile",
        }
    }

    /// The authorization URL for `state` and the PKCE `verifier`.
    pub fn authorize(&self, redirect_uri: &str, state: &str, verifier: &str) -> String {
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(verifier.as_bytes()));
        let query = serde_html_form::to_string([
            ("client_id", self.client_id.as_str()),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", self.scope),
            ("state", state),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ])
        .unwrap_or_default();
        format!("{}?{query}", self.authorize_url)
    }
}

/// What the provider says about the person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderProfile {
    /// Their id at the provider.
    pub id: String,
    /// Their email, if the provider verified it.
    pub verified_email: Option<String>,
    /// Their display name.
    pub name: String,
    /// Their avatar.
    pub avatar_url: Option<String>,
}

/// The provider failed or refused.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OAuthError(pub String);

impl From<reqwest::Error> for OAuthError {
    fn from(error: reqwest::Error) -> Self {
        Self(error.to_string())
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct GitHubUser {
    id: i64,
    login: String,
    name: Option<String>,
    avatar_url: Option<String>,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

#[derive(Deserialize)]
struct GoogleUser {
    sub: String,
    email: Option<String>,
    #[serde(default, deserialize_with = "boolean_or_string")]
    email_verified: bool,
    name: Option<String>,
    picture: Option<String>,
}

/// OpenID providers send `email_verified` as `true` or, some of them, as
/// the string `"true"`: both mean verified; anything else does not.
fn boolean_or_string<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Boolean(bool),
        Text(String),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Flag>::deserialize(deserializer)? {
        Some(Flag::Boolean(value)) => value,
        Some(Flag::Text(text)) => text.trim().eq_ignore_ascii_case("true"),
        Some(Flag::Other(_)) | None => false,
    })
}

/// One HTTP client for all provider calls (rustls with the ring provider,
/// shared with the mailer).
pub fn http_client() -> Result<reqwest::Client, OAuthError> {
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(15))
        .user_agent("Soloist")
        .build()
        .map_err(OAuthError::from)
}

/// Exchanges the code (with the PKCE verifier) and reads the profile.
pub async fn fetch_profile(
    http: &reqwest::Client,
    provider: &Provider,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
) -> Result<ProviderProfile, OAuthError> {
    let token: TokenResponse = http
        .post(&provider.token_url)
        .header("Accept", "application/json")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", provider.client_id.as_str()),
            ("client_secret", provider.client_secret.as_str()),
            ("code_verifier", verifier),
        ])
        .send()
        .await?
        .json()
        .await?;
    let access_token = token
        .access_token
        .ok_or_else(|| OAuthError(token.error.unwrap_or_else(|| "no access token".to_owned())))?;
    match provider.kind {
        ProviderKind::GitHub => {
            let user: GitHubUser = http
                .get(&provider.profile_url)
                .bearer_auth(&access_token)
                .header("Accept", "application/vnd.github+json")
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let emails_url = provider.emails_url.as_deref().unwrap_or_default();
            let emails: Vec<GitHubEmail> = http
                .get(emails_url)
                .bearer_auth(&access_token)
                .header("Accept", "application/vnd.github+json")
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let verified_email = emails
                .into_iter()
                .find(|email| email.primary && email.verified)
                .map(|email| email.email.to_lowercase());
            Ok(ProviderProfile {
                id: user.id.to_string(),
                verified_email,
                name: user
                    .name
                    .filter(|name| !name.trim().is_empty())
                    .unwrap_or(user.login),
                avatar_url: user.avatar_url,
            })
        }
        ProviderKind::Google => {
            let user: GoogleUser = http
                .get(&provider.profile_url)
                .bearer_auth(&access_token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let verified_email = user
                .email
                .filter(|_| user.email_verified)
                .map(|email| email.to_lowercase());
            Ok(ProviderProfile {
                name: user
                    .name
                    .unwrap_or_else(|| verified_email.clone().unwrap_or_default()),
                id: user.sub,
                verified_email,
                avatar_url: user.picture,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GoogleUser;

    fn verified(json: &str) -> bool {
        serde_json::from_str::<GoogleUser>(json)
            .unwrap()
            .email_verified
    }

    #[test]
    fn email_verified_is_true_as_a_boolean_or_the_string_true_only() {
        let user = |flag: &str| format!(r#"{{"sub":"1","email":"a@example.com"{flag}}}"#);
        assert!(verified(&user(r#","email_verified":true"#)));
        assert!(verified(&user(r#","email_verified":"true""#)));
        assert!(verified(&user(r#","email_verified":"TRUE""#)));
        assert!(!verified(&user(r#","email_verified":"false""#)));
        assert!(!verified(&user(r#","email_verified":false"#)));
        assert!(!verified(&user(r#","email_verified":1"#)));
        assert!(!verified(&user(r#","email_verified":null"#)));
        assert!(!verified(&user("")));
    }
}
