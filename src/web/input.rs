//! Text that no page can take is refused at the edge: a NUL byte or bytes
//! that are not UTF-8, in the path, the query or a form field, are a 400
//! with a sentence before any handler (or a streamed export) starts.
//! PostgreSQL cannot store a NUL in text, so letting one through would end
//! as a 500 or a response cut off mid-stream.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::page_error::PageError;

/// Why a piece of input was refused.
pub const REFUSED: &str = "The request contains a character that is not allowed here (a NUL byte, \
     a control character or text that is not UTF-8). Remove it and try again.";

/// True when percent-encoded `bytes` (a path, a query string or an
/// `application/x-www-form-urlencoded` body) decode to UTF-8 text without
/// NUL bytes.
pub fn is_clean(bytes: &[u8]) -> bool {
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let byte = bytes[index];
        if byte == b'%'
            && let Some(value) = bytes
                .get(index + 1..index + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            decoded.push(value);
            index += 3;
            continue;
        }
        decoded.push(byte);
        index += 1;
    }
    match std::str::from_utf8(&decoded) {
        Ok(text) => !text.contains('\0'),
        Err(_) => false,
    }
}

/// The middleware: 400 for a path or query that is not clean text.
pub async fn guard(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let uri = request.uri();
    let clean = is_clean(uri.path().as_bytes())
        && uri.query().is_none_or(|query| is_clean(query.as_bytes()));
    if !clean {
        return Err(PageError::BadRequest(REFUSED.to_owned()).into());
    }
    Ok(next.call(request).await?.map_into_boxed_body())
}

#[cfg(test)]
mod tests {
    use super::is_clean;

    #[test]
    fn nul_bytes_and_invalid_utf8_are_refused_encoded_or_not() {
        assert!(is_clean(b"/blog/caf%C3%A9?q=d%C3%A9j%C3%A0+vu&page=2"));
        assert!(is_clean(b"name=Ada+Lovelace&bio=100%25"));
        assert!(is_clean(b"odd=%zz&half=%4"));
        assert!(!is_clean(b"q=a%00b"));
        assert!(!is_clean(b"name=Ada\0"));
        assert!(!is_clean(b"q=%C3%28"));
        assert!(!is_clean(b"q=%FF"));
        assert!(!is_clean(&[b'q', b'=', 0xC3]));
    }
}
