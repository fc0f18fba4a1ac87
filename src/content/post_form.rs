//! The post editor's form: its fields as the browser sends them, and the
//! pure checks that turn them into a [`Draft`] or a message per bad field.
//! No database and no HTTP here, so the fuzz target runs it as the
//! editor does.

use serde::Deserialize;

use crate::content::markdown;
use crate::content::model::{CategoryId, PostWithTags};
use crate::content::slug::Slug;

const TITLE_CHARS: usize = 200;
const CONTENT_CHARS: usize = 100_000;
const EXCERPT_CHARS: usize = 500;
const TAG_CHARS: usize = 40;
const MAX_TAGS: usize = 10;

/// Messages next to the editor's fields.
#[derive(Clone, Debug, Default)]
pub struct EditorErrors {
    /// About the title.
    pub title: Option<String>,
    /// About the content.
    pub content: Option<String>,
    /// About the excerpt.
    pub excerpt: Option<String>,
    /// About the slug.
    pub slug: Option<String>,
    /// About the tags.
    pub tags: Option<String>,
    /// About the category.
    pub category: Option<String>,
    /// About featuring the post.
    pub featured: Option<String>,
}

impl EditorErrors {
    /// Each message with the id of its field, in the form's order.
    pub fn summary(&self) -> Vec<crate::web::forms::Problem> {
        crate::web::forms::Problem::list(&[
            ("title", &self.title),
            ("post-content", &self.content),
            ("excerpt", &self.excerpt),
            ("slug", &self.slug),
            ("tags", &self.tags),
            ("category", &self.category),
            ("featured", &self.featured),
        ])
    }

    /// Whether any field has a message.
    pub fn any(&self) -> bool {
        self.title.is_some()
            || self.content.is_some()
            || self.excerpt.is_some()
            || self.slug.is_some()
            || self.tags.is_some()
            || self.category.is_some()
            || self.featured.is_some()
    }
}

/// The editor form, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PostForm {
    /// The title.
    #[serde(default)]
    pub title: String,
    /// The Markdown.
    #[serde(default)]
    pub content: String,
    /// The excerpt ("" to derive it).
    #[serde(default)]
    pub excerpt: String,
    /// The slug ("" to derive it from the title).
    #[serde(default)]
    pub slug: String,
    /// Tags, comma-separated.
    #[serde(default)]
    pub tags: String,
    /// The category's id ("" for none).
    #[serde(default)]
    pub category: String,
    /// Present when the post is to be featured.
    #[serde(default)]
    pub featured: Option<String>,
    /// "preview" to see the post rendered instead of saving it.
    #[serde(default)]
    pub action: String,
}

impl PostForm {
    /// The form showing `post` as saved.
    pub fn from_post(post: &PostWithTags) -> Self {
        let content = post.post.content.clone().unwrap_or_default();
        let excerpt = post.post.excerpt.clone().unwrap_or_default();
        Self {
            // An excerpt that is the derived one shows as empty, so editing
            // the content keeps deriving it (also one derived the way
            // excerpts were before they kept to prose: saving re-derives it).
            excerpt: if excerpt == markdown::excerpt(&content)
                || excerpt == markdown::excerpt_of_every_text(&content)
            {
                String::new()
            } else {
                excerpt
            },
            title: post.post.title.clone(),
            content,
            slug: post.post.slug.clone(),
            tags: post
                .tags
                .iter()
                .map(|tag| tag.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            category: post
                .post
                .category_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            featured: post.post.featured.unwrap_or(false).then(|| "on".to_owned()),
            action: String::new(),
        }
    }

    /// Whether the author asked for a preview rather than a save.
    pub fn is_preview(&self) -> bool {
        self.action == "preview"
    }
}

/// A tag the author typed: its display name and slug.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagInput {
    /// Display name, as typed (trimmed).
    pub name: String,
    /// Normalised slug.
    pub slug: Slug,
}

