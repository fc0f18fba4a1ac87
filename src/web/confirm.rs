//! A second step before an action that can't be undone: the first POST,
//! without `confirm=yes`, changes nothing and answers a page that says what
//! will happen, with a "Yes, …" button that sends the same form again
//! confirmed, and a way back. No script needed.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use serde::Deserialize;

use super::pages::{Layout, render};
use super::visitor::Visitor;

/// The value of the `confirm` field that says "yes, do it".
pub const YES: &str = "yes";

/// A form that carries nothing but the confirmation.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ConfirmForm {
    /// [`YES`] once the visitor has confirmed.
    #[serde(default)]
    pub confirm: String,
}

impl ConfirmForm {
    /// Whether the visitor confirmed.
    pub fn confirmed(&self) -> bool {
        self.confirm == YES
    }
}

/// The question before an action.
#[derive(Template)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    /// The layout.
    pub layout: Layout,
    /// "Deactivate Alice?".
    pub heading: String,
    /// What will happen, a sentence each.
    pub consequences: Vec<String>,
    /// Where the confirmed form goes (the same action).
    pub action: String,
    /// The form's other fields, sent again: (name, value).
    pub fields: Vec<(String, String)>,
    /// "Yes, deactivate Alice".
    pub yes: String,
    /// Where "Cancel" leads.
    pub cancel_url: String,
}

impl ConfirmPage {
    /// The question `heading` for `visitor`, its form going to `action`.
    pub fn new(
        visitor: &Visitor,
        heading: impl Into<String>,
        action: impl Into<String>,
        cancel_url: impl Into<String>,
    ) -> Self {
        let heading = heading.into();
        Self {
            layout: Layout::for_visitor(visitor, heading.clone(), "Confirm before going on."),
            heading,
            consequences: Vec::new(),
            action: action.into(),
            fields: Vec::new(),
            yes: "Yes, go on".to_owned(),
            cancel_url: cancel_url.into(),
        }
    }

    /// Says one more thing that will happen.
    pub fn saying(mut self, consequence: impl Into<String>) -> Self {
        self.consequences.push(consequence.into());
        self
    }

    /// Sends `name=value` again with the confirmed form.
    pub fn keeping(mut self, name: &str, value: &str) -> Self {
        self.fields.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The label of the button that confirms.
    pub fn yes(mut self, label: impl Into<String>) -> Self {
        self.yes = label.into();
        self
    }

    /// The page, as a response (200: nothing went wrong, nothing changed).
    pub fn response(&self) -> HttpResponse {
        render(self, StatusCode::OK)
    }
}
