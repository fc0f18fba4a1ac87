//! Sign-up, sign-in, sign-out and the first-run setup.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{issue_token, removed_session_cookie, sign_up_cookie, start_session};
use crate::accounts::model::DisplayName;
use crate::accounts::model::Email;
use crate::accounts::model::{NewUser, Role, VerificationTokenType};
use crate::accounts::paths;
use crate::accounts::secrets::{Password, known_device_proof, same_secret, token_hash};
use crate::accounts::store;
use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity, Fields, Secret};
use crate::web::AppState;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::rate_limit::{
    self, SIGN_IN_FAILURES_PER_ACCOUNT, SIGN_IN_FAILURES_PER_ACCOUNT_AND_NETWORK, SIGN_IN_PER_IP,
    SIGN_UP_PER_ACCOUNT, SIGN_UP_PER_IP,
};
use crate::web::respond::{Notice, see_other_with};
use crate::web::respond::{safe_next, see_other};
use crate::web::visitor::Visitor;

/// Messages next to the sign-up fields.
#[derive(Clone, Debug, Default)]
pub struct SignUpErrors {
    /// About the email.
    pub email: Option<String>,
    /// About the name.
    pub name: Option<String>,
    /// About the password.
    pub password: Option<String>,
}

impl SignUpForm {
    /// The form's values as domain types (email, name, password), or a
    /// message per bad field. Public so the fuzz targets run it.
    pub fn parse(&self) -> Result<(String, String, Password), SignUpErrors> {
        let mut errors = SignUpErrors::default();
        let email = Email::parse(&self.email)
            .map(Email::into_string)
            .map_err(|message| errors.email = Some(message.to_owned()))
            .ok();
        let name = DisplayName::parse(&self.name)
            .map(DisplayName::into_string)
            .map_err(|message| errors.name = Some(message.to_owned()))
            .ok();
        let password = Password::new(&self.password, &[&self.email, &self.name])
            .map_err(|error| errors.password = Some(error.to_string()))
            .ok();
        match (email, name, password) {
            (Some(email), Some(name), Some(password)) => Ok((email, name, password)),
            _ => Err(errors),
        }
    }
}

/// `GET /sign-up`.
#[derive(Template)]
#[template(path = "accounts/sign_up.html")]
pub struct SignUpPage {
    /// The layout.
    pub layout: Layout,
    /// Typed email.
    pub email: String,
    /// Typed name.
    pub name: String,
    /// Where to go afterwards.
    pub next: String,
    /// Field messages.
    pub errors: SignUpErrors,
}

/// Where to go after an action.
#[derive(Deserialize)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

/// The sign-up form.
#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_up_page(visitor: Visitor, query: web::Query<NextQuery>) -> HttpResponse {
    let page = SignUpPage {
        layout: Layout::for_visitor(&visitor, "Create your account", "Create an account."),
        email: String::new(),
        name: String::new(),
        next: safe_next(&query.next),
        errors: SignUpErrors::default(),
    };
    render(&page, StatusCode::OK)
}

