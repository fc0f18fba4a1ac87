//! `Stripe-Signature` parsing and verification. The input is a header line,
//! a newline, and a body. Properties:
//! - any header is answered without a panic, and a header is accepted only
//!   when one of its `v1` values is the body's real signature;
//! - a genuine signature is accepted whatever other items (`v0`, unknown
//!   schemes, junk) follow it, and its timestamp is returned;
//! - a changed body, a wrong secret or a stale timestamp is refused;
//! - an accepted event body parses into an event only with an id and type,
//!   and any `api_version` in it is read without a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use soloist::billing::stripe::{SignatureError, sign, signature_header, verify_signature};
use soloist::billing::webhook::Event;

const SECRET: &str = "whsec_fuzz";
const NOW: i64 = 1_790_000_000;
const TOLERANCE: i64 = 300;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|byte| *byte == b'\n');
    let (header, body) = match split {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let header = String::from_utf8_lossy(header);

    // Whatever the header says, only the real signature opens the door.
    if let Ok(timestamp) = verify_signature(SECRET, Some(&header), body, NOW, TOLERANCE) {
        assert!((timestamp - NOW).abs() <= TOLERANCE);
        let expected = format!("v1={}", hex(&sign(SECRET, timestamp, body)));
        assert!(
            header
                .split(',')
                .any(|item| item.trim().eq_ignore_ascii_case(&expected)),
            "accepted a header without the body's signature: {header:?}"
        );
    }

    // A genuine signature, followed by whatever the input holds.
    let age = i64::from(body.first().copied().unwrap_or(0)) % (TOLERANCE + 1);
    let timestamp = NOW - age;
    let genuine = signature_header(SECRET, timestamp, body);
    let with_extras = format!("{genuine},{header}");
    assert_eq!(
        verify_signature(SECRET, Some(&with_extras), body, NOW, TOLERANCE),
        Ok(timestamp),
        "a genuine signature followed by {header:?} was refused"
    );
    assert_eq!(
        verify_signature("whsec_other", Some(&genuine), body, NOW, TOLERANCE),
        Err(SignatureError::Mismatch)
    );
    assert_eq!(
        verify_signature(
            SECRET,
            Some(&genuine),
            body,
            NOW + TOLERANCE + 1 + age,
            TOLERANCE
        ),
        Err(SignatureError::TooOld)
    );
    if !body.is_empty() {
        let mut changed = body.to_vec();
        let at = usize::from(changed[0]) % changed.len();
        changed[at] ^= 0x01;
        assert_eq!(
            verify_signature(SECRET, Some(&genuine), &changed, NOW, TOLERANCE),
            Err(SignatureError::Mismatch),
            "a changed body kept its signature"
        );
    }

    // What the webhook does next with a verified body.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Some(event) = Event::parse(&value)
    {
        assert!(!event.id.is_empty() && event.id.len() <= 255);
        assert!(event.kind.len() <= 100);
        assert!(event.object.is_object());
        // Any api_version is read without a panic: a shape, or a reason.
        if let Err(reason) = soloist::billing::versions::shape_of(event.api_version, event.object) {
            assert!(!reason.to_string().is_empty());
        }
    }
});
