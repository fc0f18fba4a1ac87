//! Sign-in with GitHub and Google against a local provider that speaks
//! their HTTP shapes: authorization with state and PKCE, token exchange,
//! profile and emails.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use base64::Engine;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use soloist::config::{GithubArgs, GoogleArgs, Overrides};

use crate::support::{TestApp, spawn_app_with};

/// What the stand-in provider knows: the person behind each code, the PKCE
/// challenge it was issued with, and that person's emails.
#[derive(Clone, Default)]
pub struct Provider {
    person: Arc<Mutex<Person>>,
    codes: Arc<Mutex<HashMap<String, String>>>,
}

#[derive(Clone, Default)]
struct Person {
    id: i64,
    login: String,
    email: String,
    verified: bool,
}

async fn authorize(
    provider: web::Data<Provider>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    assert_eq!(
        query.get("code_challenge_method").map(String::as_str),
        Some("S256")
    );
    provider
        .codes
        .lock()
        .unwrap()
        .insert(code.clone(), query["code_challenge"].clone());
    let location = format!(
        "{}?code={code}&state={}",
        query["redirect_uri"], query["state"]
    );
    HttpResponse::Found()
        .insert_header(("Location", location))
        .finish()
}

async fn token(
    provider: web::Data<Provider>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    let Some(challenge) = provider.codes.lock().unwrap().remove(&form["code"]) else {
        return HttpResponse::Ok().json(serde_json::json!({ "error": "bad_verification_code" }));
    };
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(form["code_verifier"].as_bytes()));
    if expected != challenge || form["client_secret"] != "secret" {
        return HttpResponse::Ok().json(serde_json::json!({ "error": "invalid_grant" }));
    }
    HttpResponse::Ok()
        .json(serde_json::json!({ "access_token": "token-1", "token_type": "bearer" }))
}

async fn github_user(provider: web::Data<Provider>) -> HttpResponse {
    let person = provider.person.lock().unwrap().clone();
    HttpResponse::Ok().json(serde_json::json!({ "id": person.id, "login": person.login, "name": null, "avatar_url": "https://avatars.example/1" }))
}

async fn github_emails(provider: web::Data<Provider>) -> HttpResponse {
    let person = provider.person.lock().unwrap().clone();
    HttpResponse::Ok().json(serde_json::json!([
        { "email": "secondary@example.com", "primary": false, "verified": true },
        { "email": person.email, "primary": true, "verified": person.verified },
    ]))
}

async fn google_userinfo(provider: web::Data<Provider>) -> HttpResponse {
    let person = provider.person.lock().unwrap().clone();
    // Some OpenID providers send the flag as a string.
    let verified = if person.login == "string-flag" {
        serde_json::json!(person.verified.to_string())
    } else {
        serde_json::json!(person.verified)
    };
    HttpResponse::Ok().json(serde_json::json!({
        "sub": person.id.to_string(), "email": person.email, "email_verified": verified, "name": person.login
    }))
}

