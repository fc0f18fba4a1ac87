//! Running pg_dump and pg_restore.
//!
//! The connection is passed in libpq's environment variables, so the
//! password never shows in a process list. Output goes to a file this
//! process opened, so pg_dump (which runs as the server user when Soloist
//! runs as root) needs no access to where the backup is written.

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use super::{BackupError, BackupFile};
use crate::config::Config;
use crate::postgres::process::DataDirLock;
use crate::postgres::user::ServerUser;
use crate::postgres::{DataDir, bundle};

/// The first bytes of a custom-format archive.
const ARCHIVE_MAGIC: &[u8] = b"PGDMP";

/// libpq settings that could send a program elsewhere than told.
const LIBPQ_VARIABLES: &[&str] = &[
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGOPTIONS",
    "PGAPPNAME",
    "PGSSLMODE",
    "PGCONNECT_TIMEOUT",
    "PGTARGETSESSIONATTRS",
];

/// The PostgreSQL client programs and the user that runs them.
#[derive(Clone, Debug)]
pub struct Tools {
    /// The installation directory (holding `bin/`).
    pub dir: PathBuf,
    /// The server user, when Soloist runs as root and switches to it.
    pub user: Option<ServerUser>,
}

impl Tools {
    /// The programs of `installation_dir`, run as the server user of
    /// `data_dir` when Soloist runs as root: root never executes a program
    /// from a directory that user could alter.
    pub fn new(
        installation_dir: PathBuf,
        data_dir: &Path,
        system_user: &str,
    ) -> Result<Self, BackupError> {
        let user = ServerUser::for_data_dir(data_dir, system_user)?;
        Ok(Self {
            dir: installation_dir,
            user: user.switch.then_some(user),
        })
    }

    /// The programs for a command line: `--postgres-dir`, or the bundle
    /// unpacked in the data directory. With an external database the bundle
    /// is unpacked on first use (under the data directory lock).
    pub fn for_config(config: &Config) -> Result<Self, BackupError> {
        let external = config.database_url.is_some();
        if external {
            crate::postgres::create_private_dir(&config.data_dir).map_err(|error| {
                BackupError::io(format!("creating {}", config.data_dir.display()), error)
            })?;
        }
        let root = fs::canonicalize(&config.data_dir).map_err(|_| {
            BackupError::Refused(format!(
                "{} does not exist yet; run `soloist serve` once to create it",
                config.data_dir.display()
            ))
        })?;
        let data_dir = DataDir { root };
        let dir = match &config.postgres_dir {
            Some(dir) => dir.clone(),
            None => match bundle::unpacked_dir(&data_dir.pg_root()) {
                Some(dir) => dir,
                None if external => {
                    let _lock = DataDirLock::acquire(&data_dir.root)?;
                    bundle::unpack_bundled(&data_dir.pg_root())?.dir
                }
                None => {
                    return Err(BackupError::Refused(
                        "the bundled PostgreSQL is not unpacked yet; run `soloist serve` once"
                            .to_owned(),
                    ));
                }
            },
        };
        let tools = Self::new(dir, &data_dir.root, &config.system_user)?;
        if external && let Some(user) = &tools.user {
            // A data directory root made for the programs alone: hand it to
            // the user that runs them, as `serve` does with its own.
            user.check_reachable(&data_dir.root)?;
            user.take_ownership_of(&data_dir.root)?;
            if data_dir.pg_root().exists() {
                user.take_ownership(&data_dir.pg_root())?;
            }
        }
        Ok(tools)
    }

    fn program(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }

    fn command(&self, name: &'static str, connect: &tokio_postgres::Config) -> Program {
        let path = self.program(name);
        let std_command = match &self.user {
            Some(user) => user.command(&path),
            None => std::process::Command::new(&path),
        };
        let mut command = tokio::process::Command::from(std_command);
        command.kill_on_drop(true).current_dir("/");
        for variable in LIBPQ_VARIABLES {
            command.env_remove(variable);
        }
        command.envs(libpq_environment(connect));
        Program {
            name,
            path,
            command,
        }
    }
}

/// A command about to run, with what to say when it cannot.
struct Program {
    name: &'static str,
    path: PathBuf,
    command: tokio::process::Command,
}

impl Program {
    /// Runs it to the end; its stderr's last lines become the error.
    async fn run(mut self) -> Result<(), BackupError> {
        // Not `output()`: it would replace the stdout the caller chose.
        let running = |error| BackupError::io(format!("running {}", self.path.display()), error);
        let output = self
            .command
            .stderr(Stdio::piped())
            .spawn()
            .map_err(running)?
            .wait_with_output()
            .await
            .map_err(running)?;
        if output.status.success() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect();
        let tail = lines[lines.len().saturating_sub(8)..].join("\n");
        Err(BackupError::Tool {
            program: self.name,
            message: if tail.is_empty() {
                format!("it exited with {}", output.status)
            } else {
                tail
            },
        })
    }
}

