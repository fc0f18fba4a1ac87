//! The site as its administrator describes it in `/admin/settings`: its
//! name, tagline and description, an accent colour and the time zone
//! visitors read dates in. One row of `site_settings`
//! ([`store`]), kept in memory by [`SiteCache`] and read again every few
//! seconds, so that every instance over one database shows a change soon.

pub mod accent;
pub mod form;
pub mod pages;
pub mod store;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde::Deserialize;
use time::OffsetDateTime;

use crate::audit::{Audited, Fields};

/// The name of a site nobody has named yet.
pub const DEFAULT_NAME: &str = "Soloist";

/// The one row of `site_settings`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SiteSettings {
    /// Shown in the header, page titles and mail.
    pub site_name: String,
    /// One line under the name on the landing page.
    pub tagline: String,
    /// A paragraph on the landing page, and its meta description.
    pub description: String,
    /// `#rrggbb` for buttons and links; the stylesheet's own when `None`.
    pub accent_color: Option<String>,
    /// The IANA zone visitors who are not signed in read dates in.
    pub time_zone: String,
    /// When an administrator last saved the settings (never: `None`).
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub updated_at: Option<OffsetDateTime>,
}

impl Default for SiteSettings {
    /// A fresh install's settings, as the migration makes them.
    fn default() -> Self {
        Self {
            site_name: DEFAULT_NAME.to_owned(),
            tagline: "A complete SaaS application in a single binary.".to_owned(),
            description: String::new(),
            accent_color: None,
            time_zone: "UTC".to_owned(),
            updated_at: None,
        }
    }
}

impl SiteSettings {
    /// Whether an administrator has saved the settings at least once.
    pub fn saved(&self) -> bool {
        self.updated_at.is_some()
    }
}

impl Audited for SiteSettings {
    fn audited(&self) -> Fields {
        Fields::new()
            .with("site_name", &self.site_name)
            .with("tagline", &self.tagline)
            .with("description", &self.description)
            .with("accent_color", &self.accent_color)
            .with("time_zone", &self.time_zone)
    }
}

/// How long an instance trusts its copy before reading the row again.
const FRESH_FOR: Duration = Duration::from_secs(5);

/// The settings in memory: every page needs them, so they are read from
/// the database at most once every [`FRESH_FOR`] (an instance that saves
/// them has them at once; the others within a few seconds).
#[derive(Debug)]
pub struct SiteCache {
    current: RwLock<(Arc<SiteSettings>, Option<Instant>)>,
}

impl Default for SiteCache {
    fn default() -> Self {
        Self {
            current: RwLock::new((Arc::new(SiteSettings::default()), None)),
        }
    }
}

impl SiteCache {
    /// The settings as last read (the defaults before the first read).
    pub fn peek(&self) -> Arc<SiteSettings> {
        match self.current.read() {
            Ok(current) => current.0.clone(),
            Err(poisoned) => poisoned.into_inner().0.clone(),
        }
    }

    /// The settings, read again from `pool` when this copy is older than a
    /// few seconds. When the database cannot answer, the last copy serves:
    /// a page should not fail over its header.
    pub async fn get(&self, pool: &deadpool_postgres::Pool) -> Arc<SiteSettings> {
        let stale = match self.current.read() {
            Ok(current) => current.1.is_none_or(|read| read.elapsed() >= FRESH_FOR),
            Err(_) => true,
        };
        if !stale {
            return self.peek();
        }
        let read = match pool.get().await {
            Ok(client) => store::load(&client)
                .await
                .map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match read {
            Ok(settings) => self.set(settings),
            Err(error) => {
                tracing::warn!(%error, "reading the site settings failed; using the last copy");
                self.peek()
            }
        }
    }

    /// Keeps `settings` as the current copy (after a save, or at start).
    pub fn set(&self, settings: SiteSettings) -> Arc<SiteSettings> {
        let settings = Arc::new(settings);
        match self.current.write() {
            Ok(mut current) => *current = (settings.clone(), Some(Instant::now())),
            Err(poisoned) => *poisoned.into_inner() = (settings.clone(), Some(Instant::now())),
        }
        settings
    }
}
