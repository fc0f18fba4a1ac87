//! The category form: what the admin typed, checked into the fields a
//! category is saved with, or a message next to each bad field.

use serde::Deserialize;

use super::super::feeds::is_hex_color;
use crate::content::categories::CategorySaved;
use crate::content::model::Category;
use crate::content::slug::Slug;
use crate::content::store::CategoryFields;
use crate::web::page_error::PageError;

/// The category form's values and messages.
#[derive(Clone, Debug, Default)]
pub struct CategoryFormView {
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Description.
    pub description: String,
    /// Colour.
    pub color: String,
    /// Order.
    pub sort_order: String,
    /// Active.
    pub active: bool,
    /// About the name.
    pub name_error: Option<String>,
    /// About the slug.
    pub slug_error: Option<String>,
    /// About the colour.
    pub color_error: Option<String>,
    /// About the order.
    pub sort_order_error: Option<String>,
    /// About the description.
    pub description_error: Option<String>,
}

impl CategoryFormView {
    /// Each message with the id of its field, in the form's order.
    pub fn summary(&self) -> Vec<crate::web::forms::Problem> {
        crate::web::forms::Problem::list(&[
            ("name", &self.name_error),
            ("slug", &self.slug_error),
            ("color", &self.color_error),
            ("sort_order", &self.sort_order_error),
            ("description", &self.description_error),
        ])
    }

    /// The form for a new category.
    pub(super) fn blank() -> Self {
        Self {
            color: "#6366f1".to_owned(),
            sort_order: "0".to_owned(),
            active: true,
            ..Self::default()
        }
    }

    /// The form showing `category`.
    pub(super) fn of(category: &Category) -> Self {
        Self {
            name: category.name.clone(),
            slug: category.slug.clone(),
            description: category.description.clone().unwrap_or_default(),
            color: category
                .color
                .clone()
                .unwrap_or_else(|| "#6366f1".to_owned()),
            sort_order: category.sort_order.unwrap_or(0).to_string(),
            active: category.is_active.unwrap_or(true),
            ..Self::default()
        }
    }

    fn has_errors(&self) -> bool {
        self.name_error.is_some()
            || self.slug_error.is_some()
            || self.color_error.is_some()
            || self.sort_order_error.is_some()
            || self.description_error.is_some()
    }
}

/// The category form.
#[derive(Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    color: String,
    #[serde(default)]
    sort_order: String,
    #[serde(default)]
    active: Option<String>,
}

/// The form's values and messages, and the fields when every one is good.
pub(super) fn parse(form: &CategoryForm) -> (CategoryFormView, Option<CategoryFields>) {
    let mut view = CategoryFormView {
        name: form.name.trim().to_owned(),
        slug: form.slug.trim().to_owned(),
        description: form.description.trim().to_owned(),
        color: form.color.trim().to_owned(),
        sort_order: form.sort_order.trim().to_owned(),
        active: form.active.is_some(),
        ..CategoryFormView::default()
    };
    if view.name.is_empty() {
        view.name_error = Some("Give the category a name.".to_owned());
    } else if view.name.chars().count() > 60 || view.name.chars().any(char::is_control) {
        view.name_error = Some("Use at most 60 characters, on one line.".to_owned());
    }
    let slug = if view.slug.is_empty() {
        Slug::parse(&view.name)
    } else {
        Slug::parse(&view.slug)
    };
    if slug.is_none() && view.name_error.is_none() {
        view.slug_error = Some("Use letters, digits and dashes in the address.".to_owned());
    }
    if view.description.chars().count() > 500 {
        view.description_error = Some("Keep the description under 500 characters.".to_owned());
    }
    let color = view.color.to_ascii_lowercase();
    if !is_hex_color(&color) {
        view.color_error = Some("Use a colour like #6366f1.".to_owned());
    }
    let sort_order = if view.sort_order.is_empty() {
        Some(0)
    } else {
        view.sort_order
            .parse::<i32>()
            .ok()
            .filter(|order| (-10_000..=10_000).contains(order))
    };
    if sort_order.is_none() {
        view.sort_order_error = Some("Use a whole number between -10000 and 10000.".to_owned());
    }
    let fields = match (slug, sort_order) {
        (Some(slug), Some(sort_order)) if !view.has_errors() => Some(CategoryFields {
            name: view.name.clone(),
            slug: slug.into_string(),
            description: (!view.description.is_empty()).then(|| view.description.clone()),
            color,
            sort_order,
            is_active: view.active,
        }),
        _ => None,
    };
    (view, fields)
}

/// A refusal of the category rules next to its field (a saved category
/// has nothing to say).
pub(super) fn refused(saved: CategorySaved, view: &mut CategoryFormView) -> Result<(), PageError> {
    match saved {
        CategorySaved::NameTaken => {
            view.name_error = Some("Another category has this name.".to_owned());
        }
        CategorySaved::SlugTaken => {
            view.slug_error = Some("Another category uses this address.".to_owned());
        }
        CategorySaved::NotFound => return Err(PageError::NotFound),
        CategorySaved::Saved(_) => {}
    }
    Ok(())
}
