//! Blog search: what a reader types, parsed into words and turned into a
//! PostgreSQL `tsquery` of prefix terms, and the highlighted snippets of the
//! results.
//!
//! Reader input never reaches `to_tsquery` as typed: it is split into words
//! of letters and digits (every operator and quote is dropped), each word
//! becomes a quoted prefix term (`'postgres':*`), and the terms are joined
//! with `&` (all words must match) or, inside double quotes, `<->` (the words
//! follow each other).

use std::fmt::Write as _;

/// The longest search accepted, in characters (the search box's
/// `maxlength`).
pub const MAX_QUERY_CHARS: usize = 200;

/// The most words a search uses; more only slow the query down.
const MAX_WORDS: usize = 8;

/// The longest word kept, in characters.
const MAX_WORD_CHARS: usize = 40;

/// Where `ts_headline` starts and stops a match. Private-use characters, so
/// no post can contain them once [`plain_for_headline`] has removed them.
pub const MARK_START: char = '\u{E000}';
/// See [`MARK_START`].
pub const MARK_STOP: char = '\u{E001}';

/// A reader's search, as words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchText {
    /// Groups of lowercase words: a lone word, or the words of a quoted
    /// phrase.
    groups: Vec<Vec<String>>,
}

/// Why a search was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SearchInput {
    /// Nothing but spaces: show the blog instead.
    Empty,
    /// Longer than [`MAX_QUERY_CHARS`].
    TooLong,
    /// Only punctuation: nothing to look for.
    NoWords,
}

impl SearchText {
    /// Parses a reader's search.
    pub fn parse(input: &str) -> Result<Self, SearchInput> {
        let input = input.trim();
        if input.is_empty() {
            return Err(SearchInput::Empty);
        }
        if input.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchInput::TooLong);
        }
        let mut groups: Vec<Vec<String>> = Vec::new();
        let mut words = 0;
        for (index, part) in input.split('"').enumerate() {
            let quoted = index % 2 == 1;
            let mut phrase = Vec::new();
            for word in part
                .split(|character: char| !character.is_alphanumeric())
                .filter(|word| !word.is_empty())
            {
                if words == MAX_WORDS {
                    break;
                }
                words += 1;
                let word: String = word.to_lowercase().chars().take(MAX_WORD_CHARS).collect();
                if quoted {
                    phrase.push(word);
                } else {
                    groups.push(vec![word]);
                }
            }
            if !phrase.is_empty() {
                groups.push(phrase);
            }
        }
        if groups.is_empty() {
            return Err(SearchInput::NoWords);
        }
        Ok(Self { groups })
    }

    /// The `to_tsquery` text: every word a quoted prefix term, groups joined
    /// with `&`, the words of a phrase with `<->`. Words hold only letters
    /// and digits, so nothing in them can be read as an operator or end a
    /// quote.
    pub fn tsquery(&self) -> String {
        let mut query = String::new();
        for (index, group) in self.groups.iter().enumerate() {
            if index > 0 {
                query.push_str(" & ");
            }
            query.push('(');
            for (position, word) in group.iter().enumerate() {
                if position > 0 {
                    query.push_str(" <-> ");
                }
                let _ = write!(query, "'{word}':*");
            }
            query.push(')');
        }
        query
    }

    /// Every word, in order.
    pub fn words(&self) -> Vec<String> {
        self.groups.iter().flatten().cloned().collect()
    }

    /// The search with some words replaced (`replacements` in the order of
    /// [`SearchText::words`]), as a reader would type it.
    pub fn with_words(&self, replacements: &[String]) -> String {
        let mut replacements = replacements.iter();
        let mut parts = Vec::new();
        for group in &self.groups {
            let words: Vec<&str> = group
                .iter()
                .map(|word| replacements.next().map_or(word.as_str(), String::as_str))
                .collect();
            if group.len() > 1 {
                parts.push(format!("\"{}\"", words.join(" ")));
            } else {
                parts.push(words.join(" "));
            }
        }
        parts.join(" ")
    }
}

/// `text` without the highlight markers, ready for `ts_headline`.
pub fn plain_for_headline(text: &str) -> String {
    text.chars()
        .filter(|character| *character != MARK_START && *character != MARK_STOP)
        .collect()
}

