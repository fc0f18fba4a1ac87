//! The database cluster on disk: its version, and making a new one (from
//! the bundled template or with initdb), durably.

use std::fs;
use std::path::{Path, PathBuf};

use super::bundle::Installation;
use super::credentials::Credentials;
use super::data_dir::{DataDir, write_private};
use super::user::ServerUser;
use super::{PostgresError, process, template};

/// The major version of the cluster in the data directory, if there is one.
pub(super) fn cluster_major(data_dir: &DataDir) -> Result<Option<u32>, PostgresError> {
    let Some(found) = process::read_optional(&data_dir.pgdata().join("PG_VERSION"))? else {
        return Ok(None);
    };
    found.trim().parse().map(Some).map_err(|_| {
        PostgresError::Unsafe(format!(
            "{} holds an unreadable PG_VERSION ({:?}); nothing was changed",
            data_dir.pgdata().display(),
            found.trim()
        ))
    })
}

/// Refuses a cluster made by another major version that cannot be upgraded
/// from here: never initdb over data.
pub(super) fn version_mismatch(
    data_dir: &DataDir,
    found: u32,
    installation: &Installation,
) -> PostgresError {
    PostgresError::VersionMismatch {
        pgdata: data_dir.pgdata(),
        found: found.to_string(),
        expected: installation.major,
    }
}

/// A template cluster being unpacked into `pgdata.init-<pid>`.
pub(super) type TemplateJob = (PathBuf, std::thread::JoinHandle<Result<(), PostgresError>>);

/// Makes a new cluster in `pgdata.init-<pid>` (from the template being
/// unpacked there, else with initdb) and renames it into place on success,
/// so a crash half-way never leaves a cluster that looks finished.
pub(super) fn init_cluster(
    data_dir: &DataDir,
    installation: &Installation,
    user: &ServerUser,
    credentials: &Credentials,
    template: Option<TemplateJob>,
) -> Result<(), PostgresError> {
    let pgdata = data_dir.pgdata();
    let from_template = match template {
        Some((partial, job)) => {
            let unpacked = job.join().unwrap_or_else(|_| {
                Err(PostgresError::Installation(
                    "the template unpacking thread panicked".to_owned(),
                ))
            });
            match unpacked
                .and_then(|()| adopt_template(data_dir, &partial, installation, user, credentials))
            {
                Ok(()) => Some(partial),
                Err(error) => {
                    tracing::warn!(%error, "the template cluster could not be used; running initdb");
                    fs::remove_dir_all(&partial).ok();
                    None
                }
            }
        }
        None => None,
    };
    if pgdata.exists() {
        return Err(PostgresError::Unsafe(format!(
            "{} exists but has no PG_VERSION: it is not a PostgreSQL cluster; move it away and start again",
            pgdata.display()
        )));
    }
    let partial = match from_template {
        Some(partial) => partial,
        None => {
            remove_partial_clusters(data_dir, "pgdata.init-")?;
            let partial = data_dir
                .root
                .join(format!("pgdata.init-{}", std::process::id()));
            initdb(data_dir, &partial, installation, user, credentials, None)?;
            partial
        }
    };
    fs::rename(&partial, &pgdata)?;
    fs::File::open(&data_dir.root)?.sync_all()?;
    Ok(())
}

/// Makes the unpacked template in `partial` this installation's own: the
/// server user's, with a new system identifier and the superuser password
/// of `credentials` (set in single-user mode, so no server ever runs with
/// the template's), then durable.
fn adopt_template(
    data_dir: &DataDir,
    partial: &Path,
    installation: &Installation,
    user: &ServerUser,
    credentials: &Credentials,
) -> Result<(), PostgresError> {
    user.take_ownership(partial)?;
    template::give_identity(partial)?;
    let password = credentials.password.replace('\'', "''");
    let role = credentials.user.replace('"', "\"\"");
    let mut command = user.command(&installation.program("postgres"));
    command
        .args(["--single", "-F", "-D"])
        .arg(partial)
        .arg("template1")
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .env_remove("LANG")
        .current_dir(&data_dir.root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(format!("ALTER ROLE \"{role}\" PASSWORD '{password}'\n").as_bytes())?;
    }
    let output = child.wait_with_output()?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() || said.contains("ERROR") || said.contains("FATAL") {
        return Err(PostgresError::InitDb(format!(
            "setting the superuser password failed: {}",
            said.trim()
        )));
    }
    sync_cluster(data_dir, partial, installation, user)
}

