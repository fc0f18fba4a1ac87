//! All SQL on `stripe_events`: each event received, what became of it, and
//! the parked ones waiting for an object (V12).

use deadpool_postgres::GenericClient;
use time::OffsetDateTime;

use super::model::PaymentId;
use crate::accounts::model::UserId;
use crate::db::StoreError;
use crate::ids::text_enum;

text_enum!(
    /// `stripe_events.outcome`.
    EventOutcome {
        /// Changed something, or confirmed what was there.
        Applied = "applied",
        /// Waits for an object Soloist has not seen yet.
        Parked = "parked",
        /// Nothing to do; the reason says why.
        Ignored = "ignored",
        /// An API version this Soloist does not know.
        Unsupported = "unsupported",
    }
);

const LOCK_IDS: &str = "SELECT count(pg_advisory_xact_lock(hashtextextended('stripe:' || id, 0))) \
     FROM unnest($1::text[]) WITH ORDINALITY AS ids (id, position)";
const FIND: &str = "SELECT (SELECT outcome FROM stripe_events WHERE id = $1) AS outcome, \
     EXISTS (SELECT 1 FROM stripe_events WHERE outcome = 'parked' AND waiting_for && $2) AS parked";
const INSERT: &str = "INSERT INTO stripe_events (id, type, object_id, event_created, api_version, payload, \
     outcome, reason, waiting_for, user_id, payment_id) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const REDELIVERED: &str = "UPDATE stripe_events SET deliveries = deliveries + 1 WHERE id = $1 \
     RETURNING outcome, payload IS NULL AS no_payload";
const SET_OUTCOME: &str = "UPDATE stripe_events SET outcome = $2, reason = $3, waiting_for = $4, \
     user_id = coalesce($5, user_id), payment_id = coalesce($6, payment_id) WHERE id = $1";
const PARKED_FOR: &str = "SELECT id, payload FROM stripe_events \
     WHERE outcome = 'parked' AND waiting_for && $1 AND payload IS NOT NULL \
     ORDER BY event_created, id FOR UPDATE";
const FOR_REPLAY: &str = "SELECT outcome, payload FROM stripe_events WHERE id = $1 FOR UPDATE";
const LIST: &str = "SELECT e.id, e.type, e.event_created, e.api_version, e.outcome, e.reason, \
            e.deliveries, e.processed_at, e.user_id, u.email, e.payment_id, p.amount_cents, p.currency, \
            p.status AS payment_status, e.payload IS NOT NULL AS replayable \
     FROM stripe_events e LEFT JOIN users u ON u.id = e.user_id LEFT JOIN payments p ON p.id = e.payment_id \
     WHERE ($1::text IS NULL OR e.outcome = $1) \
       AND ($2::timestamptz IS NULL OR (e.processed_at, e.id) < ($2, $3)) \
     ORDER BY e.processed_at DESC, e.id DESC LIMIT $4";
const COUNTS: &str =
    "SELECT outcome, count(*) FROM stripe_events GROUP BY outcome ORDER BY outcome";
const FORGET_PAYLOADS: &str = "UPDATE stripe_events SET payload = NULL \
     WHERE payload IS NOT NULL AND outcome IN ('applied', 'ignored') \
       AND processed_at < now() - make_interval(days => $1)";

/// Every statement here, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[
    LOCK_IDS,
    FIND,
    INSERT,
    REDELIVERED,
    SET_OUTCOME,
    PARKED_FOR,
    FOR_REPLAY,
    LIST,
    COUNTS,
    FORGET_PAYLOADS,
];

/// What claiming an event found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recorded {
    /// First delivery: apply it, then [`insert`] it with its fate. `parked`:
    /// whether events are parked for an id it names (if not, none can be
    /// woken by it, and none can park for those ids until it commits).
    New {
        /// Events wait for one of its ids.
        parked: bool,
    },
    /// Delivered before, with this outcome (its delivery is counted).
    Again(EventOutcome),
}

