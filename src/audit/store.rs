//! All SQL on `audit_logs`.

use deadpool_postgres::GenericClient;

use super::model::{AuditLog, NewAuditLog};
use crate::db::{StoreError, from_json, required};

const INSERT: &str = "INSERT INTO audit_logs \
     (user_id, action, entity, entity_id, changes, ip_address, user_agent, metadata) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const INSERT_RETURNING: &str = "INSERT INTO audit_logs \
     (user_id, action, entity, entity_id, changes, ip_address, user_agent, metadata) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING to_jsonb(audit_logs.*) AS entry";
const RECENT: &str = "SELECT to_jsonb(a) AS entry FROM audit_logs a \
     ORDER BY a.created_at DESC, a.id DESC LIMIT $1";

/// Every statement of this store, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[INSERT, INSERT_RETURNING, RECENT];

/// Writes an audit row; call it in the transaction of the change it records.
pub async fn record(client: &impl GenericClient, entry: &NewAuditLog) -> Result<(), StoreError> {
    let statement = client.prepare_cached(INSERT).await?;
    let metadata = metadata(entry);
    client
        .execute(&statement, &parameters(entry, &metadata))
        .await?;
    Ok(())
}

/// Writes an audit row and reads it back as stored.
pub async fn record_returning(
    client: &impl GenericClient,
    entry: &NewAuditLog,
) -> Result<AuditLog, StoreError> {
    let statement = client.prepare_cached(INSERT_RETURNING).await?;
    let metadata = metadata(entry);
    let row = client
        .query_one(&statement, &parameters(entry, &metadata))
        .await?;
    required(from_json(&row, "entry")?)
}

/// The entry's metadata with its request id added: the actor's, or else
/// that of the request being served.
fn metadata(entry: &NewAuditLog) -> Option<serde_json::Value> {
    let Some(request_id) = entry
        .request_id
        .clone()
        .or_else(crate::web::observe::current_request_id)
    else {
        return entry.metadata.clone();
    };
    let mut metadata = match &entry.metadata {
        Some(serde_json::Value::Object(fields)) => fields.clone(),
        Some(other) => serde_json::Map::from_iter([("value".to_owned(), other.clone())]),
        None => serde_json::Map::new(),
    };
    metadata.insert(
        "request_id".to_owned(),
        serde_json::Value::String(request_id),
    );
    Some(serde_json::Value::Object(metadata))
}

fn parameters<'a>(
    entry: &'a NewAuditLog,
    metadata: &'a Option<serde_json::Value>,
) -> [&'a (dyn tokio_postgres::types::ToSql + Sync); 8] {
    [
        &entry.user_id,
        &entry.action,
        &entry.entity,
        &entry.entity_id,
        &entry.changes,
        &entry.ip_address,
        &entry.user_agent,
        metadata,
    ]
}

/// The newest `limit` audit rows.
pub async fn recent(client: &impl GenericClient, limit: i64) -> Result<Vec<AuditLog>, StoreError> {
    let statement = client.prepare_cached(RECENT).await?;
    client
        .query(&statement, &[&limit])
        .await?
        .iter()
        .map(|row| required(from_json(row, "entry")?))
        .collect()
}

/// What the admin trail can be filtered by; every filter given applies.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AuditFilter {
    /// The actor's email (exact, lower-case).
    pub actor_email: Option<String>,
    /// CREATE, UPDATE, ...
    pub action: Option<String>,
    /// The table.
    pub entity: Option<String>,
    /// The row.
    pub entity_id: Option<uuid::Uuid>,
    /// From this moment (inclusive).
    pub from: Option<time::OffsetDateTime>,
    /// Before this moment.
    pub until: Option<time::OffsetDateTime>,
}

/// An audit row with its actor's email.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    /// The row.
    pub log: AuditLog,
    /// The actor's email (none for the system or a deleted user).
    pub actor_email: Option<String>,
}

/// Where a newest-first page of the trail starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditCursor {
    /// The last shown row's time.
    pub created_at: time::OffsetDateTime,
    /// The last shown row's id.
    pub id: uuid::Uuid,
}

impl AuditCursor {
    /// `<unix microseconds>.<uuid>`.
    pub fn encode(&self) -> String {
        format!(
            "{}.{}",
            self.created_at.unix_timestamp_nanos() / 1000,
            self.id.simple()
        )
    }

    /// Parses [`AuditCursor::encode`]'s output.
    pub fn decode(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('.')?;
        let micros: i128 = micros.parse().ok()?;
        Some(Self {
            created_at: time::OffsetDateTime::from_unix_timestamp_nanos(micros.checked_mul(1000)?)
                .ok()?,
            id: uuid::Uuid::try_parse(id).ok()?,
        })
    }
}

const ENTRY_COLUMNS: &str = "SELECT to_jsonb(a) AS entry, u.email AS actor_email \
     FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id";

