//! Slugs: the URL part of posts, tags and categories.

/// The longest slug, in characters.
pub const MAX_SLUG_CHARS: usize = 80;

/// A normalised slug: lower-case letters and digits (any script) separated
/// by single dashes, 1 to 80 characters. Built only by [`Slug::parse`] or
/// [`Slug::from_title`], so a `Slug` is always safe in a URL path and in HTML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slug(String);

impl Slug {
    /// Normalises what a user typed as a slug; `None` when nothing usable
    /// remains (only punctuation, say).
    pub fn parse(text: &str) -> Option<Self> {
        let slug = normalise(text);
        (!slug.is_empty()).then_some(Self(slug))
    }

    /// The slug for a title; titles with no letters or digits at all
    /// (only emoji, say) get `fallback`.
    pub fn from_title(title: &str, fallback: &str) -> Self {
        Self::parse(title).unwrap_or_else(|| Self(fallback.to_owned()))
    }

    /// `slug-n`, kept within the length limit.
    pub fn numbered(&self, n: u32) -> Self {
        let suffix = format!("-{n}");
        let room = MAX_SLUG_CHARS - suffix.chars().count();
        let stem: String = self.0.chars().take(room).collect();
        Self(format!("{}{suffix}", stem.trim_end_matches('-')))
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The slug as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Display for Slug {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

fn normalise(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    let mut count = 0;
    let mut pending_dash = false;
    for character in text.chars().flat_map(char::to_lowercase) {
        if character.is_alphanumeric() {
            if pending_dash && !slug.is_empty() {
                if count + 1 >= MAX_SLUG_CHARS {
                    break;
                }
                slug.push('-');
                count += 1;
            }
            pending_dash = false;
            if count >= MAX_SLUG_CHARS {
                break;
            }
            slug.push(character);
            count += 1;
        } else {
            // Apostrophes join words ("don't" -> "dont"); everything else
            // separates them.
            pending_dash |= !matches!(character, '\'' | '’');
        }
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_letters_and_digits_of_any_script_and_collapse_the_rest() {
        let slug = |text| Slug::parse(text).map(Slug::into_string);
        assert_eq!(slug("Hello, World!").as_deref(), Some("hello-world"));
        assert_eq!(
            slug("  Don't   panic -- 42 ").as_deref(),
            Some("dont-panic-42")
        );
        assert_eq!(slug("Crème Brûlée").as_deref(), Some("crème-brûlée"));
        assert_eq!(
            slug("日本語 の ブログ").as_deref(),
            Some("日本語-の-ブログ")
        );
        assert_eq!(
            slug("<script>alert(1)</script>").as_deref(),
            Some("script-alert-1-script")
        );
        assert_eq!(slug("!!! ???"), None);
        assert_eq!(Slug::from_title("🎉🎉", "post").as_str(), "post");
        let long = "word ".repeat(40);
        let parsed = Slug::parse(&long).unwrap();
        assert!(parsed.as_str().chars().count() <= MAX_SLUG_CHARS);
        assert!(!parsed.as_str().ends_with('-'));
        let numbered = parsed.numbered(12);
        assert!(numbered.as_str().ends_with("-12"));
        assert!(numbered.as_str().chars().count() <= MAX_SLUG_CHARS);
    }
}
