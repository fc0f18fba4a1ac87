//! `/admin/backups`: the backups in the data directory, newest first, a
//! "Back up now" button, and downloads. Admins only, checked in each handler.

use std::io::Read;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentEncoding};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{is_backup_name, list};

use crate::audit::Actor;
use crate::audit::{self, AuditAction, AuditEntity};
use crate::web::AppState;
use crate::web::access::Admin;
use crate::web::csrf::{CsrfForm, EmptyForm};
use crate::web::local_time::LocalTimes;
use crate::web::page_error::PageError;
use crate::web::pages::{Layout, render};
use crate::web::respond::{Notice, see_other_with};

/// The page.
pub const PATH: &str = "/admin/backups";
/// One backup's download.
pub const DOWNLOAD: &str = "/admin/backups/{name}";
/// Bytes read from disk per chunk of a download.
const CHUNK: usize = 256 * 1024;

crate::web::routes::route_table! {
    pub fn routes, pub const ROUTES = [
        PATH, Admin => { get: backups, post: back_up_now },
        DOWNLOAD, Admin => { get: download },
    ]
}

/// A line of the list.
#[derive(Clone, Debug)]
pub struct BackupRow {
    /// The file name.
    pub name: String,
    /// Its download link.
    pub url: String,
    /// "12.3 MiB".
    pub size: String,
    /// When it was written, in the reader's zone.
    pub when: String,
}

/// `GET /admin/backups`.
#[derive(Template)]
#[template(path = "admin/backups.html")]
pub struct BackupsPage {
    /// The layout.
    pub layout: Layout,
    /// Where backups go.
    pub dir: Option<String>,
    /// True when this Soloist makes backups itself (embedded database).
    pub can_back_up: bool,
    /// True while a backup runs.
    pub running: bool,
    /// The last success, described.
    pub last_success: Option<String>,
    /// When the last backup failed, if after the last success.
    pub last_failure: Option<String>,
    /// The files.
    pub backups: Vec<BackupRow>,
    /// The backup this page watched finished: the result, described.
    pub finished: Option<String>,
    /// Where the page reloads itself while a backup runs.
    pub refresh_url: String,
}

/// `?progress=1`: the page is reloading itself while a backup runs.
#[derive(Debug, Default, serde::Deserialize)]
pub struct BackupsQuery {
    #[serde(default)]
    progress: Option<String>,
}

/// How often (seconds) the page reloads itself while a backup runs.
pub const REFRESH_SECONDS: u32 = 2;

/// `1536` -> "1.5 KiB".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `GET /admin/backups`.
pub async fn backups(
    Admin { visitor, .. }: Admin,
    state: web::Data<AppState>,
    query: web::Query<BackupsQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let backups = &state.backups;
    let running = backups.is_running();
    let last_failure = backups.last_failure();
    let dir = backups.dir().map(std::path::Path::to_path_buf);
    let files = match &dir {
        Some(dir) => {
            let dir = dir.clone();
            web::block(move || list(&dir))
                .await
                .map_err(|error| PageError::Internal(error.into()))?
        }
        None => Vec::new(),
    };
    let moments = files
        .iter()
        .map(|file| file.modified)
        .chain(backups.last_success().map(|last| last.at))
        .chain(last_failure);
    let times = {
        let client = state.pool.get().await?;
        LocalTimes::load(&client, visitor.time_zone(), moments).await?
    };
    let when = |moment| times.precise(moment);
    let describe = |last: crate::backup::LastBackup| {
        format!(
            "{} ({}, {})",
            when(last.at),
            last.name,
            human_size(last.bytes)
        )
    };
    // Once the backup it watched is done, the page says how it went.
    let finished = (query.progress.is_some() && !running)
        .then(|| backups.last_success())
        .flatten()
        .filter(|last| last_failure.is_none_or(|failure| failure < last.at))
        .map(describe);
    let page = BackupsPage {
        layout: Layout::for_visitor(&visitor, "Backups", "Backups of the database.")
            .with_notice(&request),
        dir: dir.map(|dir| dir.display().to_string()),
        can_back_up: backups.can_back_up(),
        running,
        last_success: backups.last_success().map(describe),
        last_failure: last_failure.map(when),
        finished,
        refresh_url: format!("{PATH}?progress=1"),
        backups: files
            .into_iter()
            .map(|file| BackupRow {
                url: crate::web::routes::one(DOWNLOAD, &file.name),
                size: human_size(file.bytes),
                when: when(file.modified),
                name: file.name,
            })
            .collect(),
    };
    Ok(render(&page, StatusCode::OK))
}