/// Removes clusters that an interrupted initdb or upgrade left under
/// `prefix`: no data was ever served from them.
pub(super) fn remove_partial_clusters(
    data_dir: &DataDir,
    prefix: &str,
) -> Result<(), PostgresError> {
    for entry in fs::read_dir(&data_dir.root)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// Creates a new, durable cluster in `target` (removed again on failure).
/// `checksums` forces data checksums on or off (an upgrade must match the
/// old cluster); `None` keeps the version's default.
pub(super) fn initdb(
    data_dir: &DataDir,
    target: &Path,
    installation: &Installation,
    user: &ServerUser,
    credentials: &Credentials,
    checksums: Option<bool>,
) -> Result<(), PostgresError> {
    let pwfile = data_dir.root.join("pwfile");
    write_private(&pwfile, credentials.password.as_bytes())?;
    user.take_ownership(&pwfile)?;

    let mut command = user.command(&installation.program("initdb"));
    command
        .arg("--pgdata")
        .arg(target)
        .args(["--username", &credentials.user])
        .arg(format!("--pwfile={}", pwfile.display()))
        .args(["--auth-local=scram-sha-256", "--auth-host=scram-sha-256"])
        .args(["--encoding=UTF8", "--locale=C", "--no-instructions"])
        .env("LC_ALL", "C")
        // The server's time zone is UTC, as in the template cluster.
        .env("TZ", "UTC")
        .env_remove("LANG")
        .current_dir(&data_dir.root);
    if installation.major >= 17 {
        command.args(["--locale-provider=builtin", "--builtin-locale=C.UTF-8"]);
    }
    match checksums {
        Some(true) => {
            command.arg("--data-checksums");
        }
        Some(false) if installation.major >= 18 => {
            command.arg("--no-data-checksums");
        }
        _ => {}
    }
    // Bootstrap without per-file fsyncs, then make the whole cluster durable
    // with one syncfs (initdb --sync-only) before it is renamed into place:
    // as durable as initdb's default, in about half the time.
    command.arg("--no-sync");
    let output = command.output();
    fs::remove_file(&pwfile).ok();
    let output = output?;
    if !output.status.success() {
        fs::remove_dir_all(target).ok();
        return Err(PostgresError::InitDb(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    if let Err(error) = sync_cluster(data_dir, target, installation, user) {
        fs::remove_dir_all(target).ok();
        return Err(error);
    }
    Ok(())
}

/// Flushes a whole cluster to disk (one syncfs where the version has it).
pub(super) fn sync_cluster(
    data_dir: &DataDir,
    target: &Path,
    installation: &Installation,
    user: &ServerUser,
) -> Result<(), PostgresError> {
    let sync = |method: Option<&str>| {
        let mut sync = user.command(&installation.program("initdb"));
        sync.arg("--pgdata").arg(target).arg("--sync-only");
        if let Some(method) = method {
            sync.arg(format!("--sync-method={method}"));
        }
        sync.current_dir(&data_dir.root).output()
    };
    let synced = match sync(Some("syncfs")) {
        Ok(output) if output.status.success() => output,
        _ => sync(None)?,
    };
    if !synced.status.success() {
        return Err(PostgresError::InitDb(
            String::from_utf8_lossy(&synced.stderr).trim().to_owned(),
        ));
    }
    Ok(())
}
