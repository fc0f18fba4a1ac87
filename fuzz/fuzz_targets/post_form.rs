//! The post editor's form body, decoded as `POST /posts` decodes it and,
//! when it decodes, checked as the handler checks it. Properties: a form
//! is either refused with a message next to some field or gives a post
//! whose title, excerpt, slug and tags keep their limits, and its preview
//! renders; and no body the edge lets through decodes to a NUL.

#![no_main]

use libfuzzer_sys::fuzz_target;
use soloist::content::markdown;
use soloist::content::post_form::{EditorErrors, PostForm, parse_form};
use soloist::content::slug::{MAX_SLUG_CHARS, Slug};

fuzz_target!(|data: &[u8]| {
    // The edge (`web::input`) refuses every body whose decoded fields could
    // hold a NUL or text that is not UTF-8, whatever the encoding tricks.
    if soloist::web::input::is_clean(data)
        && let Ok(pairs) = serde_html_form::from_bytes::<Vec<(String, String)>>(data)
    {
        for (name, value) in &pairs {
            assert!(
                !name.contains('\0') && !value.contains('\0'),
                "a NUL passed the edge in {data:?}"
            );
        }
    }
    let Ok(form) = serde_html_form::from_bytes::<PostForm>(data) else {
        return;
    };
    let mut errors = EditorErrors::default();
    let Some(parsed) = parse_form(&form, &mut errors) else {
        assert!(errors.any(), "refused without saying why");
        return;
    };
    assert!(!errors.any());
    assert!(!parsed.title.is_empty() && parsed.title == parsed.title.trim());
    assert!(parsed.title.chars().count() <= 200);
    assert!(!parsed.title.chars().any(char::is_control));
    assert!(parsed.content.chars().count() <= 100_000);
    assert!(!parsed.content.contains('\r'), "a line break left as \\r");
    assert!(parsed.excerpt.chars().count() <= 500);
    assert!(!parsed.excerpt.contains("  ") && parsed.excerpt == parsed.excerpt.trim());
    if let Some(slug) = &parsed.typed_slug {
        assert!(!slug.as_str().is_empty() && slug.as_str().chars().count() <= MAX_SLUG_CHARS);
        assert_eq!(Slug::parse(slug.as_str()).as_ref(), Some(slug));
    }
    assert!(parsed.tags.len() <= 10);
    for (index, tag) in parsed.tags.iter().enumerate() {
        assert!(!tag.name.is_empty() && tag.name.chars().count() <= 40);
        assert_eq!(tag.name, tag.name.trim());
        assert_eq!(Slug::parse(&tag.name).as_ref(), Some(&tag.slug));
        assert!(
            parsed.tags[..index]
                .iter()
                .all(|other| other.slug != tag.slug),
            "the tag {:?} twice",
            tag.slug
        );
    }
    let html = markdown::to_html(&parsed.content);
    assert!(!html.to_ascii_lowercase().contains("<script"));
    let excerpt = parsed.excerpt_or_derived();
    assert!(excerpt.chars().count() <= 500);
});
