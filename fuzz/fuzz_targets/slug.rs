//! Slugs from titles and typed text. Properties: a slug is 1 to 80
//! characters of lower-case letters and digits separated by single dashes
//! (so it is safe in a URL path and in HTML), parsing a slug gives it back
//! unchanged, and numbered slugs keep all of that.

#![no_main]

use libfuzzer_sys::fuzz_target;
use soloist::content::slug::{MAX_SLUG_CHARS, Slug};

fn assert_valid(slug: &str) {
    assert!(!slug.is_empty());
    assert!(slug.chars().count() <= MAX_SLUG_CHARS, "too long: {slug:?}");
    assert!(
        !slug.starts_with('-') && !slug.ends_with('-') && !slug.contains("--"),
        "stray dash: {slug:?}"
    );
    assert!(
        slug.chars()
            .all(|character| character == '-' || character.is_alphanumeric()),
        "not URL-safe: {slug:?}"
    );
    assert_eq!(slug.to_lowercase(), slug, "not lower-case: {slug:?}");
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Slug::parse(&text) {
        Some(slug) => {
            assert_valid(slug.as_str());
            assert_eq!(
                Slug::parse(slug.as_str()).as_ref(),
                Some(&slug),
                "a slug changed when parsed again"
            );
            let n = data.iter().fold(0_u32, |n, byte| {
                n.wrapping_mul(31).wrapping_add(u32::from(*byte))
            });
            let numbered = slug.numbered(n);
            assert_valid(numbered.as_str());
            assert!(numbered.as_str().ends_with(&format!("-{n}")));
            assert_eq!(Slug::parse(numbered.as_str()).as_ref(), Some(&numbered));
        }
        None => assert!(
            !text.chars().any(char::is_alphanumeric),
            "text with letters or digits gave no slug: {text:?}"
        ),
    }
    assert_valid(Slug::from_title(&text, "post").as_str());
});
