//! The admins' view of the audit trail: filters that combine, keyset pages
//! newest first, and a detail view with the before/after of each field. The
//! CSV export is in [`super::export`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;
use time::OffsetDateTime;

use super::model::{AuditAction, AuditEntity};
use super::store::{self, AuditCursor, AuditEntry, AuditFilter};
use crate::admin::paths;
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};

/// Rows on a page of the trail.
pub const PAGE_SIZE: i64 = 50;

/// The filters as typed (`?actor=&action=&entity=&entity_id=&from=&to=&after=`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct FilterQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    entity: String,
    #[serde(default)]
    entity_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    after: String,
}

fn day(text: &str, field: &str) -> Result<Option<OffsetDateTime>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let date = time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("Give the {field} date as YYYY-MM-DD, such as 2026-01-31."))?;
    Ok(Some(date.midnight().assume_utc()))
}

/// What is wrong with the filters, by field (the inputs' ids).
#[derive(Clone, Debug, Default)]
pub struct FilterErrors {
    /// About the action.
    pub action: Option<String>,
    /// About the entity.
    pub entity: Option<String>,
    /// About the entity id.
    pub entity_id: Option<String>,
    /// About the first day.
    pub from: Option<String>,
    /// About the last day.
    pub to: Option<String>,
}

impl FilterErrors {
    /// Each message with the id of its field, in the form's order.
    pub fn summary(&self) -> Vec<crate::web::forms::Problem> {
        crate::web::forms::Problem::list(&[
            ("action", &self.action),
            ("entity", &self.entity),
            ("entity_id", &self.entity_id),
            ("from", &self.from),
            ("to", &self.to),
        ])
    }
}

impl FilterQuery {
    /// The filter; dates are UTC days, `to` inclusive. A mistyped field is
    /// a message for that field.
    pub fn check(&self) -> Result<AuditFilter, FilterErrors> {
        let text = |value: &str, limit: usize| {
            let value = value.trim();
            (!value.is_empty()).then(|| value.chars().take(limit).collect::<String>())
        };
        let mut errors = FilterErrors::default();
        let action = text(&self.action, 40).map(|action| action.to_uppercase());
        if let Some(action) = &action
            && action.parse::<AuditAction>().is_err()
        {
            errors.action = Some("Choose one of the actions listed, such as CREATE.".to_owned());
        }
        let entity = text(&self.entity, 63).map(|entity| entity.to_lowercase());
        if let Some(entity) = &entity
            && entity.parse::<AuditEntity>().is_err()
        {
            errors.entity = Some("Choose one of the entities listed, such as users.".to_owned());
        }
        let entity_id = match self.entity_id.trim() {
            "" => None,
            id => uuid::Uuid::try_parse(id)
                .map_err(|_| {
                    errors.entity_id = Some("The entity id is a UUID such as 0b9e…-…".to_owned());
                })
                .ok(),
        };
        let from = day(&self.from, "from")
            .map_err(|message| errors.from = Some(message))
            .ok()
            .flatten();
        let until = day(&self.to, "to")
            .map_err(|message| errors.to = Some(message))
            .ok()
            .flatten()
            .map(|end| end + time::Duration::days(1));
        if let (Some(from), Some(until)) = (from, until)
            && until <= from
        {
            errors.to = Some("The last day is before the first.".to_owned());
        }
        if !errors.summary().is_empty() {
            return Err(errors);
        }
        Ok(AuditFilter {
            actor_email: text(&self.actor, 254).map(|email| email.to_lowercase()),
            action,
            entity,
            entity_id,
            from,
            until,
        })
    }

