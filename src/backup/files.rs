//! The backups directory: names, listing, and pruning.
//!
//! Names are `soloist-YYYYMMDD-HHMMSS.dump` (UTC), with `-2`, `-3` ... when
//! two backups start in one second, and `-before-restore` for the safety
//! backup a restore takes. A name is only ever served or deleted when it has
//! exactly this shape and is a regular file in the directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;

use super::{BackupError, Tools};

const PREFIX: &str = "soloist-";
const EXTENSION: &str = ".dump";
/// The suffix of the backup a restore takes first.
pub const BEFORE_RESTORE: &str = "before-restore";

/// A backup file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupFile {
    /// Its name in the directory.
    pub name: String,
    /// Its path.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// When it was last written.
    pub modified: OffsetDateTime,
}

impl BackupFile {
    /// Reads the size and time of the file at `path`.
    pub fn at(path: &Path) -> Result<Self, BackupError> {
        let metadata = fs::metadata(path)
            .map_err(|error| BackupError::io(format!("reading {}", path.display()), error))?;
        Ok(Self {
            name: path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            path: path.to_path_buf(),
            bytes: metadata.len(),
            modified: metadata
                .modified()
                .map(OffsetDateTime::from)
                .unwrap_or_else(|_| OffsetDateTime::now_utc()),
        })
    }
}

/// `<data dir>/backups`.
pub fn backups_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

/// The name of a backup made at `at`, e.g. `soloist-20250131-235959.dump`.
pub fn backup_name(at: OffsetDateTime, suffix: Option<&str>) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let stamp = at
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_else(|_| at.unix_timestamp().to_string());
    match suffix {
        Some(suffix) => format!("{PREFIX}{stamp}-{suffix}{EXTENSION}"),
        None => format!("{PREFIX}{stamp}{EXTENSION}"),
    }
}

/// A path in `dir` for a backup made at `at` that no file has yet.
pub fn unique_path(dir: &Path, at: OffsetDateTime, suffix: Option<&str>) -> PathBuf {
    let first = dir.join(backup_name(at, suffix));
    if !first.exists() {
        return first;
    }
    let base = backup_name(at, None);
    let stem = base.trim_end_matches(EXTENSION);
    (2..)
        .map(|number| {
            let name = match suffix {
                Some(suffix) => format!("{stem}-{number}-{suffix}{EXTENSION}"),
                None => format!("{stem}-{number}{EXTENSION}"),
            };
            dir.join(name)
        })
        .find(|path| !path.exists())
        .unwrap_or(first)
}

/// True for names Soloist gives backups: `soloist-` + a UTC time, optional
/// `-` parts of letters and digits, `.dump`. Nothing else (no `/`, no `..`,
/// no hidden files) is ever served from or deleted in the directory.
pub fn is_backup_name(name: &str) -> bool {
    let Some(middle) = name
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(EXTENSION))
    else {
        return false;
    };
    let stamp = middle.get(..15).unwrap_or("");
    let rest = middle.get(15..).unwrap_or("");
    name.len() <= 100
        && stamp.len() == 15
        && stamp.char_indices().all(|(at, character)| match at {
            8 => character == '-',
            _ => character.is_ascii_digit(),
        })
        && (rest.is_empty()
            || (rest.starts_with('-')
                && rest[1..].split('-').all(|part| {
                    !part.is_empty() && part.bytes().all(|byte| byte.is_ascii_alphanumeric())
                })))
}

/// True for the backups the schedule keeps a number of (plain and numbered
/// names; a restore's safety backup is left alone).
fn is_prunable(name: &str) -> bool {
    is_backup_name(name)
        && name
            .trim_start_matches(PREFIX)
            .trim_end_matches(EXTENSION)
            .get(15..)
            .is_some_and(|rest| rest.is_empty() || rest[1..].bytes().all(|b| b.is_ascii_digit()))
}

/// The backups in `dir`, newest first (none when it does not exist).
pub fn list(dir: &Path) -> Vec<BackupFile> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<BackupFile> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            if !is_backup_name(&name) {
                return None;
            }
            // The entry itself, not what a symlink points to.
            let metadata = entry.metadata().ok()?;
            if !metadata.file_type().is_file() {
                return None;
            }
            Some(BackupFile {
                path: entry.path(),
                name,
                bytes: metadata.len(),
                modified: metadata.modified().ok().map(OffsetDateTime::from)?,
            })
        })
        .collect();
    files.sort_by(|a, b| {
        b.modified
            .cmp(&a.modified)
            .then_with(|| b.name.cmp(&a.name))
    });
    files
}

/// The newest backup in `dir`.
pub fn newest(dir: &Path) -> Option<BackupFile> {
    list(dir).into_iter().next()
}

/// Deletes scheduled backups beyond the newest `keep`, and returns the
/// names deleted. A restore's safety backups are never deleted.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<String>, BackupError> {
    let mut deleted = Vec::new();
    for file in list(dir)
        .into_iter()
        .filter(|file| is_prunable(&file.name))
        .skip(keep)
    {
        fs::remove_file(&file.path)
            .map_err(|error| BackupError::io(format!("deleting {}", file.path.display()), error))?;
        deleted.push(file.name);
    }
    Ok(deleted)
}

/// Removes partial files left in `dir` by backups interrupted more than a
/// day ago (a running backup's partial file is younger).
pub fn remove_stale_partials(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let day_ago = SystemTime::now() - Duration::from_secs(24 * 3600);
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = name.starts_with(&format!(".{PREFIX}"))
            && name.ends_with(".partial")
            && entry
                .metadata()
                .and_then(|metadata| metadata.modified())
                .is_ok_and(|modified| modified < day_ago);
        if stale && fs::remove_file(entry.path()).is_ok() {
            tracing::info!(file = %name, "removed the partial file of an interrupted backup");
        }
    }
}

/// Creates the backups directory (0700) if needed. As root it belongs to the
/// server user, like the rest of the data directory; a symlink in its place
/// is refused.
pub fn create_dir(dir: &Path, tools: &Tools) -> Result<(), BackupError> {
    if let Ok(metadata) = fs::symlink_metadata(dir)
        && !metadata.is_dir()
    {
        return Err(BackupError::Refused(format!(
            "{} is not a directory; move it away",
            dir.display()
        )));
    }
    crate::postgres::create_private_dir(dir)
        .map_err(|error| BackupError::io(format!("creating {}", dir.display()), error))?;
    if let Some(user) = &tools.user {
        user.take_ownership_of(dir)?;
    }
    Ok(())
}
