//! The account pages' paths: registered in [`super::pages::ROUTES`], and
//! used by redirects, templates, mail links and tests.

use crate::accounts::model::SessionId;
use crate::web::routes::one;

/// Sign-up.
pub const SIGN_UP: &str = "/sign-up";
/// Sign-in.
pub const SIGN_IN: &str = "/sign-in";
/// Sign-out (POST).
pub const SIGN_OUT: &str = "/sign-out";
/// First-run setup of the first admin.
pub const SETUP: &str = "/setup";
/// The confirmation link's page.
pub const VERIFY_EMAIL: &str = "/verify-email";
/// A new confirmation link (POST).
pub const VERIFY_EMAIL_RESEND: &str = "/verify-email/resend";
/// Asking for a password reset link.
pub const RESET_PASSWORD: &str = "/reset-password";
/// The reset link's page.
pub const RESET_PASSWORD_CONFIRM: &str = "/reset-password/confirm";
/// Asking for a sign-in link.
pub const MAGIC_LINK: &str = "/magic-link";
/// The sign-in link's page.
pub const MAGIC_LINK_CONFIRM: &str = "/magic-link/confirm";
/// The account's overview.
pub const ACCOUNT: &str = "/account";
/// The profile form.
pub const PROFILE: &str = "/account/profile";
/// Changing the email address (POST).
pub const EMAIL: &str = "/account/email";
/// Password and sessions.
pub const SECURITY: &str = "/account/security";
/// Changing the password (POST).
pub const PASSWORD: &str = "/account/password";
/// Mailing a link to choose a password (POST).
pub const PASSWORD_LINK: &str = "/account/password/link";
/// Ending every other session (POST).
pub const END_OTHER_SESSIONS: &str = "/account/sessions/end-others";
/// Ending one session (POST).
pub const END_SESSION: &str = "/account/sessions/{id}/end";
/// The development outbox.
pub const OUTBOX: &str = "/admin/outbox";
/// Starting sign-in with a provider.
pub const OAUTH_START: &str = "/auth/{provider}";
/// The provider's callback.
pub const OAUTH_CALLBACK: &str = "/auth/{provider}/callback";

/// Ending the session `id`.
pub fn end_session(id: SessionId) -> String {
    one(END_SESSION, id)
}

/// Signing in with `provider`.
pub fn oauth_start(provider: &str) -> String {
    one(OAUTH_START, provider)
}

/// `provider`'s callback.
pub fn oauth_callback(provider: &str) -> String {
    one(OAUTH_CALLBACK, provider)
}