    /// The filter, or a 400 that says what is wrong (for the CSV export,
    /// which has no form to show the messages on).
    pub fn parse(&self) -> Result<AuditFilter, PageError> {
        self.check().map_err(|errors| {
            PageError::BadRequest(
                errors
                    .summary()
                    .into_iter()
                    .map(|problem| problem.message)
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
    }

    fn cursor(&self) -> Result<Option<AuditCursor>, PageError> {
        match self.after.trim() {
            "" => Ok(None),
            text => AuditCursor::decode(text)
                .map(Some)
                .ok_or_else(|| PageError::BadRequest("This page link is broken.".to_owned())),
        }
    }

    /// The filters as a query string (without `after`).
    pub fn query_string(&self) -> String {
        serde_html_form::to_string([
            ("actor", self.actor.trim()),
            ("action", self.action.trim()),
            ("entity", self.entity.trim()),
            ("entity_id", self.entity_id.trim()),
            ("from", self.from.trim()),
            ("to", self.to.trim()),
        ])
        .unwrap_or_default()
    }
}

/// A row of the trail, ready for a template.
#[derive(Clone, Debug)]
pub struct EntryView {
    /// The detail view.
    pub url: String,
    /// "2026-11-25 09:12:44 UTC".
    pub when: String,
    /// The actor's email, or "system".
    pub actor: String,
    /// CREATE, ... (as stored).
    pub action: String,
    /// "Created", ...
    pub action_label: String,
    /// The table (as stored).
    pub entity: String,
    /// "User", ...
    pub entity_label: String,
    /// The row.
    pub entity_id: String,
    /// A one-line summary of the changed fields.
    pub summary: String,
    /// Client address.
    pub ip: String,
}

/// `{"a": {"before": 1, "after": 2}}` as `(field, before, after)` texts.
pub fn fields(changes: Option<&serde_json::Value>) -> Vec<(String, String, String)> {
    let show = |value: Option<&serde_json::Value>| match value {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    };
    match changes {
        Some(serde_json::Value::Object(map)) => map
            .iter()
            .map(|(field, change)| {
                (
                    field.clone(),
                    show(change.get("before")),
                    show(change.get("after")),
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

impl EntryView {
    /// The view of `entry`, its time in the zone of `times`.
    pub fn of(entry: &AuditEntry, times: &LocalTimes) -> Self {
        let names: Vec<String> = fields(entry.log.changes.as_ref())
            .into_iter()
            .map(|(field, ..)| field)
            .collect();
        Self {
            url: paths::audit_entry(entry.log.id),
            when: times.precise(entry.log.created_at),
            actor: entry.actor_email.clone().unwrap_or_else(|| {
                if entry.log.user_id.is_some() {
                    "deleted user"
                } else {
                    "system"
                }
                .to_owned()
            }),
            action: entry.log.action.clone(),
            action_label: super::labels::action(&entry.log.action),
            entity: entry.log.entity.clone(),
            entity_label: super::labels::entity(&entry.log.entity),
            entity_id: entry
                .log
                .entity_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            summary: names.join(", "),
            ip: entry.log.ip_address.clone().unwrap_or_default(),
        }
    }
}

/// `filter` with its days (parsed as UTC midnights) moved to midnight in
/// the reader's zone, the zone the trail shows its times in.
pub async fn in_zone(
    client: &impl deadpool_postgres::GenericClient,
    zone: &str,
    mut filter: AuditFilter,
) -> Result<AuditFilter, PageError> {
    if let Some(from) = filter.from {
        filter.from = Some(crate::web::local_time::wall_clock_in(client, zone, from).await?);
    }
    if let Some(until) = filter.until {
        filter.until = Some(crate::web::local_time::wall_clock_in(client, zone, until).await?);
    }
    Ok(filter)
}

/// `GET /admin/audit`.
#[derive(Template)]
#[template(path = "audit/list.html")]
pub struct AuditPage {
    /// The layout.
    pub layout: Layout,
    /// The filters as typed.
    pub filters: FilterQuery,
    /// The rows.
    pub entries: Vec<EntryView>,
    /// The next page.
    pub older_url: Option<String>,
    /// The first page, when this is not it.
    pub newest_url: Option<String>,
    /// The CSV of the filtered set.
    pub export_url: String,
    /// What is wrong with the filters.
    pub errors: FilterErrors,
    /// The actions to choose from: (stored value, label).
    pub actions: Vec<(&'static str, String)>,
    /// The entities to choose from: (stored value, label).
    pub entities: Vec<(&'static str, String)>,
}

/// `GET /admin/audit`.
pub async fn list(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    query: web::Query<FilterQuery>,
) -> Result<HttpResponse, PageError> {
    let layout = Layout::for_visitor(&visitor, "Audit trail", "Every change, newest first.");
    let filter = match query.check() {
        Ok(filter) => filter,
        Err(errors) => {
            let page = AuditPage {
                layout,
                entries: Vec::new(),
                older_url: None,
                newest_url: None,
                export_url: paths::AUDIT_CSV.to_owned(),
                errors,
                actions: super::labels::actions(),
                entities: super::labels::entities(),
                filters: query.into_inner(),
            };
            return Ok(render(&page, StatusCode::BAD_REQUEST));
        }
    };
    let cursor = query.cursor()?;
    let client = state.pool.get().await?;
    let filter = in_zone(&client, visitor.time_zone(), filter).await?;
    let mut entries = store::search(&client, &filter, cursor, PAGE_SIZE + 1).await?;
    let times = LocalTimes::load(
        &client,
        visitor.time_zone(),
        entries.iter().map(|entry| entry.log.created_at),
    )
    .await?;
    drop(client);
    let base = query.query_string();
    let older_url = if entries.len() > usize::try_from(PAGE_SIZE).unwrap_or(50) {
        entries.truncate(usize::try_from(PAGE_SIZE).unwrap_or(50));
        entries.last().map(|last| {
            let cursor = AuditCursor {
                created_at: last.log.created_at,
                id: last.log.id.0,
            };
            format!("{}?{base}&after={}", paths::AUDIT, cursor.encode())
        })
    } else {
        None
    };
    let page = AuditPage {
        layout,
        entries: entries
            .iter()
            .map(|entry| EntryView::of(entry, &times))
            .collect(),
        older_url,
        newest_url: cursor.map(|_| format!("{}?{base}", paths::AUDIT)),
        export_url: format!("{}?{base}", paths::AUDIT_CSV),
        errors: FilterErrors::default(),
        actions: super::labels::actions(),
        entities: super::labels::entities(),
        filters: query.into_inner(),
    };
    Ok(render(&page, StatusCode::OK))
}

/// `GET /admin/audit/{id}`.
#[derive(Template)]
#[template(path = "audit/detail.html")]
pub struct DetailPage {
    /// The layout.
    pub layout: Layout,
    /// The row.
    pub entry: EntryView,
    /// (field, before, after).
    pub fields: Vec<(String, String, String)>,
    /// The client's browser and system ("Chrome 148 on Linux"), when the
    /// entry has a User-Agent.
    pub browser: Option<String>,
    /// The User-Agent header as sent.
    pub user_agent: String,
    /// Extra context, as JSON.
    pub metadata: String,
    /// The trail of the same row.
    pub entity_url: Option<String>,
}

/// `GET /admin/audit/{id}`.
pub async fn detail(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = uuid::Uuid::try_parse(&path).map_err(|_| PageError::NotFound)?;
    let client = state.pool.get().await?;
    let entry = store::entry(&client, id)
        .await?
        .ok_or(PageError::NotFound)?;
    let times = LocalTimes::load(&client, visitor.time_zone(), [entry.log.created_at]).await?;
    drop(client);
    let page = DetailPage {
        layout: Layout::for_visitor(&visitor, "Audit entry", "One change and what it changed."),
        fields: fields(entry.log.changes.as_ref()),
        browser: entry
            .log
            .user_agent
            .as_deref()
            .map(crate::accounts::user_agent::describe),
        user_agent: entry.log.user_agent.clone().unwrap_or_default(),
        metadata: entry
            .log
            .metadata
            .as_ref()
            .map(|metadata| serde_json::to_string_pretty(metadata).unwrap_or_default())
            .unwrap_or_default(),
        entity_url: entry.log.entity_id.map(|id| {
            format!(
                "{}?{}",
                paths::AUDIT,
                serde_html_form::to_string([
                    ("entity", entry.log.entity.as_str()),
                    ("entity_id", &id.to_string())
                ])
                .unwrap_or_default()
            )
        }),
        entry: EntryView::of(&entry, &times),
    };
    Ok(render(&page, StatusCode::OK))
}