/// `headline` (fragments of `source` that `ts_headline` chose, joined by
/// " … ") with an ellipsis where it starts after the start of `source` or
/// ends before its end, so a cut sentence reads as cut.
pub fn with_ellipses(headline: &str, source: &str) -> String {
    // Compared by words: ts_headline drops punctuation at the edges.
    let words = |text: &str| {
        text.split(|character: char| !character.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let source = words(source);
    let fragments: Vec<&str> = headline.split(" … ").collect();
    let first = words(&plain_for_headline(fragments.first().unwrap_or(&"")));
    let last = words(&plain_for_headline(fragments.last().unwrap_or(&"")));
    let mut out = headline.trim().to_owned();
    if !source.starts_with(&first) {
        out.insert_str(0, "… ");
    }
    if !source.ends_with(&last) {
        out.push_str(" …");
    }
    out
}

/// HTML from the plain text `ts_headline` returned: everything escaped,
/// then the markers made `<mark>` elements. Content can add no markup: the
/// only tags in the result are the `<mark>`s written here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Highlighted {
    html: String,
    marked: bool,
}

impl Highlighted {
    /// The HTML of a `ts_headline` result.
    pub fn from_headline(headline: &str) -> Self {
        let mut html = String::with_capacity(headline.len() + 32);
        let mut open = false;
        let mut marked = false;
        for character in headline.chars() {
            match character {
                MARK_START if !open => {
                    html.push_str("<mark>");
                    open = true;
                    marked = true;
                }
                MARK_STOP if open => {
                    html.push_str("</mark>");
                    open = false;
                }
                MARK_START | MARK_STOP => {}
                '&' => html.push_str("&amp;"),
                '<' => html.push_str("&lt;"),
                '>' => html.push_str("&gt;"),
                '"' => html.push_str("&quot;"),
                '\'' => html.push_str("&#39;"),
                other => html.push(other),
            }
        }
        if open {
            html.push_str("</mark>");
        }
        Self { html, marked }
    }

    /// The HTML.
    pub fn html(&self) -> &str {
        &self.html
    }

    /// Whether anything is highlighted.
    pub fn is_marked(&self) -> bool {
        self.marked
    }
}

/// The `ts_headline` options: the markers, and about 30 words around the
/// best matches.
pub const HEADLINE_OPTIONS: &str = "StartSel=\u{E000}, StopSel=\u{E001}, MinWords=12, MaxWords=30, \
     MaxFragments=2, FragmentDelimiter=\" … \"";

/// The `ts_headline` options for titles: every match marked, nothing cut.
pub const TITLE_HEADLINE_OPTIONS: &str = "StartSel=\u{E000}, StopSel=\u{E001}, HighlightAll=true";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_become_quoted_prefix_terms_joined_with_and() {
        let search = SearchText::parse("  PostgreSQL   rus ").unwrap();
        assert_eq!(search.tsquery(), "('postgresql':*) & ('rus':*)");
        assert_eq!(search.words(), vec!["postgresql", "rus"]);
    }

    #[test]
    fn operators_and_quotes_of_tsquery_are_dropped() {
        let search = SearchText::parse("a' | b:* & !c <-> (d) \\ e;--").unwrap();
        assert_eq!(
            search.tsquery(),
            "('a':*) & ('b':*) & ('c':*) & ('d':*) & ('e':*)"
        );
        assert_eq!(SearchText::parse("!&|:*()'"), Err(SearchInput::NoWords));
    }

    #[test]
    fn quoted_words_are_a_phrase() {
        let search = SearchText::parse("\"shallow water\" heron").unwrap();
        assert_eq!(
            search.tsquery(),
            "('shallow':* <-> 'water':*) & ('heron':*)"
        );
        assert_eq!(
            search.with_words(&["shallow".into(), "waters".into(), "herons".into()]),
            "\"shallow waters\" herons"
        );
    }

    #[test]
    fn empty_long_and_many_word_searches() {
        assert_eq!(SearchText::parse(" \t\n "), Err(SearchInput::Empty));
        assert_eq!(
            SearchText::parse(&"a".repeat(MAX_QUERY_CHARS + 1)),
            Err(SearchInput::TooLong)
        );
        let many = SearchText::parse(&"word ".repeat(30)).unwrap();
        assert_eq!(many.words().len(), MAX_WORDS);
        let unicode = SearchText::parse("Café Ünïcode 東京").unwrap();
        assert_eq!(unicode.words(), vec!["café", "ünïcode", "東京"]);
    }

    #[test]
    fn cut_snippets_say_so() {
        let source = "One two  three\nfour five six seven";
        assert_eq!(
            with_ellipses("two three \u{E000}four\u{E001}", source),
            "… two three \u{E000}four\u{E001} …"
        );
        assert_eq!(with_ellipses("One two three", source), "One two three …");
        assert_eq!(
            with_ellipses("five six seven", "four, five six seven."),
            "… five six seven"
        );
        assert_eq!(
            with_ellipses("One two … six seven", source),
            "One two … six seven"
        );
    }

    #[test]
    fn highlights_escape_everything_but_the_marks() {
        let highlighted = Highlighted::from_headline(
            "a <script>alert(\"x\")</script> & \u{E000}postgres\u{E001}'s \u{E001}\u{E000}ok",
        );
        assert_eq!(
            highlighted.html(),
            "a &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; <mark>postgres</mark>&#39;s <mark>ok</mark>"
        );
        assert!(highlighted.is_marked());
        assert!(!Highlighted::from_headline("plain").is_marked());
        assert_eq!(plain_for_headline("a\u{E000}b\u{E001}c"), "abc");
    }
}