/// The ids an event's object names (its own, and any charge, payment
/// intent, invoice, subscription or customer, in either API shape): the
/// ids whose writes and parked events it must not race with.
pub fn ids_of(event: &super::webhook::Event<'_>) -> Vec<String> {
    use super::webhook::id_of;
    let object = event.object;
    let mut ids: Vec<String> = [
        id_of(&object["id"]),
        id_of(&object["charge"]),
        id_of(&object["payment_intent"]),
        id_of(&object["invoice"]),
        id_of(&object["subscription"]),
        id_of(&object["customer"]),
        id_of(&object["parent"]["subscription_details"]["subscription"]),
        id_of(&object["payment"]["payment_intent"]),
        id_of(&object["payment"]["charge"]),
    ]
    .into_iter()
    .flatten()
    .filter(|id| id.len() <= 255)
    .map(str::to_owned)
    .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Locks `ids` (sorted, so that two transactions take them in one order)
/// until the transaction ends. Every event locks the ids it names before
/// it looks for or writes what they name, so a payment written at the same
/// time as an event that waits for it is never missed by both: one of
/// them comes second and sees the other.
pub async fn lock_ids(client: &impl GenericClient, ids: &[String]) -> Result<(), StoreError> {
    let statement = client.prepare_cached(LOCK_IDS).await?;
    client.query_one(&statement, &[&ids]).await?;
    Ok(())
}

/// Claims `event` for this transaction: locks its id (a concurrent
/// delivery of the same event waits until this one commits or rolls back,
/// then finds it) and the ids it names ([`lock_ids`]); counts a
/// redelivery.
pub async fn claim(
    client: &impl GenericClient,
    event: &super::webhook::Event<'_>,
) -> Result<Recorded, StoreError> {
    let mut ids = vec![format!("event:{}", event.id)];
    ids.extend(ids_of(event));
    ids.sort();
    let id = event.id;
    let lock = client.prepare_cached(LOCK_IDS).await?;
    let find = client.prepare_cached(FIND).await?;
    // Sent together, run in order: the lookup starts (with its own
    // snapshot) only once the locks are held.
    let (_, found) = futures_util::future::try_join(
        client.query_one(&lock, &[&ids]),
        client.query_one(&find, &[&id, &ids]),
    )
    .await?;
    let outcome: Option<EventOutcome> = found.try_get("outcome")?;
    if outcome.is_none() {
        return Ok(Recorded::New {
            parked: found.try_get("parked")?,
        });
    }
    let statement = client.prepare_cached(REDELIVERED).await?;
    let row = client.query_one(&statement, &[&id]).await?;
    Ok(Recorded::Again(row.try_get("outcome")?))
}

/// Records a claimed event's first delivery, with its body and fate.
pub async fn insert(
    client: &impl GenericClient,
    event: &super::webhook::Event<'_>,
    payload: &serde_json::Value,
    fate: &Fate,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(INSERT).await?;
    let object_id = event.object["id"].as_str();
    let waiting = (!fate.waiting_for.is_empty()).then_some(&fate.waiting_for);
    client
        .execute(
            &statement,
            &[
                &event.id,
                &event.kind,
                &object_id,
                &event.created,
                &event.api_version,
                payload,
                &fate.outcome,
                &fate.reason,
                &waiting,
                &fate.user,
                &fate.payment,
            ],
        )
        .await?;
    Ok(())
}

/// What became of an event.
#[derive(Clone, Debug, PartialEq)]
pub struct Fate {
    /// The outcome.
    pub outcome: EventOutcome,
    /// Why (for ignored, parked and unsupported; a note for applied).
    pub reason: Option<String>,
    /// The ids a parked event waits for.
    pub waiting_for: Vec<String>,
    /// The Soloist user it concerns.
    pub user: Option<UserId>,
    /// The payment it concerns.
    pub payment: Option<PaymentId>,
}

impl Fate {
    /// Applied, concerning `user` and `payment`.
    pub fn applied(user: Option<UserId>, payment: Option<PaymentId>) -> Self {
        Self {
            outcome: EventOutcome::Applied,
            reason: None,
            waiting_for: Vec::new(),
            user,
            payment,
        }
    }

    /// Ignored, for `reason`.
    pub fn ignored(reason: impl Into<String>) -> Self {
        Self {
            outcome: EventOutcome::Ignored,
            reason: Some(reason.into()),
            waiting_for: Vec::new(),
            user: None,
            payment: None,
        }
    }

    /// Parked until one of `ids` is written.
    pub fn parked(reason: impl Into<String>, ids: &[Option<&str>]) -> Self {
        Self {
            outcome: EventOutcome::Parked,
            reason: Some(reason.into()),
            waiting_for: ids.iter().flatten().map(|id| (*id).to_owned()).collect(),
            user: None,
            payment: None,
        }
    }
}

/// Writes what became of recorded event `id`.
pub async fn set_fate(
    client: &impl GenericClient,
    id: &str,
    fate: &Fate,
) -> Result<(), StoreError> {
    let statement = client.prepare_cached(SET_OUTCOME).await?;
    let waiting = (!fate.waiting_for.is_empty()).then_some(&fate.waiting_for);
    client
        .execute(
            &statement,
            &[
                &id,
                &fate.outcome,
                &fate.reason,
                &waiting,
                &fate.user,
                &fate.payment,
            ],
        )
        .await?;
    Ok(())
}

/// The parked events waiting for any of `ids`, oldest first, locked.
pub async fn parked_for(
    client: &impl GenericClient,
    ids: &[String],
) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
    let statement = client.prepare_cached(PARKED_FOR).await?;
    client
        .query(&statement, &[&ids])
        .await?
        .iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("payload")?)))
        .collect()
}

