//! Stripe API versions: which shape of objects an event carries.
//!
//! A webhook endpoint gets the API version it was created with (or the
//! account's default), and every event says it in `api_version`. On
//! 2025-03-31 ("basil") Stripe reshaped billing: an Invoice lost `charge`,
//! `payment_intent` and its top-level `subscription` (now
//! `parent.subscription_details`), a Charge lost `invoice`, and invoices
//! and payments are linked by `invoice_payment` objects (event
//! `invoice_payment.paid`). Soloist reads both shapes:
//!
//! - a version dated before 2025-03-31: [`Shape::Legacy`];
//! - from 2025-03-31 up to [`PINNED`], the newest this code knows:
//!   [`Shape::Current`];
//! - a later (or unreadable) version: refused as unsupported, so Stripe
//!   retries it while the event waits in the log (see `webhook`);
//! - no `api_version` at all (events built by hand, some tools): the
//!   fields decide.

use serde_json::Value;
use time::{Date, Month};

/// The `Stripe-Version` every API call sends, and the newest version whose
/// events Soloist applies (the one the official SDKs target today).
pub const PINNED: &str = "2026-11-18.endive";

/// The day Stripe moved invoice payments to `invoice_payment` objects.
pub const CURRENT_SINCE: &str = "2025-03-31";

/// Which object shapes an event carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Before 2025-03-31: `invoice.charge`, `invoice.subscription`,
    /// `charge.invoice`.
    Legacy,
    /// From 2025-03-31: `invoice.parent`, `invoice_payment` objects.
    Current,
}

impl Shape {
    /// How the event log names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Legacy => "before 2025-03-31",
            Self::Current => "since 2025-03-31",
        }
    }
}

fn date_of(version: &str) -> Option<Date> {
    let day = version.split_once('.').map_or(version, |(day, _)| day);
    let mut parts = day.splitn(3, '-');
    let (year_text, month_text, day_text) = (parts.next()?, parts.next()?, parts.next()?);
    if year_text.len() != 4 || month_text.len() != 2 || day_text.len() != 2 {
        return None;
    }
    let year = year_text.parse::<i32>().ok().filter(|year| *year >= 2011)?;
    let month = Month::try_from(month_text.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, day_text.parse().ok()?).ok()
}

/// Why an event's version is not applied.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// Newer than [`PINNED`].
    #[error(
        "Stripe API version {0} is newer than this Soloist knows ({PINNED}): upgrade Soloist, \
         or send this endpoint events in version {PINNED} or older"
    )]
    Newer(String),
    /// Not a version.
    #[error("\"{0}\" is not a Stripe API version (YYYY-MM-DD, with an optional .name)")]
    Unreadable(String),
}

/// The shape of an event with `api_version` (if any) and `object`.
pub fn shape_of(api_version: Option<&str>, object: &Value) -> Result<Shape, Unsupported> {
    let Some(version) = api_version.filter(|version| !version.is_empty()) else {
        return Ok(shape_by_fields(object));
    };
    let printable: String = version.chars().take(64).collect();
    let date = date_of(version).ok_or_else(|| Unsupported::Unreadable(printable.clone()))?;
    let (Some(current_since), Some(pinned)) = (date_of(CURRENT_SINCE), date_of(PINNED)) else {
        return Err(Unsupported::Unreadable(printable));
    };
    if date > pinned {
        Err(Unsupported::Newer(printable))
    } else if date >= current_since {
        Ok(Shape::Current)
    } else {
        Ok(Shape::Legacy)
    }
}

/// The shape an object's own fields show: only legacy invoices have
/// `charge`, `payment_intent` or `subscription`, only legacy charges have
/// `invoice`, and only current invoices have `parent`.
pub fn shape_by_fields(object: &Value) -> Shape {
    let has = |field: &str| object.get(field).is_some();
    match object["object"].as_str() {
        Some("invoice") if has("parent") => Shape::Current,
        Some("invoice") if has("charge") || has("payment_intent") || has("subscription") => {
            Shape::Legacy
        }
        Some("charge") if has("invoice") => Shape::Legacy,
        Some("invoice_payment") => Shape::Current,
        _ => Shape::Current,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_version_reads_in_its_shape_and_a_newer_one_is_refused() {
        let object = json!({ "object": "invoice" });
        for (version, shape) in [
            ("2024-06-20", Shape::Legacy),
            ("2025-02-24.acacia", Shape::Legacy),
            ("2020-08-27", Shape::Legacy),
            ("2025-03-31.basil", Shape::Current),
            ("2025-09-30.clover", Shape::Current),
            (PINNED, Shape::Current),
        ] {
            assert_eq!(shape_of(Some(version), &object), Ok(shape), "{version}");
        }
        assert_eq!(
            shape_of(Some("2027-01-28.fig"), &object),
            Err(Unsupported::Newer("2027-01-28.fig".to_owned()))
        );
        for junk in ["yesterday", "2025-13-01", "2025-3-31", "1999-01-01"] {
            assert!(
                matches!(
                    shape_of(Some(junk), &object),
                    Err(Unsupported::Unreadable(_))
                ),
                "{junk}"
            );
        }
    }

    #[test]
    fn without_a_version_the_fields_decide() {
        let legacy = json!({ "object": "invoice", "charge": "ch_1", "subscription": "sub_1" });
        let current = json!({ "object": "invoice", "parent": { "type": "subscription_details" } });
        let old_charge = json!({ "object": "charge", "invoice": "in_1" });
        assert_eq!(shape_of(None, &legacy), Ok(Shape::Legacy));
        assert_eq!(shape_of(Some(""), &current), Ok(Shape::Current));
        assert_eq!(shape_of(None, &old_charge), Ok(Shape::Legacy));
        assert_eq!(
            shape_of(None, &json!({ "object": "charge" })),
            Ok(Shape::Current)
        );
    }
}
