//! The merge rule (a payment only moves forward, whatever the order of the
//! news) and writing its result with an audit row.

use serde_json::Value;

use super::Transaction;
use crate::audit::{self, AuditAction, AuditEntity};
use crate::billing::event_log::Fate;
use crate::billing::model::{Payment, PaymentStatus, SubscriptionId};
use crate::billing::store;
use crate::billing::webhook::{Event, Handled};
use crate::web::page_error::PageError;

/// How far along a payment is: a status never gives way to a lower one.
fn rank(status: PaymentStatus) -> u8 {
    match status {
        PaymentStatus::Pending | PaymentStatus::Canceled => 0,
        PaymentStatus::Failed => 1,
        PaymentStatus::Succeeded => 2,
        PaymentStatus::Refunded => 3,
    }
}

/// What one event says of a payment.
#[derive(Clone, Debug, Default)]
pub struct News {
    /// The status the event implies.
    pub status: Option<PaymentStatus>,
    /// The amount that goes with that status.
    pub amount_cents: Option<i32>,
    /// `pi_...`.
    pub payment_intent: Option<String>,
    /// `ch_...`.
    pub charge: Option<String>,
    /// The amount refunded so far, in cents.
    pub amount_refunded: Option<i64>,
    /// Whether the whole charge is refunded.
    pub fully_refunded: bool,
    /// Facts to keep in `metadata`.
    pub metadata: serde_json::Map<String, Value>,
    /// The subscription row, once known.
    pub subscription_id: Option<SubscriptionId>,
}

/// The payment after `news`, by the rules above: the same result whatever
/// order the news comes in.
pub fn merge(before: &Payment, news: &News) -> Payment {
    let mut after = before.clone();
    if let Some(status) = news.status
        && rank(status) > rank(before.status)
    {
        after.status = status;
        if let Some(amount) = news.amount_cents {
            after.amount_cents = amount;
        }
    }
    if news.fully_refunded {
        after.status = PaymentStatus::Refunded;
    }
    if after.amount_cents == 0
        && let Some(amount) = news.amount_cents
    {
        after.amount_cents = amount;
    }
    after.stripe_payment_intent_id = before
        .stripe_payment_intent_id
        .clone()
        .or_else(|| news.payment_intent.clone());
    after.stripe_charge_id = before
        .stripe_charge_id
        .clone()
        .or_else(|| news.charge.clone());
    after.subscription_id = before.subscription_id.or(news.subscription_id);
    let mut metadata = match &before.metadata {
        Some(Value::Object(map)) => map.clone(),
        _ => serde_json::Map::new(),
    };
    for (key, value) in &news.metadata {
        if !value.is_null() {
            metadata.insert(key.clone(), value.clone());
        }
    }
    let refunded = metadata
        .get("amount_refunded")
        .and_then(Value::as_i64)
        .into_iter()
        .chain(news.amount_refunded)
        .max();
    if let Some(refunded) = refunded {
        metadata.insert("amount_refunded".to_owned(), refunded.into());
    }
    after.metadata = Some(Value::Object(metadata));
    after
}

/// Applies `news` to a locked payment row with its audit row; returns the
/// row after and whether it changed.
pub async fn update(
    transaction: &Transaction<'_>,
    event: &Event<'_>,
    before: &Payment,
    news: &News,
) -> Result<(Payment, bool), PageError> {
    let merged = merge(before, news);
    if merged == *before {
        return Ok((merged, false));
    }
    let after = store::update_stripe_payment(transaction, &merged).await?;
    let changes = audit::changed(before, &after);
    if !changes.is_empty() {
        audit::store::record(
            transaction,
            &event.actor_entry(
                AuditAction::Update,
                AuditEntity::Payments,
                after.id.0,
                changes,
            ),
        )
        .await?;
    }
    Ok((after, true))
}

/// The ids a payment is known by, which parked events may wait for.
pub(super) fn keys(payment: &Payment) -> Vec<String> {
    [
        payment.stripe_invoice_id.clone(),
        payment.stripe_payment_intent_id.clone(),
        payment.stripe_charge_id.clone(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub(super) fn applied(payment: &Payment, changed: bool, wrote: Vec<String>) -> Handled {
    let mut fate = Fate::applied(Some(payment.user_id), Some(payment.id));
    if !changed {
        fate.reason = Some("the payment already showed this".to_owned());
    }
    Handled { fate, wrote }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::model::UserId;
    use crate::billing::model::PaymentId;

    fn payment(status: PaymentStatus) -> Payment {
        Payment {
            id: PaymentId(uuid::Uuid::nil()),
            user_id: UserId(uuid::Uuid::nil()),
            subscription_id: None,
            amount_cents: 1200,
            currency: "USD".to_owned(),
            status,
            stripe_payment_intent_id: None,
            stripe_charge_id: None,
            description: None,
            metadata: None,
            stripe_invoice_id: Some("in_1".to_owned()),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn paid() -> News {
        News {
            status: Some(PaymentStatus::Succeeded),
            amount_cents: Some(1200),
            ..News::default()
        }
    }

    fn refunded(amount: i64, full: bool) -> News {
        News {
            status: Some(PaymentStatus::Succeeded),
            charge: Some("ch_1".to_owned()),
            amount_refunded: Some(amount),
            fully_refunded: full,
            ..News::default()
        }
    }

    #[test]
    fn a_payment_never_moves_backwards() {
        let refunded_row = merge(&payment(PaymentStatus::Succeeded), &refunded(1200, true));
        assert_eq!(refunded_row.status, PaymentStatus::Refunded);
        assert_eq!(
            merge(&refunded_row, &paid()).status,
            PaymentStatus::Refunded
        );
        let failed = News {
            status: Some(PaymentStatus::Failed),
            ..News::default()
        };
        assert_eq!(
            merge(&payment(PaymentStatus::Succeeded), &failed).status,
            PaymentStatus::Succeeded
        );
        assert_eq!(
            merge(&payment(PaymentStatus::Failed), &paid()).status,
            PaymentStatus::Succeeded
        );
    }

    #[test]
    fn refunds_in_any_order_keep_the_largest_amount() {
        let row = payment(PaymentStatus::Succeeded);
        let orders = [
            [refunded(300, false), refunded(1200, true)],
            [refunded(1200, true), refunded(300, false)],
        ];
        for [first, second] in orders {
            let after = merge(&merge(&row, &first), &second);
            assert_eq!(after.status, PaymentStatus::Refunded);
            assert_eq!(
                after
                    .metadata
                    .as_ref()
                    .map(|m| m["amount_refunded"].clone()),
                Some(1200.into())
            );
        }
        let partial = merge(&row, &refunded(300, false));
        assert_eq!(partial.status, PaymentStatus::Succeeded);
        assert_eq!(merge(&partial, &refunded(300, false)), partial);
    }
}