/// An event's outcome and kept body, locked; none when there is no such
/// event.
pub async fn for_replay(
    client: &impl GenericClient,
    id: &str,
) -> Result<Option<(EventOutcome, Option<serde_json::Value>)>, StoreError> {
    let statement = client.prepare_cached(FOR_REPLAY).await?;
    match client.query_opt(&statement, &[&id]).await? {
        Some(row) => Ok(Some((row.try_get("outcome")?, row.try_get("payload")?))),
        None => Ok(None),
    }
}

/// One line of the admins' event log.
#[derive(Clone, Debug)]
pub struct LoggedEvent {
    /// `evt_...`.
    pub id: String,
    /// e.g. `invoice.paid`.
    pub kind: String,
    /// When Stripe made it.
    pub created: OffsetDateTime,
    /// Its API version.
    pub api_version: Option<String>,
    /// What became of it.
    pub outcome: EventOutcome,
    /// Why.
    pub reason: Option<String>,
    /// How often Stripe delivered it.
    pub deliveries: i32,
    /// When it first arrived.
    pub received: OffsetDateTime,
    /// The user it concerns, and their email.
    pub user: Option<(UserId, String)>,
    /// The payment it concerns: id, amount, currency, status.
    pub payment: Option<(PaymentId, i32, String, String)>,
    /// Whether its body is kept (it can be replayed).
    pub replayable: bool,
}

/// A page of the log, newest first: `outcome` filters, `before` is the
/// (received, id) of the last line of the previous page.
pub async fn list(
    client: &impl GenericClient,
    outcome: Option<EventOutcome>,
    before: Option<(OffsetDateTime, String)>,
    limit: i64,
) -> Result<Vec<LoggedEvent>, StoreError> {
    let statement = client.prepare_cached(LIST).await?;
    let (before_time, before_id) = before.unzip();
    let outcome = outcome.map(EventOutcome::as_str);
    client
        .query(&statement, &[&outcome, &before_time, &before_id, &limit])
        .await?
        .iter()
        .map(|row| {
            let user: Option<UserId> = row.try_get("user_id")?;
            let email: Option<String> = row.try_get("email")?;
            let payment: Option<PaymentId> = row.try_get("payment_id")?;
            let amount: Option<i32> = row.try_get("amount_cents")?;
            let currency: Option<String> = row.try_get("currency")?;
            let status: Option<String> = row.try_get("payment_status")?;
            Ok(LoggedEvent {
                id: row.try_get("id")?,
                kind: row.try_get("type")?,
                created: row.try_get("event_created")?,
                api_version: row.try_get("api_version")?,
                outcome: row.try_get("outcome")?,
                reason: row.try_get("reason")?,
                deliveries: row.try_get("deliveries")?,
                received: row.try_get("processed_at")?,
                user: user.zip(email),
                payment: match (payment, amount, currency, status) {
                    (Some(id), Some(amount), Some(currency), Some(status)) => {
                        Some((id, amount, currency, status))
                    }
                    _ => None,
                },
                replayable: row.try_get("replayable")?,
            })
        })
        .collect()
}

/// The number of events by outcome.
pub async fn counts(client: &impl GenericClient) -> Result<Vec<(String, i64)>, StoreError> {
    let statement = client.prepare_cached(COUNTS).await?;
    client
        .query(&statement, &[])
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// Drops the bodies of applied and ignored events older than `days`
/// (parked and unsupported ones keep theirs); returns how many.
pub async fn forget_payloads(client: &impl GenericClient, days: i32) -> Result<u64, StoreError> {
    let statement = client.prepare_cached(FORGET_PAYLOADS).await?;
    Ok(client.execute(&statement, &[&days]).await?)
}
