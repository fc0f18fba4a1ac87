//! Flash notices: the closed set of messages a redirect can ask the next
//! page to show (`?notice=<code>`), so a link cannot put arbitrary text on
//! a page.

use super::pages::Flash;

/// How a notice looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// Something went well.
    Success,
    /// Neutral information.
    Info,
    /// Something to pay attention to.
    Warning,
}

impl Tone {
    /// The CSS class suffix (`flash-<tone>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Info => "info",
            Self::Warning => "warning",
        }
    }
}

macro_rules! notices {
    ($($variant:ident = $code:literal, $tone:ident, $message:expr;)+) => {
        /// A message for the page a redirect leads to.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Notice {
            $(
                #[doc = $message]
                $variant,
            )+
        }

        impl Notice {
            /// Every notice.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Its code in `?notice=`.
            pub fn code(self) -> &'static str {
                match self {
                    $(Self::$variant => $code),+
                }
            }

            /// The notice of `code`, if it is one.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some(Self::$variant),)+
                    _ => None,
                }
            }

            /// How it looks.
            pub fn tone(self) -> Tone {
                match self {
                    $(Self::$variant => Tone::$tone),+
                }
            }

            /// What it says.
            pub fn message(self) -> &'static str {
                match self {
                    $(Self::$variant => $message),+
                }
            }
        }
    };
}

notices! {
    SignedOut = "signed-out", Info, "You are signed out.";
    EmailVerified = "email-verified", Success, "Your email address is confirmed.";
    VerificationSent = "verification-sent", Info, "We sent a new confirmation link. It works for 24 hours.";
    PasswordReset = "password-reset", Success, "Your password was changed. Sign in with the new one.";
    PasswordChanged = "password-changed", Success, "Your password was changed and your other sessions were signed out.";
    ProfileSaved = "profile-saved", Success, "Your profile was saved.";
    PasswordRemoved = "password-removed", Warning, "Your address is confirmed. This account had a password chosen before the address was proven, \
         perhaps by someone else, so it was removed and every other session was signed out. Choose \
         your own password below.";
    PasswordLinkSent = "password-link-sent", Info, "We mailed you a link to choose a password. It works for one hour.";
    EmailChangeSent = "email-change-sent", Info, "Check the new address: the change happens when you open the link we sent.";
    SessionEnded = "session-ended", Success, "That session was signed out.";
    SessionsEnded = "sessions-ended", Success, "All your other sessions were signed out.";
    PostCreated = "post-created", Success, "Your draft was saved. Publish it when it is ready.";
    PostSaved = "post-saved", Success, "Your changes were saved.";
    PostPublished = "post-published", Success, "The post is published.";
    PostArchived = "post-archived", Info, "The post is archived: readers no longer see it.";
    PostDrafted = "post-drafted", Info, "The post is a draft again: only you see it.";
    PostDeleted = "post-deleted", Success, "The post was deleted.";
    CategoryCreated = "category-created", Success, "The category was created.";
    CategorySaved = "category-saved", Success, "The category was saved.";
    CategoryDeleted = "category-deleted", Success, "The category was deleted; its posts have none now.";
    AlreadySubscribed = "already-subscribed", Info, "You already have a plan: change it here.";
    CheckoutCanceled = "checkout-canceled", Info, "Checkout was canceled: nothing was charged.";
    CheckoutComplete = "checkout-complete", Success, "Thank you! Your subscription starts as soon as Stripe confirms the payment, usually within seconds.";
    SubscriptionCanceled = "subscription-canceled", Info, "Your plan was canceled. You keep it until the end of the paid period.";
    SubscriptionResumed = "subscription-resumed", Success, "Your plan continues: it will renew as usual.";
    PlanChanged = "plan-changed", Success, "Your plan was changed.";
    PlanCreated = "plan-created", Success, "The plan was created.";
    PlanSaved = "plan-saved", Success, "The plan was saved.";
    PlanDeleted = "plan-deleted", Success, "The plan was deleted.";
    EventReplayed = "event-replayed", Success, "The event was applied again; its outcome is below.";
    EventStillParked = "event-still-parked", Info, "The event was applied again and still waits for what it refers to.";
    EventStillUnsupported = "event-still-unsupported", Warning, "This Soloist still does not know the event's API version. Upgrade Soloist, then replay it.";
    EventForgotten = "event-forgotten", Warning, "That event's body is no longer kept (applied events keep it for 90 days), so it can't be replayed.";
    PlanGranted = "plan-granted", Success, "The plan was granted.";
    UserSaved = "user-saved", Success, "The role was changed.";
    UserDeactivated = "user-deactivated", Info, "The user was deactivated and signed out everywhere.";
    UserReactivated = "user-reactivated", Success, "The user can sign in again.";
    VerificationResent = "verification-resent", Success, "A new confirmation link was mailed.";
    BackupStarted = "backup-started", Info, "The backup has started.";
    BackupRunning = "backup-running", Warning, "A backup is already being written; it appears below when it is complete.";
    SettingsSaved = "settings-saved", Success, "The settings were saved.";
    WelcomeAdmin = "welcome-admin", Success, "Welcome! You are the administrator of this site.";
}

impl Notice {
    /// `path` with this notice asked for.
    pub fn on(self, path: &str) -> String {
        let separator = if path.contains('?') { '&' } else { '?' };
        format!("{path}{separator}notice={}", self.code())
    }

    /// The notice `request` asks for with `?notice=`.
    pub fn of(request: &actix_web::HttpRequest) -> Option<Self> {
        request
            .query_string()
            .split('&')
            .find_map(|pair| pair.strip_prefix("notice="))
            .and_then(Self::from_code)
    }

    /// The flash message that shows it.
    pub fn flash(self) -> Flash {
        Flash {
            kind: self.tone().as_str().to_owned(),
            message: self.message().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_as_its_notice() {
        for notice in Notice::ALL {
            assert_eq!(Notice::from_code(notice.code()), Some(*notice));
            assert!(!notice.message().is_empty());
        }
        assert_eq!(Notice::from_code("<script>"), None);
    }

    #[test]
    fn a_notice_is_added_to_a_path_with_or_without_a_query() {
        assert_eq!(
            Notice::PlanSaved.on("/admin/plans"),
            "/admin/plans?notice=plan-saved"
        );
        assert_eq!(
            Notice::PlanSaved.on("/admin/plans?page=2"),
            "/admin/plans?page=2&notice=plan-saved"
        );
    }
}
