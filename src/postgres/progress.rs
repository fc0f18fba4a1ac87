//! Progress of the slow boot steps, for the command line's output.

use std::time::{Duration, Instant};

use super::PostgresError;

/// The slow steps of a boot, reported as they start and finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Unpacking the bundled programs.
    Unpack,
    /// Creating the database cluster.
    InitDb,
    /// Starting the server.
    Start,
    /// Recovering from a server left by a killed Soloist.
    Recover,
    /// Applying database migrations.
    Migrate,
    /// Upgrading the cluster from an older major version (pg_upgrade).
    Upgrade,
}

impl Step {
    /// What the step does, for progress output.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Unpack => "Unpacking PostgreSQL",
            Self::InitDb => "Creating the database cluster (first run)",
            Self::Start => "Starting PostgreSQL",
            Self::Recover => "Stopping a PostgreSQL left by an earlier run",
            Self::Migrate => "Migrating the database",
            Self::Upgrade => "Upgrading the database cluster to a new PostgreSQL version",
        }
    }
}

/// Receives progress of the slow steps.
pub trait Progress: Send + Sync {
    /// A step began.
    fn begin(&self, step: Step);
    /// The step ended after `elapsed`.
    fn end(&self, step: Step, elapsed: Duration);
}

/// Progress that goes nowhere (tests, library use).
pub struct Quiet;

impl Progress for Quiet {
    fn begin(&self, _: Step) {}
    fn end(&self, _: Step, _: Duration) {}
}

pub(super) fn timed<T>(
    progress: &dyn Progress,
    step: Step,
    work: impl FnOnce() -> Result<T, PostgresError>,
) -> Result<T, PostgresError> {
    let started = Instant::now();
    progress.begin(step);
    let result = work()?;
    progress.end(step, started.elapsed());
    Ok(result)
}
