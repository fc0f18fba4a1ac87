//! How a boot's slow steps show on the terminal.

use std::time::Duration;

use crate::postgres::{Progress, Step};

/// Prints the slow steps of a boot with their duration: on a terminal, the
/// step shows while it runs; in a log, one line when it is done.
pub(super) struct ConsoleProgress {
    pub(super) terminal: bool,
}

impl Progress for ConsoleProgress {
    fn begin(&self, step: Step) {
        if self.terminal {
            use std::io::Write;
            eprint!("  {} ... ", step.describe());
            std::io::stderr().flush().ok();
        }
    }
    fn end(&self, step: Step, elapsed: Duration) {
        if self.terminal {
            eprintln!("done ({})", human(elapsed));
        } else {
            eprintln!("  {}: done in {}", step.describe(), human(elapsed));
        }
    }
}

pub(super) fn human(elapsed: Duration) -> String {
    if elapsed < Duration::from_secs(1) {
        format!("{} ms", elapsed.as_millis())
    } else {
        format!("{:.1} s", elapsed.as_secs_f64())
    }
}

/// Progress of a one-off command's boot: only the rare, slow steps (first
/// run, recovery, upgrade) are worth a line.
pub(super) struct OneOffProgress(ConsoleProgress);

impl OneOffProgress {
    pub(super) fn new() -> Self {
        Self(ConsoleProgress {
            terminal: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        })
    }
}

impl Progress for OneOffProgress {
    fn begin(&self, step: Step) {
        if !matches!(step, Step::Start | Step::Migrate) {
            self.0.begin(step);
        }
    }
    fn end(&self, step: Step, elapsed: Duration) {
        if !matches!(step, Step::Start | Step::Migrate) {
            self.0.end(step, elapsed);
        }
    }
}