/// The statement and parameters of a filtered, newest-first page: only the
/// filters given become conditions, so each combination gets a plan of its
/// own that uses the matching index.
fn filtered(
    filter: &AuditFilter,
    after: Option<AuditCursor>,
    limit: i64,
) -> (
    String,
    Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>>,
) {
    let mut conditions: Vec<String> = Vec::new();
    let mut parameters: Vec<Box<dyn tokio_postgres::types::ToSql + Sync + Send>> = Vec::new();
    let mut add = |condition: &str, value: Box<dyn tokio_postgres::types::ToSql + Sync + Send>| {
        parameters.push(value);
        conditions.push(condition.replace('?', &format!("${}", parameters.len())));
    };
    if let Some(email) = &filter.actor_email {
        add(
            "a.user_id = (SELECT id FROM users WHERE email = ?)",
            Box::new(email.clone()),
        );
    }
    if let Some(action) = &filter.action {
        add("a.action = ?", Box::new(action.clone()));
    }
    if let Some(entity) = &filter.entity {
        add("a.entity = ?", Box::new(entity.clone()));
    }
    if let Some(entity_id) = filter.entity_id {
        add("a.entity_id = ?", Box::new(entity_id));
    }
    if let Some(from) = filter.from {
        add("a.created_at >= ?", Box::new(from));
    }
    if let Some(until) = filter.until {
        add("a.created_at < ?", Box::new(until));
    }
    if let Some(after) = after {
        add("(a.created_at, a.id) < (?, ", Box::new(after.created_at));
        let last = conditions.len() - 1;
        parameters.push(Box::new(after.id));
        conditions[last].push_str(&format!("${})", parameters.len()));
    }
    parameters.push(Box::new(limit));
    let mut sql = ENTRY_COLUMNS.to_owned();
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    sql.push_str(&format!(
        " ORDER BY a.created_at DESC, a.id DESC LIMIT ${}",
        parameters.len()
    ));
    (sql, parameters)
}

fn entry_of(row: &tokio_postgres::Row) -> Result<AuditEntry, StoreError> {
    Ok(AuditEntry {
        log: required(from_json(row, "entry")?)?,
        actor_email: row.try_get("actor_email")?,
    })
}

/// Up to `limit` rows matching `filter` after `after`, newest first.
pub async fn search(
    client: &impl GenericClient,
    filter: &AuditFilter,
    after: Option<AuditCursor>,
    limit: i64,
) -> Result<Vec<AuditEntry>, StoreError> {
    let (sql, parameters) = filtered(filter, after, limit);
    let statement = client.prepare_cached(&sql).await?;
    let parameters: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = parameters
        .iter()
        .map(|parameter| parameter.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect();
    client
        .query(&statement, &parameters)
        .await?
        .iter()
        .map(entry_of)
        .collect()
}

const ENTRY_BY_ID: &str = "SELECT to_jsonb(a) AS entry, u.email AS actor_email \
     FROM audit_logs a LEFT JOIN users u ON u.id = a.user_id WHERE a.id = $1";

/// One audit row by id.
pub async fn entry(
    client: &impl GenericClient,
    id: uuid::Uuid,
) -> Result<Option<AuditEntry>, StoreError> {
    let statement = client.prepare_cached(ENTRY_BY_ID).await?;
    client
        .query_opt(&statement, &[&id])
        .await?
        .as_ref()
        .map(entry_of)
        .transpose()
}

const SIGN_INS_BY_DAY: &str = "SELECT to_char(date_trunc('day', created_at AT TIME ZONE $2), 'YYYY-MM-DD') AS day, \
         count(*) FILTER (WHERE action = 'LOGIN') AS sign_ins, \
         count(*) FILTER (WHERE action = 'LOGIN_FAILED') AS failures \
     FROM audit_logs WHERE created_at >= date_trunc('day', now() AT TIME ZONE $2) AT TIME ZONE $2 - make_interval(days => $1 - 1) \
       AND action IN ('LOGIN', 'LOGIN_FAILED') GROUP BY 1 ORDER BY 1";

/// (day in the IANA zone `zone`, sign-ins, failed sign-ins) for the last
/// `days` days there that had any.
pub async fn sign_ins_by_day(
    client: &impl GenericClient,
    days: i32,
    zone: &str,
) -> Result<Vec<(String, i64, i64)>, StoreError> {
    let statement = client.prepare_cached(SIGN_INS_BY_DAY).await?;
    client
        .query(&statement, &[&days, &zone])
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect()
}

const DROP_PARTITIONS: &str = "SELECT audit_logs_drop_partitions($1)";

/// Drops the monthly partitions older than `keep_months`; returns how many.
pub async fn drop_old_partitions(
    client: &impl GenericClient,
    keep_months: i32,
) -> Result<i32, StoreError> {
    let statement = client.prepare_cached(DROP_PARTITIONS).await?;
    Ok(client
        .query_one(&statement, &[&keep_months])
        .await?
        .try_get(0)?)
}

/// The statements above with their parameters typed, for the prepare test.
pub const ADMIN_STATEMENTS: &[&str] = &[ENTRY_BY_ID, SIGN_INS_BY_DAY, DROP_PARTITIONS];

/// One filtered statement of each shape, for the prepare test.
pub fn filtered_statement_examples() -> Vec<String> {
    let every = AuditFilter {
        actor_email: Some("a@example.com".to_owned()),
        action: Some("CREATE".to_owned()),
        entity: Some("posts".to_owned()),
        entity_id: Some(uuid::Uuid::nil()),
        from: Some(time::OffsetDateTime::UNIX_EPOCH),
        until: Some(time::OffsetDateTime::UNIX_EPOCH),
    };
    let cursor = AuditCursor {
        created_at: time::OffsetDateTime::UNIX_EPOCH,
        id: uuid::Uuid::nil(),
    };
    vec![
        filtered(&AuditFilter::default(), None, 10).0,
        filtered(&every, Some(cursor), 10).0,
    ]
}
