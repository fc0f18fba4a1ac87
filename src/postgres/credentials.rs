//! The superuser's credentials, kept in the data directory, and how to
//! connect with them.

use std::fs;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::data_dir::{DataDir, PORT, write_private};
use super::{PostgresError, process};

/// The superuser created by initdb.
const SUPERUSER: &str = "postgres";

/// The superuser name and password, persisted in the data directory so that
/// every later boot (and `soloist db url`) can log in.
#[derive(Clone, Serialize, Deserialize)]
pub struct Credentials {
    /// The superuser's name.
    pub user: String,
    /// Its password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Reads the credentials of a data directory, if it has any.
    pub fn load(data_dir: &DataDir) -> Result<Option<Self>, PostgresError> {
        let Some(text) = process::read_optional(&data_dir.credentials_file())? else {
            return Ok(None);
        };
        serde_json::from_str(&text).map(Some).map_err(|error| {
            PostgresError::Unsafe(format!(
                "{} is damaged: {error}",
                data_dir.credentials_file().display()
            ))
        })
    }

    pub(super) fn generate() -> Result<Self, PostgresError> {
        Ok(Self {
            user: SUPERUSER.to_owned(),
            password: random_password()?,
        })
    }

    pub(super) fn save(&self, data_dir: &DataDir) -> Result<(), PostgresError> {
        let path = data_dir.credentials_file();
        let partial = path.with_extension("json.partial");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        write_private(&partial, text.as_bytes())?;
        fs::rename(&partial, &path)?;
        Ok(())
    }

    /// A tokio-postgres configuration for `database` over the socket of `data_dir`.
    pub fn connect_config(&self, data_dir: &DataDir, database: &str) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(data_dir.socket_dir())
            .port(PORT)
            .user(&self.user)
            .password(&self.password)
            .dbname(database)
            .application_name("soloist")
            .connect_timeout(Duration::from_secs(5));
        config
    }

    /// A libpq URL for `database` that `psql` accepts.
    pub fn url(&self, data_dir: &DataDir, database: &str) -> String {
        format!(
            "postgresql://{}:{}@/{}?host={}&port={PORT}",
            percent_encode(&self.user),
            percent_encode(&self.password),
            percent_encode(database),
            percent_encode(&data_dir.socket_dir().to_string_lossy()),
        )
    }
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn random_password() -> Result<String, PostgresError> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| PostgresError::Unsafe(format!("no randomness: {error}")))?;
    Ok(bytes
        .iter()
        .map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]))
        .collect())
}
