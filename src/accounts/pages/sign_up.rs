//! `GET`/`POST /sign-up`: sign-up with an email address and a password
//! (the rules are in [`crate::accounts::registration`]).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{issue_token, sign_up_cookie};
use crate::accounts::model::DisplayName;
use crate::accounts::model::Email;
use crate::accounts::model::VerificationTokenType;
use crate::accounts::registration::{self, Registration, SignUp};
use crate::accounts::secrets::Password;
use crate::audit::Actor;
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::rate_limit::{self, SIGN_UP_PER_ACCOUNT, SIGN_UP_PER_IP};
use crate::web::respond::safe_next;
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

impl SignUpErrors {
    /// Each message with the id of its field, in the form's order.
    pub fn summary(&self) -> Vec<crate::web::forms::Problem> {
        crate::web::forms::Problem::list(&[
            ("name", &self.name),
            ("email", &self.email),
            ("password", &self.password),
        ])
    }
}

impl SignUpForm {
    /// The form's values as domain types (email, name, password), or a
    /// message per bad field. Public so the fuzz targets run it.
    pub fn parse(&self) -> Result<(Email, DisplayName, Password), SignUpErrors> {
        let mut errors = SignUpErrors::default();
        let email = Email::parse(&self.email)
            .map_err(|message| errors.email = Some(message.to_owned()))
            .ok();
        let name = DisplayName::parse(&self.name)
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
    pub next: String,
}

/// The sign-up form.
#[derive(Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub next: String,
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
    let sign_up = SignUp {
        email: email.clone(),
        name,
        password_hash,
        language: visitor.language,
    };
    let registration =
        registration::register(&transaction, &Actor::from(&visitor), &sign_up).await?;
    let (mail, token) = match registration {
        Registration::Created(_) => {
            let (link, token) = issue_token(
                &transaction,
                &state,
                &email,
                VerificationTokenType::EmailVerification,
                None,
            )
            .await?;
            (
                super::verification_mail(&state, visitor.language, &email, &link),
                Some(token),
            )
        }
        Registration::AlreadyRegistered => (
            crate::mail::messages::already_registered::Facts {}
                .mail(&state.mail_site(visitor.language), &email),
            None,
        ),
    };
    transaction.commit().await?;
    state.send_mail_later(mail);
    let mut response = super::links::check_email_page(
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
