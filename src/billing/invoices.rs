//! Payments from Stripe's events, in both API shapes (see `versions`):
//! `invoice.paid` / `invoice.payment_succeeded` / `invoice.payment_failed`
//! make or update the invoice's payment row, `invoice_payment.paid` (the
//! current shape) links it to its payment intent and charge, and
//! `charge.refunded` marks it refunded, fully or in part.
//!
//! Whatever the order of delivery, the row ends the same:
//! - a payment only moves forward (pending, failed, succeeded, refunded):
//!   a late `invoice.paid` never undoes a refund, a late failure never
//!   undoes a success, and the refunded amount only grows;
//! - what cannot be applied yet (a refund before its payment, an invoice
//!   before its subscription's user is known, an `invoice_payment` before
//!   its invoice) is parked with the ids it waits for, and applied in the
//!   transaction that writes one of them (`webhook::wake`).

use serde_json::Value;

use super::event_log::Fate;
use super::model::{Payment, PaymentStatus, SubscriptionId};
use super::store::{self, InvoicePayment};
use super::versions::Shape;
use super::webhook::{Event, Handled, id_of, user_in};
use crate::accounts::model::UserId;
use crate::audit;
use crate::web::failure::PageError;

type Transaction<'a> = deadpool_postgres::Transaction<'a>;

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

/// The before/after of what a person sees of a payment.
fn payment_changes(before: Option<&Payment>, after: &Payment) -> Option<Value> {
    let refunded = |payment: Option<&Payment>| {
        payment
            .and_then(|payment| payment.metadata.as_ref())
            .map_or(Value::Null, |metadata| metadata["amount_refunded"].clone())
    };
    audit::diff(&[
        (
            "status",
            serde_json::json!(before.map(|row| row.status.as_str())),
            after.status.as_str().into(),
        ),
        (
            "amount_cents",
            serde_json::json!(before.map(|row| row.amount_cents)),
            after.amount_cents.into(),
        ),
        (
            "currency",
            serde_json::json!(before.map(|row| row.currency.clone())),
            after.currency.clone().into(),
        ),
        ("amount_refunded", refunded(before), refunded(Some(after))),
        (
            "stripe_payment_intent_id",
            serde_json::json!(before.and_then(|row| row.stripe_payment_intent_id.clone())),
            serde_json::json!(after.stripe_payment_intent_id),
        ),
        (
            "stripe_charge_id",
            serde_json::json!(before.and_then(|row| row.stripe_charge_id.clone())),
            serde_json::json!(after.stripe_charge_id),
        ),
        (
            "subscription_id",
            serde_json::json!(before.and_then(|row| row.subscription_id)),
            serde_json::json!(after.subscription_id),
        ),
    ])
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
    if let Some(changes) = payment_changes(Some(before), &after) {
        audit::store::record(
            transaction,
            &event.actor_entry("UPDATE", "payments", after.id.0, Some(changes)),
        )
        .await?;
    }
    Ok((after, true))
}

