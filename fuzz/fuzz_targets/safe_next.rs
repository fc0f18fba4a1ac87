//! The `?next=` redirect check. Property: whatever comes in, the result is
//! a path on this site: it starts with a single `/`, has no backslash,
//! whitespace or control character, fits in a `Location` header, and a
//! browser resolving it against any page of the site stays on the site.

#![no_main]

use libfuzzer_sys::fuzz_target;
use soloist::web::respond::safe_next;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let next = safe_next(&text);
    assert!(
        next == "/account" || next == text.trim(),
        "the target was rewritten, not kept or replaced: {next:?}"
    );
    assert!(next.starts_with('/'), "{next:?}");
    assert!(!next.starts_with("//"), "{next:?}");
    assert!(!next.contains('\\'), "{next:?}");
    assert!(
        !next
            .chars()
            .any(|character| character.is_control() || character.is_whitespace()),
        "{next:?}"
    );
    assert!(next.len() <= 512);
    assert!(
        next.bytes().all(|byte| byte >= 0x20 && byte != 0x7f),
        "not a valid header value: {next:?}"
    );
    for page in [
        "https://soloist.example/sign-in",
        "https://soloist.example/a/b/c?x=1#y",
        "http://127.0.0.1:8080/",
    ] {
        let base = url::Url::parse(page).unwrap_or_else(|error| panic!("{page}: {error}"));
        if let Ok(target) = base.join(&next) {
            assert_eq!(
                target.origin(),
                base.origin(),
                "{next:?} from {page} leaves the site for {target}"
            );
        }
    }
});
