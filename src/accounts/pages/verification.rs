//! Email verification: `GET`/`POST /verify-email` (also an email change's
//! confirmation) and `POST /verify-email/resend`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::links::{
    TokenQuery, VerifyForm, check_email_page, confirm_elsewhere_page, confirm_page, expired_link,
    unproven_password_account,
};
use super::password_reset::EmailForm;
use super::{asked_from_this_browser, issue_token, start_session};
use crate::accounts::model::Email;
use crate::accounts::model::VerificationTokenType;
use crate::accounts::paths;
use crate::accounts::proof;
use crate::accounts::secrets::{Password, token_hash};
use crate::accounts::store;
use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity, Fields};
use crate::web::AppState;
use crate::web::csrf::CsrfForm;
use crate::web::page_error::PageError;
use crate::web::rate_limit::{self, EMAIL_LINK_PER_ACCOUNT, EMAIL_LINK_PER_IP};
use crate::web::respond::see_other;
use crate::web::respond::{Notice, see_other_with};
use crate::web::visitor::Visitor;

/// `GET /verify-email?token=`.
pub async fn verify_page(
    state: web::Data<AppState>,
    visitor: Visitor,
    query: web::Query<TokenQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    if !asked_from_this_browser(&request, &query.token) {
        let client = state.pool.get().await?;
        if unproven_password_account(&client, &query.token)
            .await?
            .is_some()
        {
            return Ok(confirm_elsewhere_page(
                &visitor,
                &query.token,
                None,
                StatusCode::OK,
            ));
        }
    }
    Ok(confirm_page(
        &visitor,
        "Confirm your email address",
        "Press the button to confirm this address and sign in.",
        "/verify-email",
        &query.token,
        "Confirm my email",
    ))
}

/// `POST /verify-email`: verifies the address (or completes an email
/// change) and signs in. The first proof of a new account's address keeps
/// its password only when the link is opened in the browser that signed up
/// or the password is typed again; otherwise the password is removed (see
/// [`crate::accounts::proof`]).
pub async fn verify(
    state: web::Data<AppState>,
    request: CsrfForm<VerifyForm>,
    http: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    let mut keep_password = asked_from_this_browser(&http, &form.token);
    if !keep_password && !form.password.is_empty() {
        let client = state.pool.get().await?;
        let account = unproven_password_account(&client, &form.token).await?;
        drop(client);
        if let Some((_, hash)) = account {
            let typed = Password::attempt(&form.password);
            keep_password = match &typed {
                Some(password) => state.hasher.verify(password, Some(&hash)).await?,
                None => false,
            };
            if !keep_password {
                return Ok(confirm_elsewhere_page(
                    &visitor,
                    &form.token,
                    Some(
                        "That is not the password of this account. Leave it empty if you did not create it."
                            .to_owned(),
                    ),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ));
            }
        }
    }
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let Some((email, for_user)) = store::redeem_token(
        &transaction,
        &token_hash(&form.token),
        VerificationTokenType::EmailVerification,
    )
    .await?
    else {
        return Ok(expired_link(&visitor));
    };
    let mut password_removed = false;
    let user = match for_user {
        // An email change: the new address is proven, move the account to it.
        Some(user_id) => {
            if store::user_by_email(&transaction, &email).await?.is_some() {
                return Ok(check_email_page(
                    &visitor,
                    "That address is taken",
                    "Another account uses this address now, so the change was not made.",
                ));
            }
            let old = store::change_email(&transaction, user_id, &email).await?;
            let changes = audit::changed(&Fields::of("email", &old), &Fields::of("email", &email));
            audit::store::record(
                &transaction,
                &Actor::from(&visitor).as_user(user_id).entry(
                    AuditAction::Update,
                    AuditEntity::Users,
                    Some(user_id.0),
                    changes,
                ),
            )
            .await?;
            let language = store::language_of(&transaction, user_id).await?;
            let facts = crate::mail::messages::email_changed::Facts {
                new_email: email.clone(),
            };
            state.send_mail_later(facts.mail(&state.mail_site(language), &old));
            store::user_by_id(&transaction, user_id).await?
        }
        None => match store::user_by_email(&transaction, &email).await? {
            Some(user) => {
                let proven = proof::address_proven(
                    &transaction,
                    &user,
                    keep_password,
                    &Actor::from(&visitor).as_user(user.id),
                    "email verification",
                )
                .await?;
                password_removed = proven.password_removed;
                store::user_by_id(&transaction, user.id).await?
            }
            None => None,
        },
    };
    let Some(user) = user.filter(|user| user.is_active) else {
        transaction.commit().await?;
        return Ok(see_other_with(paths::SIGN_IN, Notice::EmailVerified));
    };
    let cookie = start_session(&transaction, &state, &user, &visitor, "email verification").await?;
    transaction.commit().await?;
    let mut response = if password_removed {
        see_other_with(paths::SECURITY, Notice::PasswordRemoved)
    } else {
        see_other_with(paths::ACCOUNT, Notice::EmailVerified)
    };
    response.add_cookie(&cookie).ok();
    Ok(response)
}

/// `POST /verify-email/resend`: a new confirmation link for an address
/// whose account is not confirmed yet; the same answer whether or not
/// there is one.
pub async fn resend_verification(
    state: web::Data<AppState>,
    request: CsrfForm<EmailForm>,
) -> Result<HttpResponse, PageError> {
    let CsrfForm { form, visitor, .. } = request;
    if visitor.signed_in.is_some() {
        // Only confirmed accounts have sessions.
        return Ok(see_other("/account"));
    }
    let Ok(email) = Email::parse(&form.email) else {
        return Err(PageError::BadRequest(
            "Enter an email address like name@example.com.".to_owned(),
        ));
    };
    let client = state.pool.get().await?;
    let network = rate_limit::network_of(visitor.ip.as_deref());
    if !rate_limit::allow(&client, &EMAIL_LINK_PER_IP, &network).await?
        || !rate_limit::allow(&client, &EMAIL_LINK_PER_ACCOUNT, &email).await?
    {
        return Err(PageError::TooManyRequests);
    }
    let waiting = store::user_by_email(&client, &email)
        .await?
        .filter(|user| user.is_active && !user.email_verified);
    let token = match waiting {
        Some(user) => {
            let (link, token) = issue_token(
                &client,
                &state,
                &user.email,
                VerificationTokenType::EmailVerification,
                None,
            )
            .await?;
            let language = store::language_of(&client, user.id).await?;
            state.send_mail_later(super::verification_mail(
                &state,
                language,
                &user.email,
                &link,
            ));
            Some(token)
        }
        None => None,
    };
    let mut response = check_email_page(
        &visitor,
        "Check your email",
        &format!(
            "If {email} has an account waiting for confirmation, a new link is on its way. It works for 24 hours."
        ),
    );
    response
        .add_cookie(&super::sign_up_cookie(&state, token.as_deref())?)
        .ok();
    Ok(response)
}
