//! An error with its causes on one line, for logs:
//! `what failed: caused by: why: caused by: why that`. A cause whose
//! message the one before already ends with (errors that both print their
//! source and return it, as deadpool's do) is said once.

use std::error::Error;
use std::fmt;

/// Displays an error followed by each of its sources.
pub struct Chain<'a>(pub &'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut said = self.0.to_string();
        formatter.write_str(&said)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            let message = cause.to_string();
            if !said.ends_with(&message) {
                write!(formatter, ": caused by: {message}")?;
            }
            said = message;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Chain;

    #[derive(Debug, thiserror::Error)]
    #[error("saving the post")]
    struct Saving(#[source] std::io::Error);

    #[test]
    fn a_chain_names_every_cause_in_order() {
        let error = Saving(std::io::Error::other("disk on fire"));
        assert_eq!(
            Chain(&error).to_string(),
            "saving the post: caused by: disk on fire"
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("saving the post: {0}")]
    struct SaysItsSource(#[source] std::io::Error);

    #[test]
    fn a_cause_already_said_by_the_error_before_is_not_repeated() {
        let error = SaysItsSource(std::io::Error::other("disk on fire"));
        assert_eq!(Chain(&error).to_string(), "saving the post: disk on fire");
    }

    #[test]
    fn an_error_without_a_source_is_just_its_message() {
        let error = std::io::Error::other("disk on fire");
        assert_eq!(Chain(&error).to_string(), "disk on fire");
    }
}
