//! The shell every page shares: the stylesheet's colours and states, the
//! navigation that says where you are, long forms and their summaries, and
//! the confirmation step before actions that can't be undone.

mod confirmations;
mod forms;
mod navigation;
mod stylesheet;

/// The `<form ...>` opening tags of a page.
pub fn form_tags(page: &str) -> Vec<String> {
    page.split("<form")
        .skip(1)
        .map(|rest| format!("<form{}>", rest.split('>').next().unwrap()))
        .collect()
}

/// The HTML of the element that starts at the first `start` of `page`, up
/// to the first `end` after it.
pub fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {page}"));
    let rest = &page[from..];
    let to = rest
        .find(end)
        .unwrap_or_else(|| panic!("no {end} after {start}"));
    &rest[..to + end.len()]
}
