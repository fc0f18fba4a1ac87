//! Times shown in the reader's time zone. Timestamps are UTC at rest; the
//! conversion uses PostgreSQL's time zone database (current, and one round
//! trip for every time on a page) rather than a second copy in the binary.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use time::OffsetDateTime;

use crate::db::StoreError;

const FORMAT: &str = "SELECT t, to_char(t AT TIME ZONE $1, 'YYYY-MM-DD HH24:MI') \
     FROM unnest($2::timestamptz[]) AS t";

/// Statements of this module, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[FORMAT];

/// Instants formatted in one time zone.
#[derive(Clone, Debug, Default)]
pub struct LocalTimes {
    zone: String,
    formatted: HashMap<i128, String>,
}

impl LocalTimes {
    /// Formats `moments` in the IANA zone `zone` (one query).
    pub async fn load(
        client: &impl GenericClient,
        zone: &str,
        moments: impl IntoIterator<Item = OffsetDateTime>,
    ) -> Result<Self, StoreError> {
        let moments: Vec<OffsetDateTime> = moments.into_iter().collect();
        let statement = client.prepare_cached(FORMAT).await?;
        let formatted = client
            .query(&statement, &[&zone, &moments])
            .await?
            .iter()
            .map(|row| {
                let moment: OffsetDateTime = row.get(0);
                (moment.unix_timestamp_nanos(), row.get::<_, String>(1))
            })
            .collect();
        Ok(Self {
            zone: zone.to_owned(),
            formatted,
        })
    }

    /// `moment` as "2026-11-25 09:30 Europe/Berlin" (UTC if it was not loaded).
    pub fn show(&self, moment: OffsetDateTime) -> String {
        match self.formatted.get(&moment.unix_timestamp_nanos()) {
            Some(text) => format!("{text} {}", self.zone),
            None => {
                let format =
                    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
                moment
                    .to_offset(time::UtcOffset::UTC)
                    .format(&format)
                    .unwrap_or_default()
            }
        }
    }
}
