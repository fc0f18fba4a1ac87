//! Webhook signatures: verifying a `Stripe-Signature` header, and making
//! one (tests and benchmarks).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// How far a webhook's timestamp may be from now, either way.
pub const SIGNATURE_TOLERANCE_SECONDS: i64 = 300;

/// Why a webhook's signature was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No `Stripe-Signature` header.
    #[error("the Stripe-Signature header is missing")]
    Missing,
    /// The header has no timestamp or no v1 signature.
    #[error("the Stripe-Signature header is malformed")]
    Malformed,
    /// The timestamp is too far in the past.
    #[error("the signature's timestamp is too old")]
    TooOld,
    /// The timestamp is too far in the future.
    #[error("the signature's timestamp is in the future")]
    InFuture,
    /// No v1 signature matches.
    #[error("no signature matches the payload")]
    Mismatch,
}

/// Checks a `Stripe-Signature` header exactly as Stripe specifies: the
/// HMAC-SHA256 of `"{t}.{raw body}"` with the endpoint's secret, compared
/// in constant time with every `v1` in the header (any may match), and a
/// timestamp within the tolerance of `now`. Returns the timestamp.
pub fn verify_signature(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<i64, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" if timestamp.is_none() => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                );
            }
            "v1" => {
                if let Some(bytes) = decode_hex(value) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if signatures.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if timestamp < now.saturating_sub(tolerance) {
        return Err(SignatureError::TooOld);
    }
    if timestamp > now.saturating_add(tolerance) {
        return Err(SignatureError::InFuture);
    }
    let expected = sign(secret, timestamp, body);
    let mut matched = subtle::Choice::from(0);
    for signature in &signatures {
        matched |= signature.as_slice().ct_eq(expected.as_slice());
    }
    if bool::from(matched) {
        Ok(timestamp)
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The v1 signature of `body` at `timestamp` (what Stripe sends).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return Vec::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// A `Stripe-Signature` header for `body` (tests and benchmarks).
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let hex: String = sign(secret, timestamp, body)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("t={timestamp},v1={hex}")
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    // Hex digits only: `from_str_radix` alone would also take a sign ("+2").
    if text.len() != 64 || !text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"invoice.paid"}"#;
    const NOW: i64 = 1_800_000_000;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    #[test]
    fn a_v1_value_is_hex_digits_only_not_a_signed_number() {
        let real = hex(&sign(SECRET, NOW, BODY));
        // "+a" parses as a number in base 16; the header is still not hex.
        let signed = format!("+{}", &real[1..]);
        assert_eq!(
            verify_signature(
                SECRET,
                Some(&format!("t={NOW},v1={signed}")),
                BODY,
                NOW,
                300
            ),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify_signature(SECRET, Some(&format!("t={NOW},v1={real}")), BODY, NOW, 300),
            Ok(NOW)
        );
    }

    #[test]
    fn signatures_verify_as_stripe_specifies() {
        let good = signature_header(SECRET, NOW, BODY);
        let verify = |header: Option<&str>, body: &[u8]| {
            verify_signature(SECRET, header, body, NOW, SIGNATURE_TOLERANCE_SECONDS)
        };
        assert_eq!(verify(Some(&good), BODY), Ok(NOW));
        assert_eq!(verify(None, BODY), Err(SignatureError::Missing));
        assert_eq!(
            verify(Some("garbage"), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some(&format!("t={NOW}")), BODY),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(Some("t=abc,v1=00"), BODY),
            Err(SignatureError::Malformed)
        );
        let mut changed = BODY.to_vec();
        changed[5] ^= 1;
        assert_eq!(verify(Some(&good), &changed), Err(SignatureError::Mismatch));
        let other = signature_header("whsec_other", NOW, BODY);
        assert_eq!(verify(Some(&other), BODY), Err(SignatureError::Mismatch));
        let stale = signature_header(SECRET, NOW - 301, BODY);
        assert_eq!(verify(Some(&stale), BODY), Err(SignatureError::TooOld));
        let future = signature_header(SECRET, NOW + 301, BODY);
        assert_eq!(verify(Some(&future), BODY), Err(SignatureError::InFuture));
        let edge = signature_header(SECRET, NOW - 300, BODY);
        assert_eq!(verify(Some(&edge), BODY), Ok(NOW - 300));
        // Any v1 may match (Stripe sends two while a secret is rolled).
        let right = hex(&sign(SECRET, NOW, BODY));
        let wrong = hex(&sign("whsec_old", NOW, BODY));
        let two = format!("t={NOW},v1={wrong},v1={right},v0=ignored");
        assert_eq!(verify(Some(&two), BODY), Ok(NOW));
        let two_wrong = format!("t={NOW},v1={wrong},v1={wrong}");
        assert_eq!(
            verify(Some(&two_wrong), BODY),
            Err(SignatureError::Mismatch)
        );
        // The timestamp is signed: moving it breaks the signature.
        let moved = format!("t={},v1={right}", NOW + 1);
        assert_eq!(verify(Some(&moved), BODY), Err(SignatureError::Mismatch));
    }
}
