use std::collections::{BTreeMap, BTreeSet};

use fluent_bundle::{FluentArgs, FluentResource};
use fluent_syntax::ast;

use super::{Language, t};

/// Each message of a catalog with the variables its placeables use.
fn messages(language: Language) -> BTreeMap<String, BTreeSet<String>> {
    let resource = match FluentResource::try_new(language.catalog().to_owned()) {
        Ok(resource) => resource,
        Err((_, errors)) => panic!("{language}.ftl does not parse: {errors:?}"),
    };
    let mut messages = BTreeMap::new();
    for entry in resource.entries() {
        if let ast::Entry::Message(message) = entry {
            let mut variables = BTreeSet::new();
            if let Some(pattern) = &message.value {
                pattern_variables(pattern, &mut variables);
            }
            for attribute in &message.attributes {
                pattern_variables(&attribute.value, &mut variables);
            }
            let repeated = messages.insert(message.id.name.to_owned(), variables);
            assert!(
                repeated.is_none(),
                "{language}.ftl repeats {}",
                message.id.name
            );
        }
    }
    messages
}

fn pattern_variables(pattern: &ast::Pattern<&str>, variables: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_variables(expression, variables);
        }
    }
}

fn expression_variables(expression: &ast::Expression<&str>, variables: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Inline(inline) => inline_variables(inline, variables),
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, variables);
            for variant in variants {
                pattern_variables(&variant.value, variables);
            }
        }
    }
}

fn inline_variables(inline: &ast::InlineExpression<&str>, variables: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            variables.insert(id.name.to_owned());
        }
        ast::InlineExpression::Placeable { expression } => {
            expression_variables(expression, variables);
        }
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                inline_variables(argument, variables);
            }
            for argument in &arguments.named {
                inline_variables(&argument.value, variables);
            }
        }
        _ => {}
    }
}

#[test]
fn every_catalog_parses_and_has_every_message_of_english_with_the_same_variables() {
    let english = messages(Language::En);
    assert!(!english.is_empty());
    for &language in Language::ALL {
        let catalog = messages(language);
        let missing: Vec<_> = english
            .keys()
            .filter(|id| !catalog.contains_key(*id))
            .collect();
        let extra: Vec<_> = catalog
            .keys()
            .filter(|id| !english.contains_key(*id))
            .collect();
        assert!(missing.is_empty(), "{language}.ftl lacks {missing:?}");
        assert!(
            extra.is_empty(),
            "{language}.ftl has messages en.ftl lacks: {extra:?}"
        );
        for (id, variables) in &english {
            assert_eq!(
                &catalog[id], variables,
                "{language}.ftl's {id} uses other variables than en.ftl's"
            );
        }
    }
}

#[test]
fn a_message_reads_in_its_language_with_its_arguments_and_no_isolation_marks() {
    let mut args = FluentArgs::new();
    args.set("site", "Soloist");
    let english = t(Language::En, "mail-reset-password-subject", Some(&args));
    let german = t(Language::De, "mail-reset-password-subject", Some(&args));
    assert_eq!(english, "Reset your Soloist password");
    assert!(german.contains("Soloist") && german != english, "{german}");
    assert!(!german.contains(['\u{2068}', '\u{2069}']), "{german:?}");
}

#[test]
fn an_unknown_message_reads_as_its_id() {
    assert_eq!(t(Language::De, "no-such-message", None), "no-such-message");
}

#[test]
fn a_tag_names_its_language_by_its_primary_subtag() {
    assert_eq!(Language::parse("de"), Some(Language::De));
    assert_eq!(Language::parse("DE-at"), Some(Language::De));
    assert_eq!(Language::parse("en_GB"), Some(Language::En));
    assert_eq!(Language::parse("fr"), None);
    assert_eq!(Language::parse(""), None);
    assert_eq!(Language::of_profile(Some("es")), Language::En);
    assert_eq!(Language::of_profile(Some("de")), Language::De);
    assert_eq!(Language::of_profile(None), Language::En);
}

#[test]
fn accept_language_picks_the_complete_language_ranked_highest() {
    let negotiate = |header| Language::negotiate(Some(header));
    assert_eq!(negotiate("de-DE,de;q=0.9"), Language::De);
    assert_eq!(negotiate("de-DE,de;q=0.9,en;q=0.8"), Language::De);
    assert_eq!(negotiate("fr-FR,fr;q=0.9,de;q=0.8,en;q=0.7"), Language::De);
    assert_eq!(negotiate("en;q=0.5, de;q=0.7"), Language::De);
    assert_eq!(negotiate("de;q=0.5, en;q=0.5"), Language::De);
    assert_eq!(negotiate("de;q=0, en;q=0.1"), Language::En);
    assert_eq!(negotiate("fr"), Language::En);
    assert_eq!(negotiate("*"), Language::En);
    assert_eq!(negotiate("de;q=2, x"), Language::En);
    assert_eq!(negotiate("de;q=0.1234"), Language::En);
    assert_eq!(negotiate(""), Language::En);
    assert_eq!(Language::negotiate(None), Language::En);
}
