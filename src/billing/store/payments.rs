//! SQL on `payments`: recorded by hand, from Stripe invoices and charges,
//! or with a past date for the demo data.

use deadpool_postgres::GenericClient;

use crate::accounts::model::UserId;
use crate::billing::model::{NewPayment, Payment};
use crate::db::{StoreError, from_json, required};

pub(super) const INSERT_PAYMENT: &str = "INSERT INTO payments \
     (user_id, subscription_id, amount_cents, currency, status, description) \
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING to_jsonb(payments.*) AS payment";
pub(super) const PAYMENTS_OF: &str = "SELECT to_jsonb(p) AS payment FROM payments p WHERE p.user_id = $1 \
     ORDER BY p.created_at DESC, p.id";
pub(super) const INSERT_INVOICE_PAYMENT: &str = "INSERT INTO payments \
     (user_id, subscription_id, amount_cents, currency, status, stripe_payment_intent_id, \
      stripe_charge_id, description, metadata, stripe_invoice_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (stripe_invoice_id) DO NOTHING RETURNING to_jsonb(payments.*) AS payment";
pub(super) const PAYMENT_BY_INVOICE: &str =
    "SELECT to_jsonb(p) AS payment FROM payments p WHERE p.stripe_invoice_id = $1 FOR UPDATE";
pub(super) const PAYMENT_BY_CHARGE: &str = "SELECT to_jsonb(p) AS payment FROM payments p \
     WHERE p.stripe_charge_id = $1 OR ($2::text IS NOT NULL AND p.stripe_payment_intent_id = $2) \
        OR ($3::text IS NOT NULL AND p.stripe_invoice_id = $3) \
     ORDER BY p.created_at DESC LIMIT 1 FOR UPDATE";
pub(super) const UPDATE_STRIPE_PAYMENT: &str = "UPDATE payments SET status = $2, amount_cents = $3, \
     stripe_payment_intent_id = $4, stripe_charge_id = $5, metadata = $6, subscription_id = $7 \
     WHERE id = $1 RETURNING to_jsonb(payments.*) AS payment";
pub(super) const UNLINKED_PAYMENTS: &str = "SELECT to_jsonb(p) AS payment FROM payments p \
     WHERE p.user_id = $1 AND p.subscription_id IS NULL AND p.metadata->>'stripe_subscription_id' = $2 \
     ORDER BY p.created_at FOR UPDATE";

/// Records a payment.
pub async fn record_payment(
    client: &impl GenericClient,
    payment: &NewPayment,
) -> Result<Payment, StoreError> {
    let statement = client.prepare_cached(INSERT_PAYMENT).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &payment.user_id,
                &payment.subscription_id,
                &payment.amount_cents,
                &payment.currency,
                &payment.status,
                &payment.description,
            ],
        )
        .await?;
    required(from_json(&row, "payment")?)
}

/// A user's payments, newest first.
pub async fn payments_of(
    client: &impl GenericClient,
    user_id: UserId,
) -> Result<Vec<Payment>, StoreError> {
    let statement = client.prepare_cached(PAYMENTS_OF).await?;
    client
        .query(&statement, &[&user_id])
        .await?
        .iter()
        .map(|row| required(from_json(row, "payment")?))
        .collect()
}

/// A payment for a Stripe invoice.
#[derive(Clone, Debug)]
pub struct InvoicePayment {
    /// The payer.
    pub user_id: UserId,
    /// Their subscription row.
    pub subscription_id: Option<crate::billing::model::SubscriptionId>,
    /// Amount.
    pub amount_cents: i32,
    /// Upper-case currency.
    pub currency: String,
    /// succeeded or failed.
    pub status: crate::billing::model::PaymentStatus,
    /// `pi_...`.
    pub payment_intent: Option<String>,
    /// `ch_...`.
    pub charge: Option<String>,
    /// What it was for.
    pub description: String,
    /// Extra facts.
    pub metadata: serde_json::Value,
    /// `in_...`.
    pub invoice: String,
}

/// Records the first payment row of an invoice; none when the invoice has
/// one already.
pub async fn insert_invoice_payment(
    client: &impl GenericClient,
    payment: &InvoicePayment,
) -> Result<Option<Payment>, StoreError> {
    let statement = client.prepare_cached(INSERT_INVOICE_PAYMENT).await?;
    match client
        .query_opt(
            &statement,
            &[
                &payment.user_id,
                &payment.subscription_id,
                &payment.amount_cents,
                &payment.currency,
                &payment.status,
                &payment.payment_intent,
                &payment.charge,
                &payment.description,
                &payment.metadata,
                &payment.invoice,
            ],
        )
        .await?
    {
        Some(row) => from_json(&row, "payment"),
        None => Ok(None),
    }
}

/// The payment of an invoice, locked.
pub async fn payment_for_invoice(
    client: &impl GenericClient,
    invoice: &str,
) -> Result<Option<Payment>, StoreError> {
    let statement = client.prepare_cached(PAYMENT_BY_INVOICE).await?;
    match client.query_opt(&statement, &[&invoice]).await? {
        Some(row) => from_json(&row, "payment"),
        None => Ok(None),
    }
}

/// The payment of a charge (by charge, payment intent or invoice), locked.
pub async fn payment_for_charge(
    client: &impl GenericClient,
    charge: &str,
    payment_intent: Option<&str>,
    invoice: Option<&str>,
) -> Result<Option<Payment>, StoreError> {
    let statement = client.prepare_cached(PAYMENT_BY_CHARGE).await?;
    match client
        .query_opt(&statement, &[&charge, &payment_intent, &invoice])
        .await?
    {
        Some(row) => from_json(&row, "payment"),
        None => Ok(None),
    }
}

/// Writes what Stripe says of a payment (merged by the caller).
pub async fn update_stripe_payment(
    client: &impl GenericClient,
    payment: &Payment,
) -> Result<Payment, StoreError> {
    let statement = client.prepare_cached(UPDATE_STRIPE_PAYMENT).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &payment.id,
                &payment.status,
                &payment.amount_cents,
                &payment.stripe_payment_intent_id,
                &payment.stripe_charge_id,
                &payment.metadata,
                &payment.subscription_id,
            ],
        )
        .await?;
    required(from_json(&row, "payment")?)
}

/// The user's payments of Stripe subscription `subscription` recorded
/// before its row existed, locked.
pub async fn unlinked_payments(
    client: &impl GenericClient,
    user: UserId,
    subscription: &str,
) -> Result<Vec<Payment>, StoreError> {
    let statement = client.prepare_cached(UNLINKED_PAYMENTS).await?;
    client
        .query(&statement, &[&user, &subscription])
        .await?
        .iter()
        .map(|row| required(from_json(row, "payment")?))
        .collect()
}

pub(super) const INSERT_PAYMENT_AT: &str = "INSERT INTO payments \
     (user_id, subscription_id, amount_cents, currency, status, description, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING to_jsonb(payments.*) AS payment";

/// Records a payment made at `created_at` (a payment history).
pub async fn record_payment_at(
    client: &impl GenericClient,
    payment: &NewPayment,
    created_at: time::OffsetDateTime,
) -> Result<Payment, StoreError> {
    let statement = client.prepare_cached(INSERT_PAYMENT_AT).await?;
    let row = client
        .query_one(
            &statement,
            &[
                &payment.user_id,
                &payment.subscription_id,
                &payment.amount_cents,
                &payment.currency,
                &payment.status,
                &payment.description,
                &created_at,
            ],
        )
        .await?;
    required(from_json(&row, "payment")?)
}
