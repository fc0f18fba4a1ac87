//! Times shown in the reader's time zone: a signed-in user's profile zone,
//! or the site's for visitors ([`super::visitor::Visitor::time_zone`]).
//! Timestamps are UTC at rest; the conversion uses PostgreSQL's time zone
//! database (current, and one round trip for every time on a page) rather
//! than a second copy in the binary. A page in UTC needs no round trip.

use std::collections::HashMap;

use deadpool_postgres::GenericClient;
use time::{OffsetDateTime, UtcOffset};

use crate::db::StoreError;

/// Each instant with its offset from UTC in zone `$1`, in seconds.
const OFFSETS: &str = "SELECT t, extract(epoch FROM (t AT TIME ZONE $1) - (t AT TIME ZONE 'UTC'))::int \
     FROM unnest($2::timestamptz[]) AS t";

/// The instant whose wall clock in zone `$2` reads what `$1` reads in UTC.
const WALL_CLOCK: &str = "SELECT ($1::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE $2";

/// Statements of this module, for the test that prepares them all.
pub const STATEMENTS: &[&str] = &[OFFSETS, WALL_CLOCK];

/// The instant at which the clocks of zone `zone` read what `moment`'s
/// reads in UTC: a day typed into a filter ("from 2026-12-01", parsed as
/// UTC midnight) becomes that day's midnight in the reader's zone.
pub async fn wall_clock_in(
    client: &impl GenericClient,
    zone: &str,
    moment: OffsetDateTime,
) -> Result<OffsetDateTime, StoreError> {
    if zone == "UTC" || zone.is_empty() {
        return Ok(moment);
    }
    let statement = client.prepare_cached(WALL_CLOCK).await?;
    Ok(client
        .query_one(&statement, &[&moment, &zone])
        .await?
        .get(0))
}

/// Instants in one time zone.
#[derive(Clone, Debug)]
pub struct LocalTimes {
    zone: String,
    offsets: HashMap<i128, UtcOffset>,
}

impl Default for LocalTimes {
    fn default() -> Self {
        Self::utc()
    }
}

impl LocalTimes {
    /// Times in UTC (no database needed).
    pub fn utc() -> Self {
        Self {
            zone: "UTC".to_owned(),
            offsets: HashMap::new(),
        }
    }

    /// Looks up `moments` in the IANA zone `zone` (one query, none for UTC).
    pub async fn load(
        client: &impl GenericClient,
        zone: &str,
        moments: impl IntoIterator<Item = OffsetDateTime>,
    ) -> Result<Self, StoreError> {
        if zone == "UTC" || zone.is_empty() {
            return Ok(Self::utc());
        }
        let moments: Vec<OffsetDateTime> = moments.into_iter().collect();
        if moments.is_empty() {
            return Ok(Self {
                zone: zone.to_owned(),
                offsets: HashMap::new(),
            });
        }
        let statement = client.prepare_cached(OFFSETS).await?;
        let offsets = client
            .query(&statement, &[&zone, &moments])
            .await?
            .iter()
            .filter_map(|row| {
                let moment: OffsetDateTime = row.get(0);
                let seconds: i32 = row.get(1);
                let offset = UtcOffset::from_whole_seconds(seconds).ok()?;
                Some((moment.unix_timestamp_nanos(), offset))
            })
            .collect();
        Ok(Self {
            zone: zone.to_owned(),
            offsets,
        })
    }

    /// The zone's name ("Europe/Berlin", "UTC").
    pub fn zone(&self) -> &str {
        &self.zone
    }

    /// `moment` in the zone (in UTC if it was not loaded, which [`show`]
    /// then says).
    ///
    /// [`show`]: Self::show
    pub fn local(&self, moment: OffsetDateTime) -> OffsetDateTime {
        moment.to_offset(self.offset(moment).unwrap_or(UtcOffset::UTC))
    }

    fn offset(&self, moment: OffsetDateTime) -> Option<UtcOffset> {
        if self.zone == "UTC" {
            return Some(UtcOffset::UTC);
        }
        self.offsets.get(&moment.unix_timestamp_nanos()).copied()
    }

    fn zone_of(&self, moment: OffsetDateTime) -> &str {
        if self.offset(moment).is_some() {
            &self.zone
        } else {
            "UTC"
        }
    }

    /// `moment` as "2026-11-25 09:30 Europe/Berlin".
    pub fn show(&self, moment: OffsetDateTime) -> String {
        let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
        let text = self.local(moment).format(&format).unwrap_or_default();
        format!("{text} {}", self.zone_of(moment))
    }

    /// `moment` to the second, as "2026-11-25 09:30:15 Europe/Berlin".
    pub fn precise(&self, moment: OffsetDateTime) -> String {
        let format =
            time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        let text = self.local(moment).format(&format).unwrap_or_default();
        format!("{text} {}", self.zone_of(moment))
    }

    /// The day of `moment` in the zone, as "3 Jan 2026".
    pub fn day(&self, moment: OffsetDateTime) -> String {
        let format =
            time::macros::format_description!("[day padding:none] [month repr:short] [year]");
        self.local(moment).format(&format).unwrap_or_default()
    }

    /// The day of `moment` in the zone, as "2026-01-03".
    pub fn date(&self, moment: OffsetDateTime) -> String {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        self.local(moment).format(&format).unwrap_or_default()
    }

    /// `moment` for a `datetime` attribute: RFC 3339 to the second, with
    /// the zone's offset ("2026-01-03T11:00:00+01:00").
    pub fn machine(&self, moment: OffsetDateTime) -> String {
        let local = self.local(moment).replace_nanosecond(0).unwrap_or(moment);
        local
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn utc_needs_no_lookup_and_says_so() {
        let times = LocalTimes::utc();
        let moment = datetime!(2026-01-03 10:00:00.123456 UTC);
        assert_eq!(times.show(moment), "2026-01-03 10:00 UTC");
        assert_eq!(times.precise(moment), "2026-01-03 10:00:00 UTC");
        assert_eq!(times.day(moment), "3 Jan 2026");
        assert_eq!(times.machine(moment), "2026-01-03T10:00:00Z");
    }

    #[test]
    fn a_loaded_offset_moves_the_day_and_names_the_zone() {
        let moment = datetime!(2026-01-03 23:30 UTC);
        let mut offsets = HashMap::new();
        offsets.insert(
            moment.unix_timestamp_nanos(),
            UtcOffset::from_hms(1, 0, 0).unwrap(),
        );
        let times = LocalTimes {
            zone: "Europe/Berlin".to_owned(),
            offsets,
        };
        assert_eq!(times.show(moment), "2026-01-04 00:30 Europe/Berlin");
        assert_eq!(times.day(moment), "4 Jan 2026");
        assert_eq!(times.date(moment), "2026-01-04");
        assert_eq!(times.machine(moment), "2026-01-04T00:30:00+01:00");
        // A moment that was not looked up is shown in UTC, and says so.
        let other = datetime!(2026-06-01 12:00 UTC);
        assert_eq!(times.show(other), "2026-06-01 12:00 UTC");
    }
}