/// The ids a payment is known by, which parked events may wait for.
fn keys(payment: &Payment) -> Vec<String> {
    [
        payment.stripe_invoice_id.clone(),
        payment.stripe_payment_intent_id.clone(),
        payment.stripe_charge_id.clone(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn applied(payment: &Payment, changed: bool, wrote: Vec<String>) -> Handled {
    let mut fate = Fate::applied(Some(payment.user_id), Some(payment.id));
    if !changed {
        fate.reason = Some("the payment already showed this".to_owned());
    }
    Handled { fate, wrote }
}

/// The `payment_intent` or `charge` of a current-shape invoice's paid
/// payment, when the event includes `payments`.
fn paid_payment<'a>(invoice: &'a Value, field: &str) -> Option<&'a str> {
    invoice["payments"]["data"]
        .as_array()?
        .iter()
        .filter(|payment| payment["status"] == "paid")
        .find_map(|payment| id_of(&payment["payment"][field]))
}

async fn known_user(
    transaction: &Transaction<'_>,
    user: Option<UserId>,
) -> Result<Option<UserId>, PageError> {
    match user {
        Some(user) if store::user_exists(transaction, user).await? => Ok(Some(user)),
        _ => Ok(None),
    }
}

/// `invoice.paid`, `invoice.payment_succeeded` (status succeeded) and
/// `invoice.payment_failed` (failed).
pub async fn invoice(
    transaction: &Transaction<'_>,
    event: &Event<'_>,
    shape: Shape,
    status: PaymentStatus,
) -> Result<Handled, PageError> {
    let invoice = event.object;
    let Some(invoice_id) = invoice["id"].as_str() else {
        return Ok(Handled::from(Fate::ignored("the invoice has no id")));
    };
    let (subscription_id, subscription_metadata, payment_intent, charge) = match shape {
        Shape::Legacy => (
            id_of(&invoice["subscription"]),
            &invoice["subscription_details"]["metadata"],
            id_of(&invoice["payment_intent"]),
            id_of(&invoice["charge"]),
        ),
        Shape::Current => {
            let details = &invoice["parent"]["subscription_details"];
            (
                id_of(&details["subscription"]),
                &details["metadata"],
                paid_payment(invoice, "payment_intent"),
                paid_payment(invoice, "charge"),
            )
        }
    };
    let customer = id_of(&invoice["customer"]);
    let mut row = match subscription_id {
        Some(id) => store::subscription_by_stripe_id(transaction, id).await?,
        None => None,
    };
    if row.is_none()
        && let Some(customer) = customer
    {
        row = store::subscription_by_customer(transaction, customer).await?;
    }
    let user = match row.as_ref().map(|row| row.user_id) {
        Some(user) => Some(user),
        None => {
            known_user(
                transaction,
                user_in(subscription_metadata).or_else(|| user_in(&invoice["metadata"])),
            )
            .await?
        }
    };
    let Some(user) = user else {
        if subscription_id.is_none() {
            return Ok(Handled::from(Fate::ignored(
                "an invoice of no Soloist user and no subscription",
            )));
        }
        return Ok(Handled::from(Fate::parked(
            format!(
                "waits for subscription {}: its user is not known yet",
                subscription_id.unwrap_or_default()
            ),
            &[subscription_id, customer],
        )));
    };
    let amount = match status {
        PaymentStatus::Succeeded => &invoice["amount_paid"],
        _ => &invoice["amount_due"],
    };
    let amount_cents = amount
        .as_i64()
        .and_then(|amount| i32::try_from(amount).ok())
        .unwrap_or(0)
        .max(0);
    let currency = invoice["currency"]
        .as_str()
        .unwrap_or("usd")
        .to_ascii_uppercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(PageError::BadRequest(
            "the invoice's currency is not a currency".to_owned(),
        ));
    }
    let description = invoice["lines"]["data"][0]["description"]
        .as_str()
        .or_else(|| invoice["description"].as_str())
        .unwrap_or("Subscription")
        .chars()
        .take(500)
        .collect::<String>();
    // The row's id only when it is this invoice's subscription (a
    // customer's older subscription is not); otherwise it is linked when
    // the subscription arrives.
    let subscription_row = row
        .as_ref()
        .filter(|row| {
            subscription_id.is_none() || row.stripe_subscription_id.as_deref() == subscription_id
        })
        .map(|row| row.id);
    let metadata = serde_json::json!({
        "stripe_invoice_id": invoice_id,
        "invoice_number": invoice["number"],
        "hosted_invoice_url": invoice["hosted_invoice_url"],
        "stripe_subscription_id": subscription_id,
    });
    let payment = InvoicePayment {
        user_id: user,
        subscription_id: subscription_row,
        amount_cents,
        currency,
        status,
        payment_intent: payment_intent.map(str::to_owned),
        charge: charge.map(str::to_owned),
        description,
        metadata: metadata.clone(),
        invoice: invoice_id.to_owned(),
    };
    if let Some(created) = store::insert_invoice_payment(transaction, &payment).await? {
        audit::store::record(
            transaction,
            &event.actor_entry(
                "CREATE",
                "payments",
                created.id.0,
                payment_changes(None, &created),
            ),
        )
        .await?;
        let wrote = keys(&created);
        return Ok(applied(&created, true, wrote));
    }
    let Some(before) = store::payment_for_invoice(transaction, invoice_id).await? else {
        return Err(PageError::Internal(
            "an invoice's payment vanished while it was written".to_owned(),
        ));
    };
    let news = News {
        status: Some(status),
        amount_cents: Some(amount_cents),
        payment_intent: payment.payment_intent,
        charge: payment.charge,
        metadata: metadata.as_object().cloned().unwrap_or_default(),
        subscription_id: subscription_row,
        ..News::default()
    };
    let (after, changed) = update(transaction, event, &before, &news).await?;
    let wrote = if changed { keys(&after) } else { Vec::new() };
    Ok(applied(&after, changed, wrote))
}

