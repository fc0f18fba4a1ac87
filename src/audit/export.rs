//! `GET /admin/audit/export`: a CSV of the filtered audit trail, streamed
//! page by page (a million rows never sit in memory), with every cell
//! quoted and formulas defused.

use actix_web::{HttpResponse, web};
use time::OffsetDateTime;

use super::store::{self, AuditCursor, AuditEntry, AuditFilter};
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::page_error::PageError;

use super::pages::FilterQuery;

/// Rows read per query while exporting.
const EXPORT_BATCH: i64 = 2000;

/// A CSV field: always quoted, quotes doubled, and a cell a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@`, tab, CR) starts with `'`.
pub fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", guarded.replace('"', "\"\""))
}

const CSV_HEADER: &str = "created_at,actor_email,user_id,action,entity,entity_id,changes,ip_address,user_agent,metadata\r\n";

fn csv_line(entry: &AuditEntry) -> String {
    let log = &entry.log;
    let json = |value: &Option<serde_json::Value>| {
        value.as_ref().map(ToString::to_string).unwrap_or_default()
    };
    let fields = [
        log.created_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        entry.actor_email.clone().unwrap_or_default(),
        log.user_id.map(|id| id.to_string()).unwrap_or_default(),
        log.action.clone(),
        log.entity.clone(),
        log.entity_id.map(|id| id.to_string()).unwrap_or_default(),
        json(&log.changes),
        log.ip_address.clone().unwrap_or_default(),
        log.user_agent.clone().unwrap_or_default(),
        json(&log.metadata),
    ];
    let mut line = fields
        .iter()
        .map(|field| csv_field(field))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

struct Export {
    pool: deadpool_postgres::Pool,
    filter: AuditFilter,
    cursor: Option<AuditCursor>,
    started: bool,
    done: bool,
}

/// `GET /admin/audit.csv`: the filtered set as CSV, read and sent in
/// batches along the same keyset order as the pages.
pub async fn export(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    query: web::Query<FilterQuery>,
) -> Result<HttpResponse, PageError> {
    let filter = query.parse()?;
    let filter = {
        let client = state.pool.get().await?;
        super::pages::in_zone(&client, visitor.time_zone(), filter).await?
    };
    let export = Export {
        pool: state.pool.clone(),
        filter,
        cursor: None,
        started: false,
        done: false,
    };
    let stream = futures_util::stream::unfold(export, |mut export| async move {
        if export.done {
            return None;
        }
        if !export.started {
            export.started = true;
            return Some((Ok(web::Bytes::from_static(CSV_HEADER.as_bytes())), export));
        }
        let batch = async {
            let client = export.pool.get().await.map_err(std::io::Error::other)?;
            store::search(&client, &export.filter, export.cursor, EXPORT_BATCH)
                .await
                .map_err(std::io::Error::other)
        }
        .await;
        match batch {
            Ok(entries) if entries.is_empty() => None,
            Ok(entries) => {
                export.done = entries.len() < usize::try_from(EXPORT_BATCH).unwrap_or(2000);
                export.cursor = entries.last().map(|last| AuditCursor {
                    created_at: last.log.created_at,
                    id: last.log.id.0,
                });
                let text: String = entries.iter().map(csv_line).collect();
                Some((Ok::<_, std::io::Error>(web::Bytes::from(text)), export))
            }
            Err(error) => {
                tracing::error!(%error, "the audit export stopped");
                export.done = true;
                Some((Err(error), export))
            }
        }
    });
    let name = format!(
        "audit-{}.csv",
        OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]-[hour][minute][second]"
            ))
            .unwrap_or_default()
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("Cache-Control", "private, no-store"))
        .streaming(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_are_defused() {
        assert_eq!(csv_field("plain"), "\"plain\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "\"'+1\"");
        assert_eq!(csv_field("-1"), "\"'-1\"");
        assert_eq!(csv_field("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_field("a\r\nb"), "\"a\r\nb\"");
    }
}