/// `POST /sign-up`: the same answer whether or not the address is known;
/// a known address gets a mail saying so instead of a second account.
pub async fn sign_up(
    state: web::Data<AppState>,
    request: CsrfForm<SignUpForm>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let (email, name, password) = match form.parse() {
        Ok(parsed) => parsed,
        Err(errors) => {
            let page = SignUpPage {
                layout: Layout::for_visitor(&visitor, "Create your account", "Create an account."),
                email: form.email.chars().take(254).collect(),
                name: form.name.chars().take(100).collect(),
                next: safe_next(&form.next),
                errors,
            };
            return Ok(render(&page, StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let client = state.pool.get().await?;
    let ip = rate_limit::network_of(visitor.ip.as_deref());
    if !rate_limit::allow(&client, &SIGN_UP_PER_IP, &ip).await?
        || !rate_limit::allow(&client, &SIGN_UP_PER_ACCOUNT, &email).await?
    {
        return Err(PageError::TooManyRequests);
    }
    // Hash before looking the address up (both paths cost the same), and
    // without holding a database connection while the hashers are busy.
    drop(client);
    let password_hash = state.hasher.hash(&password).await?;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let created = store::create_user_if_new(
        &transaction,
        &NewUser {
            email: email.clone(),
            name,
            role: Role::User,
        },
        false,
    )
    .await?;
    let (mail, token) = match created {
        Some(user) => {
            store::create_profile(&transaction, user.id).await?;
            store::set_password_hash(&transaction, user.id, &password_hash).await?;
            let (link, token) = issue_token(
                &transaction,
                &state,
                &email,
                VerificationTokenType::EmailVerification,
                None,
            )
            .await?;
            let actor = audit::Actor {
                user_id: Some(user.id),
                ..Actor::from(&visitor)
            };
            let changes = audit::created(&user).secret("password_hash", Secret::Set);
            audit::store::record(
                &transaction,
                &actor.entry(
                    AuditAction::Create,
                    AuditEntity::Users,
                    Some(user.id.0),
                    changes,
                ),
            )
            .await?;
            (super::verification_mail(&state, &email, &link), Some(token))
        }
        None => (
            {
                let site = state.mail_site();
                let facts = crate::mail::messages::already_registered::Facts {};
                crate::mail::messages::or_plain(
                    facts.to(&site, &email),
                    &email,
                    &facts.subject(&site),
                )
            },
            None,
        ),
    };
    transaction.commit().await?;
    state.send_mail_later(mail);
    let mut response = super::email_links::check_email_page(
        &visitor,
        "Check your email",
        &format!(
            "We sent a message to {email}. Open the link in it to confirm your address and sign in."
        ),
    );
    response
        .add_cookie(&sign_up_cookie(&state, token.as_deref())?)
        .ok();
    Ok(response)
}

/// `GET /sign-in`.
#[derive(Template)]
#[template(path = "accounts/sign_in.html")]
pub struct SignInPage {
    /// The layout.
    pub layout: Layout,
    /// Typed email.
    pub email: String,
    /// Where to go afterwards.
    pub next: String,
    /// The form's error.
    pub error: Option<String>,
    /// Sign-in providers: (URL slug, name).
    pub providers: Vec<(String, String)>,
}

fn providers(state: &AppState) -> Vec<(String, String)> {
    state
        .oauth
        .iter()
        .map(|provider| (provider.kind.slug().to_owned(), provider.kind.to_string()))
        .collect()
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn sign_in_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<NextQuery>,
    request: HttpRequest,
) -> HttpResponse {
    if visitor.signed_in.is_some() {
        return see_other(&safe_next(&query.next));
    }
    let page = SignInPage {
        layout: Layout::for_visitor(&visitor, "Sign in", "Sign in to your account.")
            .with_notice(&request),
        email: String::new(),
        next: safe_next(&query.next),
        error: None,
        providers: providers(&state),
    };
    render(&page, StatusCode::OK)
}

const WRONG_CREDENTIALS: &str = "That email and password do not match an account.";

/// The cookie of a browser that signed in to an account with its password
/// (see [`crate::accounts::secrets::known_device_proof`]).
const KNOWN_DEVICE_COOKIE: &str = "soloist_device";

/// `POST /sign-in` for an account whose address is not confirmed yet.
#[derive(Template)]
#[template(path = "accounts/confirm_first.html")]
pub struct ConfirmFirstPage {
    /// The layout.
    pub layout: Layout,
    /// The unconfirmed address.
    pub email: String,
}

/// `POST /sign-in`: rate limits first, then one password check (against a
/// dummy hash for unknown addresses), the same answer for every failure.
/// Failures count per account and network (10 in 15 minutes) and, from
/// browsers that never signed in to the account, per account (100 an
/// hour): the owner's own browser is never locked out by someone else.
pub async fn sign_in(
    state: web::Data<AppState>,
    request: CsrfForm<SignInForm>,
    http: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let email = Email::parse(&form.email)
        .map(Email::into_string)
        .unwrap_or_default();
    let failed = |error: &str| {
        let page = SignInPage {
            layout: Layout::for_visitor(&visitor, "Sign in", "Sign in to your account."),
            email: form.email.chars().take(254).collect(),
            next: safe_next(&form.next),
            error: Some(error.to_owned()),
            providers: providers(&state),
        };
        render(&page, StatusCode::UNAUTHORIZED)
    };
    let Some(password) = Password::attempt(&form.password) else {
        return Ok(failed(WRONG_CREDENTIALS));
    };
    let client = state.pool.get().await?;
    let network = rate_limit::network_of(visitor.ip.as_deref());
    let account_network = format!("{email} from {network}");
    if !rate_limit::allow(&client, &SIGN_IN_PER_IP, &network).await? {
        return Err(PageError::TooManyRequests);
    }
    let found = if email.is_empty() {
        None
    } else {
        store::credentials_by_email(&client, &email).await?
    };
    let stored_hash = found.as_ref().and_then(|(_, hash)| hash.clone());
    let device_proof = match (&found, &stored_hash) {
        (Some((user, _)), Some(hash)) => Some(known_device_proof(hash, user.id)),
        _ => None,
    };
    let known_device = device_proof.as_ref().is_some_and(|proof| {
        http.cookie(KNOWN_DEVICE_COOKIE)
            .is_some_and(|cookie| same_secret(cookie.value(), proof))
    });
    if !rate_limit::within(
        &client,
        &SIGN_IN_FAILURES_PER_ACCOUNT_AND_NETWORK,
        &account_network,
    )
    .await?
        || (!known_device
            && !rate_limit::within(&client, &SIGN_IN_FAILURES_PER_ACCOUNT, &email).await?)
    {
        return Err(PageError::TooManyRequests);
    }
    // No database connection is held while waiting for the hashing threads.
    drop(client);
    let matched = state
        .hasher
        .verify(&password, stored_hash.as_deref())
        .await?;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    match found {
        // The password is right, but whoever chose it may not own the
        // address: nothing until the address is proven.
        Some((user, _)) if matched && user.is_active && !user.email_verified => {
            let page = ConfirmFirstPage {
                layout: Layout::for_visitor(
                    &visitor,
                    "Confirm your email first",
                    "Confirm your email address.",
                ),
                email: user.email,
            };
            Ok(render(&page, StatusCode::FORBIDDEN))
        }
        Some((user, _)) if matched && user.is_active => {
            let cookie = start_session(&transaction, &state, &user, &visitor, "password").await?;
            transaction.commit().await?;
            let mut response = see_other(&safe_next(&form.next));
            response.add_cookie(&cookie).ok();
            if let Some(proof) = device_proof {
                let device = Cookie::build(KNOWN_DEVICE_COOKIE, proof)
                    .path("/sign-in")
                    .http_only(true)
                    .secure(state.secure_cookies)
                    .same_site(SameSite::Strict)
                    .max_age(CookieDuration::days(400))
                    .finish();
                response.add_cookie(&device).ok();
            }
            Ok(response)
        }
        found => {
            rate_limit::allow(
                &transaction,
                &SIGN_IN_FAILURES_PER_ACCOUNT_AND_NETWORK,
                &account_network,
            )
            .await?;
            if !known_device {
                rate_limit::allow(&transaction, &SIGN_IN_FAILURES_PER_ACCOUNT, &email).await?;
            }
            let user_id = found.as_ref().map(|(user, _)| user.id);
            let mut entry = audit::Actor {
                user_id,
                ..Actor::from(&visitor)
            }
            .entry(
                AuditAction::LoginFailed,
                AuditEntity::Users,
                user_id.map(|id| id.0),
                audit::Change::none(),
            );
            let reason = match &found {
                None => "unknown email",
                Some((user, _)) if matched && !user.is_active => "deactivated",
                Some(_) => "wrong password",
            };
            entry.metadata = Some(serde_json::json!({ "email": email, "reason": reason }));
            audit::store::record(&transaction, &entry).await?;
            transaction.commit().await?;
            Ok(failed(WRONG_CREDENTIALS))
        }
    }
}

/// `POST /sign-out`.
pub async fn sign_out(
    state: web::Data<AppState>,
    request: CsrfForm<EmptyForm>,
) -> Result<HttpResponse, PageError> {
    let visitor = request.visitor;
    if let Some(signed_in) = &visitor.signed_in {
        let mut client = state.pool.get().await?;
        let transaction = client.transaction().await?;
        store::end_session(&transaction, signed_in.user.id, signed_in.session_id).await?;
        audit::store::record(
            &transaction,
            &Actor::from(&visitor).entry(
                AuditAction::Logout,
                AuditEntity::Sessions,
                Some(signed_in.session_id.0),
                audit::Change::none(),
            ),
        )
        .await?;
        transaction.commit().await?;
    }
    let mut response = see_other_with(crate::web::HOME, Notice::SignedOut);
    response.add_cookie(&removed_session_cookie(&state)).ok();
    Ok(response)
}

/// `GET /setup`: the first-run page that makes the first administrator.
#[derive(Template)]
#[template(path = "accounts/setup.html")]
pub struct SetupPage {
    /// The layout.
    pub layout: Layout,
    /// Typed email.
    pub email: String,
    /// Typed name.
    pub name: String,
    /// Field messages.
    pub errors: SignUpErrors,
    /// The setup token the visitor brought.
    pub token: String,
    /// Whether it is valid (else the page says where to find it).
    pub token_ok: bool,
}

/// The setup token of a link or a form.
#[derive(Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

/// The setup form: the first administrator, and the setup token.
#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    token: String,
}

fn setup_view(
    visitor: &Visitor,
    form: Option<&SetupForm>,
    token: &str,
    token_ok: bool,
    errors: SignUpErrors,
    status: StatusCode,
) -> HttpResponse {
    let page = SetupPage {
        layout: Layout::for_visitor(visitor, "Set up Soloist", "Create the first administrator."),
        email: form
            .map(|form| form.email.chars().take(254).collect())
            .unwrap_or_default(),
        name: form
            .map(|form| form.name.chars().take(100).collect())
            .unwrap_or_default(),
        errors,
        token: if token_ok {
            token.chars().take(64).collect()
        } else {
            String::new()
        },
        token_ok,
    };
    let mut response = render(&page, status);
    response.headers_mut().insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Whether `token` is one of the setup tokens Soloist printed at boot.
async fn setup_token_ok(
    client: &impl deadpool_postgres::GenericClient,
    token: &str,
) -> Result<bool, PageError> {
    Ok(!token.is_empty() && store::is_setup_token(client, &token_hash(token)).await?)
}

pub async fn setup_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<SetupQuery>,
) -> Result<HttpResponse, PageError> {
    let client = state.pool.get().await?;
    if store::admin_exists(&client).await? {
        return Err(PageError::NotFound);
    }
    let token_ok = setup_token_ok(&client, &query.token).await?;
    let status = if token_ok {
        StatusCode::OK
    } else {
        StatusCode::FORBIDDEN
    };
    Ok(setup_view(
        &visitor,
        None,
        &query.token,
        token_ok,
        SignUpErrors::default(),
        status,
    ))
}

/// `POST /setup`: only with a setup token printed at boot, and only while
/// no admin exists (checked under a lock, so two racing visitors cannot
/// both become the first admin).
pub async fn setup(
    state: web::Data<AppState>,
    request: CsrfForm<SetupForm>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let client = state.pool.get().await?;
    if !setup_token_ok(&client, &form.token).await? {
        let status = if store::admin_exists(&client).await? {
            return Err(PageError::NotFound);
        } else {
            StatusCode::FORBIDDEN
        };
        return Ok(setup_view(
            &visitor,
            None,
            "",
            false,
            SignUpErrors::default(),
            status,
        ));
    }
    drop(client);
    let account = SignUpForm {
        name: form.name.clone(),
        email: form.email.clone(),
        password: form.password.clone(),
        next: String::new(),
    };
    let (email, name, password) = match account.parse() {
        Ok(parsed) => parsed,
        Err(errors) => {
            return Ok(setup_view(
                &visitor,
                Some(&form),
                &form.token,
                true,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let password_hash = state.hasher.hash(&password).await?;
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock(7371)", &[])
        .await?;
    if store::admin_exists(&transaction).await? {
        return Err(PageError::NotFound);
    }
    // Never take over an existing account from this page: promoting one is
    // for the operator's CLI (`soloist admin create --email ...`).
    if store::user_by_email(&transaction, &email).await?.is_some() {
        let errors = SignUpErrors {
            email: Some(
                "This address already has an account. Use another, or promote it with `soloist admin create --email`."
                    .to_owned(),
            ),
            ..SignUpErrors::default()
        };
        return Ok(setup_view(
            &visitor,
            Some(&form),
            &form.token,
            true,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let user = store::create_user(
        &transaction,
        &NewUser {
            email: email.clone(),
            name,
            role: Role::Admin,
        },
    )
    .await?;
    store::create_profile(&transaction, user.id).await?;
    store::mark_verified(&transaction, &email).await?;
    store::set_password_hash(&transaction, user.id, &password_hash).await?;
    store::clear_setup_tokens(&transaction).await?;
    let actor = audit::Actor {
        user_id: Some(user.id),
        ..Actor::from(&visitor)
    };
    let changes =
        audit::created(&Fields::of("role", Role::Admin)).secret("password_hash", Secret::Set);
    let mut entry = actor.entry(
        AuditAction::Update,
        AuditEntity::Users,
        Some(user.id.0),
        changes,
    );
    entry.metadata = Some(serde_json::json!({ "source": "first-run setup" }));
    audit::store::record(&transaction, &entry).await?;
    let Some(user) = store::user_by_id(&transaction, user.id).await? else {
        return Err(PageError::internal("the new admin vanished"));
    };
    let cookie = start_session(&transaction, &state, &user, &visitor, "setup").await?;
    transaction.commit().await?;
    let mut response = see_other_with(paths::ACCOUNT, Notice::WelcomeAdmin);
    response.add_cookie(&cookie).ok();
    Ok(response)
}
