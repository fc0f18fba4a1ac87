//! The settings form: what the administrator typed, checked into the
//! fields that are saved, or a message next to each bad field.

use serde::Deserialize;

use super::SiteSettings;
use super::accent::{Rgb, refusal};
use super::store::SettingsFields;
use crate::web::forms::Problem;

/// The longest name, tagline and description (as the table's checks).
pub const NAME_MAX: usize = 60;
/// See [`NAME_MAX`].
pub const TAGLINE_MAX: usize = 120;
/// See [`NAME_MAX`].
pub const DESCRIPTION_MAX: usize = 300;

/// The settings form as posted.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    site_name: String,
    #[serde(default)]
    tagline: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    accent_color: String,
    #[serde(default)]
    time_zone: String,
}

/// The form's values and its messages.
#[derive(Clone, Debug, Default)]
pub struct SettingsView {
    /// The site's name.
    pub site_name: String,
    /// Its tagline.
    pub tagline: String,
    /// Its description.
    pub description: String,
    /// `#rrggbb`, empty for the stylesheet's own.
    pub accent_color: String,
    /// The time zone.
    pub time_zone: String,
    /// About the name.
    pub site_name_error: Option<String>,
    /// About the tagline.
    pub tagline_error: Option<String>,
    /// About the description.
    pub description_error: Option<String>,
    /// About the colour.
    pub accent_color_error: Option<String>,
    /// About the time zone.
    pub time_zone_error: Option<String>,
}

impl SettingsView {
    /// The form showing `settings`.
    pub fn of(settings: &SiteSettings) -> Self {
        Self {
            site_name: settings.site_name.clone(),
            tagline: settings.tagline.clone(),
            description: settings.description.clone(),
            accent_color: settings.accent_color.clone().unwrap_or_default(),
            time_zone: settings.time_zone.clone(),
            ..Self::default()
        }
    }

    /// Each message with the field it is about, in form order (the error
    /// summary at the top of the form).
    pub fn problems(&self) -> Vec<Problem> {
        Problem::list(&[
            ("site_name", &self.site_name_error),
            ("tagline", &self.tagline_error),
            ("description", &self.description_error),
            ("accent_color", &self.accent_color_error),
            ("time_zone", &self.time_zone_error),
        ])
    }
}

fn one_line(text: &str, max: usize, what: &str) -> Option<String> {
    if text.chars().count() > max {
        Some(format!("Keep the {what} to {max} characters or fewer."))
    } else if text.chars().any(char::is_control) {
        Some(format!("Write the {what} on one line."))
    } else {
        None
    }
}

/// The form's values and messages, and the fields when every one is good
/// (the time zone is checked against the database by the caller).
pub fn parse(form: &SettingsForm) -> (SettingsView, Option<SettingsFields>) {
    let mut view = SettingsView {
        site_name: form.site_name.trim().to_owned(),
        tagline: form.tagline.trim().to_owned(),
        description: form.description.trim().replace("\r\n", "\n"),
        accent_color: form.accent_color.trim().to_ascii_lowercase(),
        time_zone: form.time_zone.trim().chars().take(64).collect(),
        ..SettingsView::default()
    };
    view.site_name_error = if view.site_name.is_empty() {
        Some("Give the site a name.".to_owned())
    } else {
        one_line(&view.site_name, NAME_MAX, "name")
    };
    view.tagline_error = one_line(&view.tagline, TAGLINE_MAX, "tagline");
    view.description_error = if view.description.chars().count() > DESCRIPTION_MAX {
        Some(format!(
            "Keep the description to {DESCRIPTION_MAX} characters or fewer."
        ))
    } else if view
        .description
        .chars()
        .any(|c| c.is_control() && c != '\n')
    {
        Some("Use plain text in the description.".to_owned())
    } else {
        None
    };
    let accent_color = if view.accent_color.is_empty() {
        None
    } else {
        match Rgb::parse(&view.accent_color) {
            Some(color) => {
                view.accent_color_error = refusal(color);
                Some(color.hex())
            }
            None => {
                view.accent_color_error =
                    Some("Write the colour as # and six hex digits, such as #0f766e.".to_owned());
                None
            }
        }
    };
    if view.time_zone.is_empty() {
        view.time_zone = "UTC".to_owned();
    }
    let fields = view.problems().is_empty().then(|| SettingsFields {
        site_name: view.site_name.clone(),
        tagline: view.tagline.clone(),
        description: view.description.clone(),
        accent_color,
        time_zone: view.time_zone.clone(),
    });
    (view, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, accent: &str) -> SettingsForm {
        SettingsForm {
            site_name: name.to_owned(),
            tagline: "Notes on databases".to_owned(),
            description: "A blog.\r\nWith two lines.".to_owned(),
            accent_color: accent.to_owned(),
            time_zone: " Europe/Berlin ".to_owned(),
        }
    }

    #[test]
    fn good_settings_become_fields() {
        let (view, fields) = parse(&form("  Field Notes ", "#0F766E"));
        assert!(view.problems().is_empty());
        let fields = fields.unwrap();
        assert_eq!(fields.site_name, "Field Notes");
        assert_eq!(fields.accent_color.as_deref(), Some("#0f766e"));
        assert_eq!(fields.time_zone, "Europe/Berlin");
        assert_eq!(fields.description, "A blog.\nWith two lines.");
    }

    #[test]
    fn an_empty_colour_means_the_stylesheets_own() {
        let (_, fields) = parse(&form("Field Notes", ""));
        assert_eq!(fields.unwrap().accent_color, None);
    }

    #[test]
    fn each_bad_field_gets_its_message() {
        let (view, fields) = parse(&SettingsForm {
            site_name: String::new(),
            tagline: "x".repeat(121),
            description: "bell\u{7}".to_owned(),
            accent_color: "yellow".to_owned(),
            time_zone: String::new(),
        });
        assert!(fields.is_none());
        let problems = view.problems();
        let fields: Vec<&str> = problems
            .iter()
            .map(|problem| problem.field.as_str())
            .collect();
        assert_eq!(
            fields,
            ["site_name", "tagline", "description", "accent_color"]
        );
        assert_eq!(view.time_zone, "UTC");
    }

    #[test]
    fn a_colour_too_pale_for_white_text_is_refused() {
        let (view, fields) = parse(&form("Field Notes", "#fde047"));
        assert!(fields.is_none());
        assert!(
            view.accent_color_error
                .unwrap()
                .contains("too light for white button text")
        );
    }
}