/// Parses "rust, Web Dev, async" into at most ten tags, de-duplicated by
/// slug (so "Rust" and "rust" are one tag).
pub fn parse_tags(text: &str) -> Result<Vec<TagInput>, String> {
    let mut tags: Vec<TagInput> = Vec::new();
    for part in text.split([',', '\n']) {
        let name = part.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            continue;
        }
        if name.chars().count() > TAG_CHARS {
            return Err(format!("Keep each tag under {TAG_CHARS} characters."));
        }
        let Some(slug) = Slug::parse(&name) else {
            return Err(format!(
                "“{name}” has no letters or digits: it can't be a tag."
            ));
        };
        if !tags.iter().any(|tag| tag.slug == slug) {
            tags.push(TagInput { name, slug });
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("Use at most {MAX_TAGS} tags."));
    }
    Ok(tags)
}

/// A checked editor form: a post as its author wants it saved.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The title, trimmed, 1 to 200 characters without control characters.
    pub title: String,
    /// The Markdown, every line break as `\n`.
    pub content: String,
    /// The excerpt the author typed, whitespace collapsed ("" to derive it).
    pub excerpt: String,
    /// The slug the author typed, if any.
    pub typed_slug: Option<Slug>,
    /// The tags, de-duplicated by slug.
    pub tags: Vec<TagInput>,
    /// The chosen category.
    pub category: Option<CategoryId>,
    /// Whether to feature the post.
    pub featured: bool,
}

impl Draft {
    /// The author's excerpt, or the first words of the content.
    pub fn excerpt_or_derived(&self) -> String {
        if self.excerpt.is_empty() {
            markdown::excerpt(&self.content)
        } else {
            self.excerpt.clone()
        }
    }
}

/// Checks an editor form as `POST /posts` and `POST /posts/{id}` do: the
/// draft, or `None` with a message in `errors` per bad field.
pub fn parse_form(form: &PostForm, errors: &mut EditorErrors) -> Option<Draft> {
    let title = form.title.trim().to_owned();
    if title.is_empty() {
        errors.title = Some("Give the post a title.".to_owned());
    } else if title.chars().count() > TITLE_CHARS {
        errors.title = Some(format!("Keep the title under {TITLE_CHARS} characters."));
    } else if title.chars().any(char::is_control) {
        errors.title =
            Some("The title can't contain line breaks or control characters.".to_owned());
    }
    // Every line break as "\n": a lone "\r" is one too (CommonMark), and
    // "\r\r\n" must not leave a "\r\n" behind.
    let content = form.content.replace("\r\n", "\n").replace('\r', "\n");
    if content.chars().count() > CONTENT_CHARS {
        errors.content = Some(format!(
            "Posts can be at most {CONTENT_CHARS} characters long."
        ));
    }
    let excerpt = form
        .excerpt
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if excerpt.chars().count() > EXCERPT_CHARS {
        errors.excerpt = Some(format!(
            "Keep the excerpt under {EXCERPT_CHARS} characters."
        ));
    }
    let typed_slug = if form.slug.trim().is_empty() {
        None
    } else {
        let slug = Slug::parse(&form.slug);
        if slug.is_none() {
            errors.slug = Some("Use letters, digits and dashes in the address.".to_owned());
        }
        slug
    };
    let tags = parse_tags(&form.tags).unwrap_or_else(|message| {
        errors.tags = Some(message);
        Vec::new()
    });
    let category = match form.category.trim() {
        "" => None,
        text => match uuid::Uuid::try_parse(text) {
            Ok(id) => Some(CategoryId(id)),
            Err(_) => {
                errors.category = Some("Choose a category from the list.".to_owned());
                None
            }
        },
    };
    if errors.any() {
        return None;
    }
    Some(Draft {
        title,
        content,
        excerpt,
        typed_slug,
        tags,
        category,
        featured: form.featured.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_deduplicated_by_slug_and_limited() {
        let tags = parse_tags(" Rust, rust ,Web   Dev,, async\n").unwrap();
        let names: Vec<&str> = tags.iter().map(|tag| tag.name.as_str()).collect();
        assert_eq!(names, ["Rust", "Web Dev", "async"]);
        assert_eq!(tags[1].slug.as_str(), "web-dev");
        assert!(parse_tags("!!!").is_err());
        assert!(parse_tags(&"t,".repeat(5)).is_ok());
        let eleven: Vec<String> = (0..11).map(|n| format!("tag{n}")).collect();
        assert!(parse_tags(&eleven.join(",")).is_err());
        assert!(parse_tags(&"x".repeat(41)).is_err());
    }
}