/// `POST /admin/backups`: starts a backup and comes back to the list,
/// where it appears once written. The audit row records who asked for it
/// and the file it goes to.
pub async fn back_up_now(
    state: web::Data<AppState>,
    request: CsrfForm<EmptyForm, Admin>,
) -> Result<HttpResponse, PageError> {
    let visitor = request.visitor;
    if !state.backups.can_back_up() {
        return Err(PageError::BadRequest(
            "This Soloist uses an external PostgreSQL: make backups with `soloist backup`."
                .to_owned(),
        ));
    }
    let Some(claim) = state.backups.claim() else {
        return Ok(see_other_with(PATH, Notice::BackupRunning));
    };
    let name = claim.next_name();
    let mut client = state.pool.get().await?;
    let transaction = client.transaction().await?;
    let mut entry = Actor::from(&visitor).entry(
        AuditAction::Create,
        AuditEntity::Backups,
        None,
        audit::Change::none(),
    );
    entry.metadata = Some(serde_json::json!({ "file": name, "trigger": "admin" }));
    audit::store::record(&transaction, &entry).await?;
    transaction.commit().await?;
    drop(client);
    state.background.spawn(async move {
        let started = std::time::Instant::now();
        match claim.run(&name).await {
            Ok(file) => tracing::info!(
                file = %file.path.display(),
                bytes = file.bytes,
                seconds = started.elapsed().as_secs_f64(),
                "backup written (asked for on the admin page)"
            ),
            Err(error) => tracing::error!(%error, file = %name, "the backup failed"),
        }
    });
    Ok(see_other_with(PATH, Notice::BackupStarted))
}

/// `GET /admin/backups/{name}`: the file, streamed. Only a name of the
/// listing is served; anything else is a 404.
pub async fn download(
    _admin: Admin,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let name = path.into_inner();
    if !is_backup_name(&name) {
        return Err(PageError::NotFound);
    }
    let dir = state
        .backups
        .dir()
        .map(std::path::Path::to_path_buf)
        .ok_or(PageError::NotFound)?;
    let wanted = name.clone();
    let opened = web::block(move || {
        let file = list(&dir).into_iter().find(|file| file.name == wanted)?;
        let handle = std::fs::File::open(&file.path).ok()?;
        Some((file, handle))
    })
    .await
    .map_err(|error| PageError::Internal(error.into()))?;
    let (file, handle) = opened.ok_or(PageError::NotFound)?;
    let stream = futures_util::stream::unfold(Some(handle), |handle| async move {
        let handle = handle?;
        let chunk = web::block(move || {
            let mut handle = handle;
            let mut buffer = vec![0u8; CHUNK];
            let read = handle.read(&mut buffer)?;
            buffer.truncate(read);
            Ok::<_, std::io::Error>((handle, buffer))
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|result| result);
        match chunk {
            Ok((_, buffer)) if buffer.is_empty() => None,
            Ok((handle, buffer)) => Some((Ok(web::Bytes::from(buffer)), Some(handle))),
            Err(error) => {
                tracing::error!(%error, "a backup download stopped");
                Some((Err(error), None))
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", file.name),
        ))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        // Already compressed: the compression middleware leaves it alone.
        .insert_header(ContentEncoding::Identity)
        .no_chunking(file.bytes)
        .streaming(stream))
}
