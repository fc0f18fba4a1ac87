//! The interface's languages: message catalogs in Fluent (`en.ftl`,
//! `de.ftl`, compiled into the binary), the choice of a language for a
//! request, and [`t`], the lookup every mail (and, later, every page)
//! speaks through.
//!
//! A language is listed in [`Language`] only when its catalog is complete:
//! a test checks that every message of one catalog is in the other, with
//! the same variables.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource};

mod negotiate;

/// A language the interface speaks completely.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Language {
    /// English, the catalog every other one is checked against.
    #[default]
    En,
    /// German.
    De,
}

impl Language {
    /// Every complete language, in the order the profile offers them.
    pub const ALL: &'static [Self] = &[Self::En, Self::De];

    /// The language tag (`en`, `de`), as stored in `user_profiles.language`
    /// and set on `<html lang>`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
        }
    }

    /// The language's own name, for the profile's choice.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::De => "Deutsch",
        }
    }

    /// The complete language of a tag (`de`, `de-DE`, `DE_at`), if there is
    /// one: only the primary subtag counts.
    pub fn parse(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        Self::ALL
            .iter()
            .copied()
            .find(|language| primary.eq_ignore_ascii_case(language.as_str()))
    }

    /// The language of a stored profile value: a tag of no complete
    /// language (`fr`, `es` stored before only complete ones were offered)
    /// or none at all reads as English.
    pub fn of_profile(stored: Option<&str>) -> Self {
        stored.and_then(Self::parse).unwrap_or_default()
    }

    /// The language a browser asks for in its `Accept-Language` header:
    /// the complete language it ranks highest, English when it names none.
    pub fn negotiate(accept_language: Option<&str>) -> Self {
        accept_language
            .and_then(negotiate::best)
            .unwrap_or_default()
    }

    fn catalog(self) -> &'static str {
        match self {
            Self::En => include_str!("en.ftl"),
            Self::De => include_str!("de.ftl"),
        }
    }
}

impl std::fmt::Display for Language {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

type Bundle = FluentBundle<FluentResource>;

/// One bundle per language, parsed on first use.
static BUNDLES: LazyLock<Vec<(Language, Bundle)>> = LazyLock::new(|| {
    Language::ALL
        .iter()
        .map(|&language| (language, bundle(language)))
        .collect()
});

/// The ids already reported missing or broken, so the log names each once.
static REPORTED: LazyLock<Mutex<HashSet<(Language, String)>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

fn bundle(language: Language) -> Bundle {
    let resource = FluentResource::try_new(language.catalog().to_owned()).unwrap_or_else(
        |(resource, errors)| {
            tracing::error!(%language, ?errors, "the message catalog has syntax errors");
            resource
        },
    );
    let tag = language
        .as_str()
        .parse()
        .unwrap_or(unic_langid::LanguageIdentifier::default());
    let mut bundle = Bundle::new_concurrent(vec![tag]);
    // No Unicode isolation marks around placeables: they would end up in
    // subjects and text parts, where mail clients show them as junk.
    bundle.set_use_isolating(false);
    if let Err(errors) = bundle.add_resource(resource) {
        tracing::error!(%language, ?errors, "the message catalog repeats messages");
    }
    bundle
}

fn report_once(language: Language, id: &str, what: &str) {
    let first = REPORTED
        .lock()
        .map(|mut reported| reported.insert((language, id.to_owned())))
        .unwrap_or(false);
    if first {
        tracing::error!(%language, id, "{what}");
    }
}

fn format(language: Language, id: &str, args: Option<&FluentArgs<'_>>) -> Option<String> {
    let (_, bundle) = BUNDLES.iter().find(|(each, _)| *each == language)?;
    let pattern = bundle.get_message(id)?.value()?;
    let mut errors = Vec::new();
    let text = bundle.format_pattern(pattern, args, &mut errors);
    if !errors.is_empty() {
        report_once(language, id, "a message did not format cleanly");
    }
    Some(text.into_owned())
}

/// The message `id` in `language`, with `args` in its placeables; the
/// English message when `language`'s catalog lacks it, and the id itself
/// (logged once) when no catalog has it.
pub fn t(language: Language, id: &str, args: Option<&FluentArgs<'_>>) -> String {
    if let Some(text) = format(language, id, args) {
        return text;
    }
    report_once(language, id, "a message is missing from the catalog");
    format(Language::En, id, args).unwrap_or_else(|| id.to_owned())
}

#[cfg(test)]
mod tests;
