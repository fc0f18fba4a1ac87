//! Scheduled backups while `serve` runs: one every `backup_interval_hours`
//! counted from the newest backup in the directory (so restarts do not
//! reset the clock), keeping the newest `backup_keep`.

use std::time::Duration;

use time::OffsetDateTime;

use super::Backups;
use super::files::{prune, remove_stale_partials};

/// How long after start an overdue backup waits: a boot is not slowed down,
/// and a process that restarts in a loop does not dump every time.
pub const FIRST_DELAY: Duration = Duration::from_secs(10 * 60);
/// How long a failed backup waits before it is tried again (at most).
pub const RETRY_DELAY: Duration = Duration::from_secs(60 * 60);

/// How long to wait from `now` for the next backup, when the newest one
/// finished at `newest` and backups are `interval` apart; at least `minimum`.
pub fn delay_until_next(
    newest: Option<OffsetDateTime>,
    now: OffsetDateTime,
    interval: Duration,
    minimum: Duration,
) -> Duration {
    let due = newest.map_or(Duration::ZERO, |newest| {
        let elapsed = now - newest;
        let interval = time::Duration::try_from(interval).unwrap_or(time::Duration::MAX);
        Duration::try_from(interval - elapsed).unwrap_or(Duration::ZERO)
    });
    due.max(minimum)
}

/// Runs backups every `interval` for as long as the task lives, keeping
/// the newest `keep`. Aborting the task stops a running pg_dump.
pub async fn run(backups: Backups, interval: Duration, keep: usize) {
    if !backups.can_back_up() {
        return;
    }
    let mut minimum = FIRST_DELAY;
    loop {
        let newest = backups.last_success().map(|last| last.at);
        let delay = delay_until_next(newest, OffsetDateTime::now_utc(), interval, minimum);
        tracing::debug!(seconds = delay.as_secs(), "next scheduled backup");
        tokio::time::sleep(delay).await;
        minimum = Duration::from_secs(60);
        let Some(claim) = backups.claim() else {
            // One is running (started from the admin page): the next turn
            // counts from it.
            continue;
        };
        if let Some(dir) = backups.dir() {
            remove_stale_partials(dir);
        }
        let started = std::time::Instant::now();
        let name = claim.next_name();
        match claim.run(&name).await {
            Ok(file) => {
                tracing::info!(
                    file = %file.path.display(),
                    bytes = file.bytes,
                    seconds = started.elapsed().as_secs_f64(),
                    "scheduled backup written"
                );
                if let Some(dir) = backups.dir() {
                    match prune(dir, keep) {
                        Ok(deleted) if !deleted.is_empty() => {
                            tracing::info!(?deleted, keep, "deleted old backups");
                        }
                        Ok(_) => {}
                        Err(error) => tracing::warn!(%error, "deleting old backups failed"),
                    }
                }
            }
            Err(error) => {
                tracing::error!(%error, "the scheduled backup failed; trying again later");
                minimum = RETRY_DELAY.min(interval);
            }
        }
    }
}
