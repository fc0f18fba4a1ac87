//! The plan form: what the admin typed, checked into a plan, or a message
//! next to each bad field.

use serde::Deserialize;

use crate::billing::model::{NewPlan, Plan, PlanInterval};
use crate::billing::money;
use crate::billing::plans::PlanSaved;
use crate::web::page_error::PageError;

/// The plan form's values and messages.
#[derive(Clone, Debug, Default)]
pub struct PlanFormView {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Price as typed ("12.00").
    pub price: String,
    /// Currency.
    pub currency: String,
    /// month or year.
    pub interval: String,
    /// One feature a line.
    pub features: String,
    /// Order.
    pub sort_order: String,
    /// Stripe Price id.
    pub stripe_price_id: String,
    /// Offered to new subscribers.
    pub active: bool,
    /// Messages by field.
    pub errors: Vec<(String, String)>,
}

impl PlanFormView {
    /// Each field's message with the field's id, in the form's order
    /// (the delete button's message is shown beside it instead).
    pub fn summary(&self) -> Vec<crate::web::forms::Problem> {
        self.errors
            .iter()
            .filter(|(field, _)| field != "delete")
            .map(|(field, message)| crate::web::forms::Problem {
                field: field.clone(),
                message: message.clone(),
            })
            .collect()
    }

    /// The message for `field`.
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, message)| message.as_str())
    }

    /// The form for a new plan.
    pub(super) fn blank() -> Self {
        Self {
            currency: "USD".to_owned(),
            interval: "month".to_owned(),
            sort_order: "0".to_owned(),
            active: true,
            ..Self::default()
        }
    }

    /// The form showing `plan`.
    pub(super) fn of(plan: &Plan) -> Self {
        let cents = i64::from(plan.price_cents);
        Self {
            name: plan.name.clone(),
            description: plan.description.clone().unwrap_or_default(),
            price: money::plain(cents, &plan.currency),
            currency: plan.currency.clone(),
            interval: plan.interval.as_str().to_owned(),
            features: plan.features.clone().unwrap_or_default().join("\n"),
            sort_order: plan.sort_order.unwrap_or(0).to_string(),
            stripe_price_id: plan.stripe_price_id.clone().unwrap_or_default(),
            active: plan.is_active,
            errors: Vec::new(),
        }
    }
}

/// The plan form.
#[derive(Deserialize)]
pub struct PlanForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    interval: String,
    #[serde(default)]
    features: String,
    #[serde(default)]
    sort_order: String,
    #[serde(default)]
    stripe_price_id: String,
    #[serde(default)]
    active: Option<String>,
}

/// The form's values and messages, and the plan (with whether it is
/// offered) when every field is good.
pub(super) fn parse_plan(form: &PlanForm) -> (PlanFormView, Option<(NewPlan, bool)>) {
    let mut view = PlanFormView {
        name: form.name.trim().to_owned(),
        description: form.description.trim().to_owned(),
        price: form.price.trim().to_owned(),
        currency: form.currency.trim().to_ascii_uppercase(),
        interval: form.interval.trim().to_owned(),
        features: form.features.replace("\r\n", "\n").trim().to_owned(),
        sort_order: form.sort_order.trim().to_owned(),
        stripe_price_id: form.stripe_price_id.trim().to_owned(),
        active: form.active.is_some(),
        errors: Vec::new(),
    };
    let error = view_error;
    let mut errors = Vec::new();
    if view.name.is_empty()
        || view.name.chars().count() > 60
        || view.name.chars().any(char::is_control)
    {
        errors.push(error(
            "name",
            "Give the plan a name of at most 60 characters.",
        ));
    }
    if view.description.chars().count() > 500 {
        errors.push(error(
            "description",
            "Keep the description under 500 characters.",
        ));
    }
    if view.currency.len() != 3 || !view.currency.chars().all(|c| c.is_ascii_uppercase()) {
        errors.push(error(
            "currency",
            "Use a three-letter currency code such as USD or EUR.",
        ));
    }
    let price = money::parse_cents(&view.price, &view.currency);
    if price.is_none() {
        errors.push(error("price", "Enter a price such as 12 or 12.50."));
    }
    let interval = view.interval.parse::<PlanInterval>().ok();
    if interval.is_none() {
        errors.push(error("interval", "Choose monthly or yearly."));
    }
    let features: Vec<String> = view
        .features
        .lines()
        .map(|line| line.trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect();
    if features.len() > 20 || features.iter().any(|feature| feature.chars().count() > 100) {
        errors.push(error(
            "features",
            "Use at most 20 features of at most 100 characters.",
        ));
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
        errors.push(error(
            "sort_order",
            "Use a whole number between -10000 and 10000.",
        ));
    }
    let price_id = (!view.stripe_price_id.is_empty()).then(|| view.stripe_price_id.clone());
    if price_id.as_ref().is_some_and(|id| {
        !id.starts_with("price_")
            || id.len() > 255
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    }) {
        errors.push(error(
            "stripe_price_id",
            "A Stripe Price id looks like price_1Abc…",
        ));
    }
    view.errors = errors;
    let plan = match (price, interval, sort_order) {
        (Some(price_cents), Some(interval), Some(sort_order)) if view.errors.is_empty() => Some((
            NewPlan {
                name: view.name.clone(),
                description: (!view.description.is_empty()).then(|| view.description.clone()),
                price_cents,
                currency: view.currency.clone(),
                interval,
                features,
                sort_order,
                stripe_price_id: price_id,
            },
            view.active,
        )),
        _ => None,
    };
    (view, plan)
}

/// A message for `field`.
pub(super) fn view_error(field: &str, message: &str) -> (String, String) {
    (field.to_owned(), message.to_owned())
}

/// A refusal of the plan rules next to its field (a saved plan has nothing
/// to say).
pub(super) fn refused(saved: PlanSaved, view: &mut PlanFormView) -> Result<(), PageError> {
    match saved {
        PlanSaved::NameTaken => {
            view.errors
                .push(view_error("name", "Another plan has this name."));
        }
        PlanSaved::PriceTaken => {
            view.errors.push(view_error(
                "stripe_price_id",
                "Another plan is sold at this Stripe Price.",
            ));
        }
        PlanSaved::NotFound => return Err(PageError::NotFound),
        PlanSaved::Saved(_) => {}
    }
    Ok(())
}
