//! The handlers of invoice, invoice payment and refund events, and the
//! linking of early payments to their subscription's row.

use serde_json::Value;

use super::{News, Transaction, applied, keys, update};
use crate::accounts::model::UserId;
use crate::audit::{self, AuditAction, AuditEntity};
use crate::billing::event_log::Fate;
use crate::billing::model::{PaymentStatus, SubscriptionId};
use crate::billing::store::{self, InvoicePayment};
use crate::billing::versions::Shape;
use crate::billing::webhook::{Event, Handled, id_of, user_in};
use crate::web::page_error::PageError;

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
                AuditAction::Create,
                AuditEntity::Payments,
                created.id.0,
                audit::created(&created),
            ),
        )
        .await?;
        let wrote = keys(&created);
        return Ok(applied(&created, true, wrote));
    }
    let Some(before) = store::payment_for_invoice(transaction, invoice_id).await? else {
        return Err(PageError::internal(
            "an invoice's payment vanished while it was written",
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