pub async fn start_provider() -> (Provider, String) {
    let provider = Provider::default();
    let data = web::Data::new(provider.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/login/oauth/authorize", web::get().to(authorize))
            .route("/login/oauth/access_token", web::post().to(token))
            .route("/user", web::get().to(github_user))
            .route("/user/emails", web::get().to(github_emails))
            .route("/google/auth", web::get().to(authorize))
            .route("/google/token", web::post().to(token))
            .route("/google/userinfo", web::get().to(google_userinfo))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    (provider, url)
}

async fn app_with_providers() -> (TestApp, Provider) {
    let (provider, url) = start_provider().await;
    let app = spawn_app_with(Overrides {
        github: GithubArgs {
            client_id: Some("client".into()),
            client_secret: Some("secret".into()),
            url: Some(url.clone()),
            api_url: Some(url.clone()),
        },
        google: GoogleArgs {
            client_id: Some("client".into()),
            client_secret: Some("secret".into()),
            auth_url: Some(format!("{url}/google/auth")),
            token_url: Some(format!("{url}/google/token")),
            userinfo_url: Some(format!("{url}/google/userinfo")),
        },
        ..Overrides::default()
    })
    .await;
    (app, provider)
}

/// Runs the browser side of the flow: start, the provider's redirect, the callback.
async fn oauth_sign_in(
    app: &TestApp,
    browser: &reqwest::Client,
    provider: &str,
) -> reqwest::Response {
    let start = browser
        .get(format!("{}/auth/{provider}", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(authorize.contains("state=") && authorize.contains("code_challenge="));
    let back = browser.get(&authorize).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        callback.starts_with(&format!("{}/auth/{provider}/callback?code=", app.url)),
        "{callback}"
    );
    browser.get(callback).send().await.unwrap()
}

pub fn set(provider: &Provider, id: i64, email: &str, verified: bool) {
    *provider.person.lock().unwrap() = Person {
        id,
        login: "octo".into(),
        email: email.into(),
        verified,
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_sign_in_creates_a_verified_account_and_signs_in_again_by_provider_id() {
    let (app, provider) = app_with_providers().await;
    let page = app
        .http
        .get(format!("{}/sign-in", app.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Continue with GitHub") && page.contains("Continue with Google"));
    set(&provider, 42, "Octo@Example.com", true);
    let browser = app.new_browser();
    let done = oauth_sign_in(&app, &browser, "github").await;
    assert_eq!(
        done.status(),
        StatusCode::SEE_OTHER,
        "{}",
        done.text().await.unwrap()
    );
    let account = app.get(&browser, "/account").await.1;
    assert!(
        account.contains("octo@example.com") && account.contains("confirmed"),
        "{account}"
    );
    let row = app
        .sql()
        .await
        .query_one(
            "SELECT provider, provider_account_id, access_token FROM accounts",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("github".into(), "42".into())
    );
    assert_eq!(
        row.get::<_, Option<String>>(2),
        None,
        "provider tokens are not kept"
    );
    // The provider's address changes: the identity still signs in the same user.
    set(&provider, 42, "renamed@example.com", true);
    let again = app.new_browser();
    assert_eq!(
        oauth_sign_in(&app, &again, "github").await.status(),
        StatusCode::SEE_OTHER
    );
    let users = app.count("SELECT count(*) FROM users").await;
    assert_eq!(users, 1);
    app.soloist.stop().await.unwrap();
}

const SQUATTER_PASSWORD: &str = "correct horse battery staple";

/// A pre-account takeover attempt: someone signs up with the victim's
/// address and a password of their own; nobody confirms it.
async fn squat(app: &TestApp, email: &str) -> reqwest::Client {
    let squatter = app.new_browser();
    let response = app
        .sign_up(&squatter, "Mallory", email, SQUATTER_PASSWORD)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    squatter
}

/// The squatter's sign-in with the password they chose.
async fn squatter_signs_in(app: &TestApp, email: &str) -> StatusCode {
    app.sign_in(&app.new_browser(), email, SQUATTER_PASSWORD)
        .await
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squatters_password_dies_when_the_owner_signs_in_with_google() {
    let (app, provider) = app_with_providers().await;
    squat(&app, "victim@example.com").await;
    // The unconfirmed account cannot be used with the squatter's password.
    assert_eq!(
        squatter_signs_in(&app, "victim@example.com").await,
        StatusCode::FORBIDDEN
    );
    // Google vouches for the address: the real owner gets the account...
    set(&provider, 7, "victim@example.com", true);
    let victim = app.new_browser();
    let linked = oauth_sign_in(&app, &victim, "google").await;
    assert_eq!(linked.status(), StatusCode::SEE_OTHER);
    let (status, _) = app.get(&victim, "/account").await;
    assert_eq!(status, 200);
    // ...without the password someone else chose for it.
    assert_eq!(
        squatter_signs_in(&app, "victim@example.com").await,
        StatusCode::UNAUTHORIZED
    );
    let sql = app.sql().await;
    let passwords: i64 = sql
        .query_one(
            "SELECT count(*) FROM accounts WHERE provider = 'credentials'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(passwords, 0);
    let removal: i64 = sql
        .query_one(
            "SELECT count(*) FROM audit_logs WHERE action = 'DELETE' AND entity = 'accounts' \
             AND metadata->>'via' = 'google'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(removal, 1, "the removal is in the audit trail");
    // A provider that does not vouch for the address cannot sign in at all.
    set(&provider, 8, "other@example.com", false);
    let unverified = oauth_sign_in(&app, &app.new_browser(), "github").await;
    assert_eq!(unverified.status(), StatusCode::FORBIDDEN);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squatter_is_out_after_the_owner_confirms_the_mailed_link_and_links_google() {
    let (app, provider) = app_with_providers().await;
    squat(&app, "victim@example.com").await;
    // The owner opens the confirmation mail the squatter's sign-up sent, in
    // their own browser, and confirms without knowing the password.
    let token = app.outbox_token("victim@example.com").await;
    let victim = app.new_browser();
    let (_, page) = app
        .get(&victim, &format!("/verify-email?token={token}"))
        .await;
    assert!(page.contains("leave it empty"), "{page}");
    let confirmed = app
        .post_form(
            &victim,
            "/sign-in",
            "/verify-email",
            &[("token", &token), ("password", "")],
        )
        .await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        confirmed.headers()["location"],
        "/account/security?notice=password-removed"
    );
    let (_, security) = app
        .get(&victim, "/account/security?notice=password-removed")
        .await;
    assert!(security.contains("Choose a password") && security.contains("perhaps by someone else"));
    set(&provider, 9, "victim@example.com", true);
    assert_eq!(
        oauth_sign_in(&app, &victim, "google").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        squatter_signs_in(&app, "victim@example.com").await,
        StatusCode::UNAUTHORIZED
    );
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_tells_the_owner_and_an_administrators_account_needs_its_own_sign_in_first() {
    let (app, provider) = app_with_providers().await;
    let member = app
        .signed_in_as("member@example.com", "Member", false)
        .await;
    drop(member);
    set(&provider, 10, "member@example.com", true);
    assert_eq!(
        oauth_sign_in(&app, &app.new_browser(), "github")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let sql = app.sql().await;
    let mut notices = 0_i64;
    for _ in 0..100 {
        notices = sql
            .query_one(
                "SELECT count(*) FROM mail_outbox WHERE to_address = 'member@example.com' \
                 AND subject LIKE 'GitHub was connected%'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if notices > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(notices, 1, "the owner is told that GitHub can sign in now");
    // An administrator's address at a provider is not enough...
    let admin = app.signed_in_as("boss@example.com", "Boss", true).await;
    set(&provider, 11, "boss@example.com", true);
    let stranger = app.new_browser();
    let refused = oauth_sign_in(&app, &stranger, "google").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get(&stranger, "/admin").await.0, 303, "not signed in");
    // ...the administrator connects it from their own signed-in browser.
    let (_, security) = app.get(&admin, "/account/security").await;
    assert!(security.contains("Connect Google"));
    assert_eq!(
        oauth_sign_in(&app, &admin, "google").await.status(),
        StatusCode::SEE_OTHER
    );
    let links: i64 = sql
        .query_one(
            "SELECT count(*) FROM accounts WHERE provider = 'google'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(links, 1);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_with_a_forged_state_or_without_the_flow_cookie_is_refused() {
    let (app, provider) = app_with_providers().await;
    set(&provider, 9, "state@example.com", true);
    let browser = app.new_browser();
    let start = browser
        .get(format!("{}/auth/github", app.url))
        .send()
        .await
        .unwrap();
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    let back = browser.get(&authorize).send().await.unwrap();
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    let forged = callback.split("&state=").next().unwrap().to_owned() + "&state=forged";
    assert_eq!(
        browser.get(&forged).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let other_browser = app.new_browser();
    assert_eq!(
        other_browser.get(&callback).send().await.unwrap().status(),
        StatusCode::BAD_REQUEST,
        "login CSRF"
    );
    assert_eq!(
        app.new_browser()
            .get(format!("{}/auth/unknown", app.url))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
    let users = app.count("SELECT count(*) FROM users").await;
    assert_eq!(users, 0);
    app.soloist.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_that_sends_email_verified_as_a_string_is_understood() {
    let (app, provider) = app_with_providers().await;
    for (id, verified, expected) in [
        (21, true, StatusCode::SEE_OTHER),
        (22, false, StatusCode::FORBIDDEN),
    ] {
        *provider.person.lock().unwrap() = Person {
            id,
            login: "string-flag".into(),
            email: format!("string{id}@example.com"),
            verified,
        };
        let response = oauth_sign_in(&app, &app.new_browser(), "google").await;
        assert_eq!(
            response.status(),
            expected,
            "email_verified: \"{verified}\""
        );
    }
    app.soloist.stop().await.unwrap();
}
