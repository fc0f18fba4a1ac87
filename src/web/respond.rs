//! Answers every domain's handlers share: redirects (with a notice for the
//! next page), and where a redirect may safely go.

use actix_web::HttpResponse;
use actix_web::http::header;

pub use super::notice::Notice;

/// A 303 redirect to `location`.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// A 303 redirect to `path`, whose page shows `notice`.
pub fn see_other_with(path: &str, notice: Notice) -> HttpResponse {
    see_other(&notice.on(path))
}

/// Where to go after signing in: only a path on this site (`/...`), never
/// `//host`, `/\host`, a scheme, or anything with control characters.
pub fn safe_next(next: &str) -> String {
    let next = next.trim();
    let safe = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.contains('\\')
        && !next
            .chars()
            .any(|character| character.is_control() || character.is_whitespace())
        && next.len() <= 512;
    if safe {
        next.to_owned()
    } else {
        crate::accounts::paths::ACCOUNT.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_followed() {
        assert_eq!(safe_next("/blog?page=2"), "/blog?page=2");
        for unsafe_next in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "/a\\b",
            "/a b",
            "/a\nb",
            "",
        ] {
            assert_eq!(safe_next(unsafe_next), "/account", "{unsafe_next:?}");
        }
    }

    #[test]
    fn a_notice_redirect_carries_its_code() {
        let response = see_other_with("/posts", Notice::PostDeleted);
        assert_eq!(response.status(), 303);
        assert_eq!(
            response
                .headers()
                .get(header::LOCATION)
                .and_then(|value| value.to_str().ok()),
            Some("/posts?notice=post-deleted")
        );
    }
}
