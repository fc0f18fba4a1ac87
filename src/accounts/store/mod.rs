//! All SQL on `users`, `user_profiles`, `accounts`, `sessions` and
//! `verification_tokens`. Functions take any client (pooled connection or
//! transaction) so callers compose them into one transaction.
//!
//! One submodule per concept; everything is re-exported here so callers
//! keep using `crate::accounts::store::X`.

mod profiles;
mod rows;
mod sessions;
mod sign_in_methods;
mod tokens;
mod users;

pub use profiles::*;
pub use sessions::*;
pub use sign_in_methods::*;
pub use tokens::*;
pub use users::*;

/// Every statement of this store, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[
    INSERT_USER,
    USER_BY_ID,
    USER_BY_EMAIL,
    INSERT_PROFILE,
    PROFILE_OF,
    LANGUAGE_OF,
    SET_LANGUAGE,
    INSERT_ACCOUNT,
    ACCOUNTS_OF,
    INSERT_SESSION,
    SESSIONS_OF,
    INSERT_VERIFICATION_TOKEN,
    USER_WITH_DETAILS,
];

/// Statements added for sign-in, for the test that prepares them all.
pub const SIGN_IN_STATEMENTS: &[&str] = &[
    CREDENTIALS_BY_EMAIL,
    CREDENTIALS_OF,
    SET_PASSWORD,
    INSERT_USER_IF_NEW,
    SESSION_USER,
    TOUCH_SESSION,
    END_SESSION,
    END_OTHER_SESSIONS,
    ACTIVE_SESSIONS_OF,
    MARK_LOGIN,
    REDEEM_TOKEN,
    PEEK_TOKEN,
    INSERT_TOKEN_FOR_USER,
    MARK_VERIFIED,
    CHANGE_EMAIL,
    UPDATE_PROFILE,
    UPDATE_USER_CARD,
    ADMIN_EXISTS,
    SET_ROLE,
    USER_BY_PROVIDER_ACCOUNT,
    REMOVE_PASSWORD,
    REVOKE_LINKS,
    INSERT_SETUP_TOKEN,
    SETUP_TOKEN_EXISTS,
    DELETE_SETUP_TOKENS,
    IS_TIMEZONE,
];

/// The statements of the admins' user pages, for the prepare test.
pub const ADMIN_STATEMENTS: &[&str] = &[
    SEARCH_USERS,
    SET_ACTIVE,
    END_ALL_SESSIONS,
    OTHER_ACTIVE_ADMINS,
];
