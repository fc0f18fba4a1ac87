//! `GET`/`POST /setup`: the first-run page that makes the first administrator.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::sign_up::{SignUpErrors, SignUpForm};
use super::start_session;
use crate::accounts::model::{NewUser, Role};
use crate::accounts::paths;
use crate::accounts::secrets::token_hash;
use crate::accounts::store;
use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity, Fields, Secret};
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

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
            email: email.to_string(),
            name: name.into_string(),
            role: Role::Admin,
        },
    )
    .await?;
    store::create_profile_in(&transaction, user.id, visitor.language).await?;
    store::mark_verified(&transaction, &email).await?;
    store::set_password_hash(&transaction, user.id, &password_hash).await?;
    store::clear_setup_tokens(&transaction).await?;
    let actor = Actor::from(&visitor).as_user(user.id);
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