/// libpq's environment for `connect`: host(s), port(s), user, password,
/// database and timeout.
fn libpq_environment(connect: &tokio_postgres::Config) -> Vec<(&'static str, OsString)> {
    use tokio_postgres::config::Host;
    let mut variables = Vec::new();
    let hosts: Vec<OsString> = connect
        .get_hosts()
        .iter()
        .map(|host| match host {
            Host::Tcp(name) => OsString::from(name),
            Host::Unix(path) => path.as_os_str().to_owned(),
        })
        .collect();
    if !hosts.is_empty() {
        variables.push(("PGHOST", join(&hosts)));
    }
    let ports: Vec<OsString> = connect
        .get_ports()
        .iter()
        .map(|port| OsString::from(port.to_string()))
        .collect();
    if !ports.is_empty() {
        variables.push(("PGPORT", join(&ports)));
    }
    if let Some(user) = connect.get_user() {
        variables.push(("PGUSER", OsString::from(user)));
    }
    if let Some(password) = connect.get_password() {
        variables.push((
            "PGPASSWORD",
            std::ffi::OsStr::from_bytes(password).to_owned(),
        ));
    }
    if let Some(database) = connect.get_dbname() {
        variables.push(("PGDATABASE", OsString::from(database)));
    }
    if let Some(timeout) = connect.get_connect_timeout() {
        variables.push((
            "PGCONNECT_TIMEOUT",
            OsString::from(timeout.as_secs().max(2).to_string()),
        ));
    }
    variables.push(("PGAPPNAME", OsString::from("soloist backup")));
    variables
}

fn join(values: &[OsString]) -> OsString {
    let mut joined = OsString::new();
    for (index, value) in values.iter().enumerate() {
        if index > 0 {
            joined.push(",");
        }
        joined.push(value);
    }
    joined
}

fn open_private(path: &Path) -> Result<fs::File, BackupError> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)
        .map_err(|error| BackupError::io(format!("creating {}", path.display()), error))
}

/// Opens `path` for reading and checks that it is a custom-format archive.
pub(super) fn open_archive(path: &Path) -> Result<fs::File, BackupError> {
    let mut file = fs::File::open(path)
        .map_err(|error| BackupError::io(format!("opening {}", path.display()), error))?;
    let mut magic = [0u8; 5];
    let is_archive = file.read_exact(&mut magic).is_ok() && magic == ARCHIVE_MAGIC;
    if !is_archive {
        return Err(BackupError::NotAnArchive(path.to_path_buf()));
    }
    // pg_restore reads it from the start.
    open_again(path)
}

fn open_again(path: &Path) -> Result<fs::File, BackupError> {
    fs::File::open(path)
        .map_err(|error| BackupError::io(format!("opening {}", path.display()), error))
}

/// Dumps the database `connect` names into `out` (pg_dump's custom format),
/// at the exported `snapshot` when given. The file appears under its name
/// only when pg_dump succeeded and pg_restore can read its table of
/// contents; before that it is a hidden `.<name>.partial` beside it.
pub async fn dump(
    tools: &Tools,
    connect: &tokio_postgres::Config,
    out: &Path,
    snapshot: Option<&str>,
) -> Result<BackupFile, BackupError> {
    let parent = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(name) = out.file_name() else {
        return Err(BackupError::Refused(format!(
            "{} names no file",
            out.display()
        )));
    };
    let mut partial_name = OsString::from(".");
    partial_name.push(name);
    partial_name.push(".partial");
    let partial = parent.join(partial_name);
    fs::remove_file(&partial).ok();
    let file = open_private(&partial)?;
    let result = async {
        let output = file
            .try_clone()
            .map_err(|error| BackupError::io("duplicating a file handle", error))?;
        let mut program = tools.command("pg_dump", connect);
        program
            .command
            .args([
                "--format=custom",
                "--no-password",
                "--lock-wait-timeout=120s",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::from(output));
        if let Some(snapshot) = snapshot {
            program.command.arg(format!("--snapshot={snapshot}"));
        }
        program.run().await?;
        file.sync_all()
            .map_err(|error| BackupError::io(format!("writing {}", partial.display()), error))?;
        check_archive(tools, &partial).await
    }
    .await;
    if let Err(error) = result {
        fs::remove_file(&partial).ok();
        return Err(error);
    }
    if let Some(user) = &tools.user
        && fs::metadata(&parent).is_ok_and(|metadata| metadata.uid() == user.uid.as_raw())
    {
        // A backup in the server user's directory belongs to it, like the
        // rest of the data directory.
        user.take_ownership_of(&partial)?;
    }
    if let Err(error) = fs::rename(&partial, out) {
        fs::remove_file(&partial).ok();
        return Err(BackupError::io(
            format!("renaming to {}", out.display()),
            error,
        ));
    }
    if let Ok(directory) = fs::File::open(&parent) {
        directory.sync_all().ok();
    }
    BackupFile::at(out)
}

/// Reads the table of contents of the archive at `path`.
pub(super) async fn check_archive(tools: &Tools, path: &Path) -> Result<(), BackupError> {
    let file = open_archive(path)?;
    let mut program = tools.command("pg_restore", &tokio_postgres::Config::new());
    program
        .command
        .arg("--list")
        .stdin(Stdio::from(file))
        .stdout(Stdio::null());
    program.run().await
}

/// Restores the archive at `path` into the database `connect` names, in one
/// transaction: it all lands, or nothing does. Objects are owned by the
/// connecting user, and grants to roles of the original server are left out.
pub(super) async fn restore_into(
    tools: &Tools,
    connect: &tokio_postgres::Config,
    path: &Path,
) -> Result<(), BackupError> {
    let file = open_archive(path)?;
    let database = connect.get_dbname().unwrap_or("soloist");
    let mut program = tools.command("pg_restore", connect);
    program
        .command
        .args([
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
        ])
        .arg(format!(
            "--dbname=dbname='{}'",
            database.replace('\\', "\\\\").replace('\'', "\\'")
        ))
        .stdin(Stdio::from(file))
        .stdout(Stdio::null());
    program.run().await
}