/// `invoice_payment.paid` (since 2025-03-31): the invoice's payment intent
/// or charge, which refunds refer to.
pub async fn invoice_payment(
    transaction: &Transaction<'_>,
    event: &Event<'_>,
) -> Result<Handled, PageError> {
    let object = event.object;
    let Some(invoice_id) = id_of(&object["invoice"]) else {
        return Ok(Handled::from(Fate::ignored(
            "an invoice payment of no invoice",
        )));
    };
    if object["status"].as_str() != Some("paid") {
        return Ok(Handled::from(Fate::ignored(format!(
            "an invoice payment that is {}",
            object["status"].as_str().unwrap_or("without a status")
        ))));
    }
    let Some(before) = store::payment_for_invoice(transaction, invoice_id).await? else {
        return Ok(Handled::from(Fate::parked(
            format!("waits for invoice {invoice_id}"),
            &[Some(invoice_id)],
        )));
    };
    let news = News {
        status: Some(PaymentStatus::Succeeded),
        amount_cents: object["amount_paid"]
            .as_i64()
            .and_then(|amount| i32::try_from(amount).ok()),
        payment_intent: id_of(&object["payment"]["payment_intent"]).map(str::to_owned),
        charge: id_of(&object["payment"]["charge"]).map(str::to_owned),
        ..News::default()
    };
    let (after, changed) = update(transaction, event, &before, &news).await?;
    let wrote = if changed { keys(&after) } else { Vec::new() };
    Ok(applied(&after, changed, wrote))
}

/// `charge.refunded`: fully (`refunded: true`) or in part
/// (`amount_refunded`).
pub async fn refund(
    transaction: &Transaction<'_>,
    event: &Event<'_>,
    shape: Shape,
) -> Result<Handled, PageError> {
    let charge = event.object;
    let Some(charge_id) = charge["id"].as_str() else {
        return Ok(Handled::from(Fate::ignored("the charge has no id")));
    };
    let payment_intent = id_of(&charge["payment_intent"]);
    let invoice = match shape {
        Shape::Legacy => id_of(&charge["invoice"]),
        Shape::Current => None,
    };
    let Some(before) =
        store::payment_for_charge(transaction, charge_id, payment_intent, invoice).await?
    else {
        return Ok(Handled::from(Fate::parked(
            format!("waits for the payment of charge {charge_id}"),
            &[Some(charge_id), payment_intent, invoice],
        )));
    };
    let news = News {
        status: Some(PaymentStatus::Succeeded),
        charge: Some(charge_id.to_owned()),
        amount_refunded: charge["amount_refunded"].as_i64(),
        fully_refunded: charge["refunded"].as_bool() == Some(true),
        ..News::default()
    };
    let (after, changed) = update(transaction, event, &before, &news).await?;
    Ok(applied(&after, changed, Vec::new()))
}

/// Links the user's payments of Stripe subscription `stripe_id`, recorded
/// before its row existed, to the row `subscription`.
pub async fn link_payments(
    transaction: &Transaction<'_>,
    event: &Event<'_>,
    user: UserId,
    stripe_id: &str,
    subscription: SubscriptionId,
) -> Result<(), PageError> {
    for before in store::unlinked_payments(transaction, user, stripe_id).await? {
        let news = News {
            subscription_id: Some(subscription),
            ..News::default()
        };
        update(transaction, event, &before, &news).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
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
