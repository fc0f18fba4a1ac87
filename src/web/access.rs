//! Who may use a handler, said in its signature: a handler that takes
//! [`Member`] only runs for a signed-in user (anyone else is sent to
//! sign-in), one that takes [`Admin`] only for an admin (a signed-in
//! non-admin gets 403). Both are extracted before anything else the
//! handler reads, so a refused visitor learns nothing from its input's
//! validation.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::page_error::PageError;
use super::visitor::{SignedIn, Visitor};
use crate::accounts::model::Role;
use crate::audit::Actor;

/// A signed-in user's request.
#[derive(Clone, Debug)]
pub struct Member {
    /// The request's visitor (layout, CSRF token, address).
    pub visitor: Visitor,
    /// Who is signed in.
    pub signed_in: SignedIn,
}

/// An admin's request.
#[derive(Clone, Debug)]
pub struct Admin {
    /// The request's visitor (layout, CSRF token, address).
    pub visitor: Visitor,
    /// The admin.
    pub signed_in: SignedIn,
}

impl Member {
    /// The member of `visitor`, or a redirect to sign-in.
    pub fn of(visitor: Visitor) -> Result<Self, PageError> {
        let signed_in = visitor.signed_in.clone().ok_or(PageError::SignInRequired)?;
        Ok(Self { visitor, signed_in })
    }
}

impl Admin {
    /// The admin of `visitor`: a redirect to sign-in when nobody is signed
    /// in, 403 for anyone else.
    pub fn of(visitor: Visitor) -> Result<Self, PageError> {
        let Member { visitor, signed_in } = Member::of(visitor)?;
        if signed_in.user.role == Role::Admin {
            Ok(Self { visitor, signed_in })
        } else {
            Err(PageError::Forbidden)
        }
    }
}

/// Who a handler lets in, decided from the visitor.
pub trait Gate: Sized {
    /// The access `visitor` has, or the refusal: sign-in for a visitor who
    /// is not signed in, 403 for one without the role.
    fn of(visitor: Visitor) -> Result<Self, PageError>;
}

/// Anyone at all: the forms of sign-in, sign-up and the like.
#[derive(Clone, Copy, Debug)]
pub struct Anyone;

impl Gate for Anyone {
    fn of(_: Visitor) -> Result<Self, PageError> {
        Ok(Self)
    }
}

impl Gate for Member {
    fn of(visitor: Visitor) -> Result<Self, PageError> {
        Member::of(visitor)
    }
}

impl Gate for Admin {
    fn of(visitor: Visitor) -> Result<Self, PageError> {
        Admin::of(visitor)
    }
}

type Extracted<T> = Pin<Box<dyn Future<Output = Result<T, PageError>>>>;

impl FromRequest for Member {
    type Error = PageError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let visitor = Visitor::from_request(request, payload);
        Box::pin(async move { Self::of(visitor.await?) })
    }
}

impl FromRequest for Admin {
    type Error = PageError;
    type Future = Extracted<Self>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let visitor = Visitor::from_request(request, payload);
        Box::pin(async move { Self::of(visitor.await?) })
    }
}

impl From<&Visitor> for Actor {
    /// The actor of a request: its user (if signed in), address, browser
    /// and request id.
    fn from(visitor: &Visitor) -> Self {
        Actor::client(
            visitor
                .signed_in
                .as_ref()
                .map(|signed_in| signed_in.user.id),
            visitor.ip.as_deref(),
            visitor.user_agent.as_deref(),
        )
        .in_request(visitor.request_id.as_deref())
    }
}

impl From<&Member> for Actor {
    fn from(member: &Member) -> Self {
        Self::from(&member.visitor)
    }
}

impl From<&Admin> for Actor {
    fn from(admin: &Admin) -> Self {
        Self::from(&admin.visitor)
    }
}
