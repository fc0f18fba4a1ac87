//! Validators for public responses: an `ETag` per body, `If-None-Match`
//! compared weakly (RFC 9110 §13.1.2: `W/"x"` matches `"x"`, and `*`
//! matches any), and 304 for a client that already has the body.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

/// True when `If-None-Match` of `request` names `etag` (weak comparison)
/// or is `*`.
pub fn etag_matches(request: &HttpRequest, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let wanted = opaque(etag);
    request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| tag.trim() == "*" || opaque(tag) == wanted)
}

/// A weak `ETag` for `body` (weak: compression may change the bytes sent).
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("W/\"{hex}\"")
}

/// `body` as a public, revalidated response: 304 when the client's copy is
/// current.
pub fn public_body(
    request: &HttpRequest,
    body: String,
    content_type: &str,
    cache_control: &str,
) -> HttpResponse {
    let etag = etag_of(body.as_bytes());
    if etag_matches(request, &etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache_control.to_owned()))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(content_type.to_owned())
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, cache_control.to_owned()))
        .body(body)
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::etag_matches;

    #[test]
    fn if_none_match_compares_weakly_and_star_matches_anything() {
        let tag = "\"abc\"";
        for sent in ["\"abc\"", "W/\"abc\"", "\"x\", W/\"abc\"", "*"] {
            let request = TestRequest::default()
                .insert_header(("If-None-Match", sent))
                .to_http_request();
            assert!(etag_matches(&request, tag), "{sent}");
            assert!(etag_matches(&request, "W/\"abc\""), "{sent}");
        }
        let request = TestRequest::default()
            .insert_header(("If-None-Match", "\"abd\""))
            .to_http_request();
        assert!(!etag_matches(&request, tag));
        assert!(!etag_matches(
            &TestRequest::default().to_http_request(),
            tag
        ));
    }
}
