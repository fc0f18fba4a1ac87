//! Upgrading a cluster made by an older PostgreSQL major version.
//!
//! A new Soloist may bundle a new major version. Its cluster format differs,
//! so the old cluster is converted with the new version's `pg_upgrade`, which
//! needs the old version's programs too: either an installation named by
//! `--upgrade-from`, or the old Soloist's bundle, which stays in `pg/` for
//! this reason. pg_upgrade runs in copy mode into a new cluster; the old one
//! is left exactly as it was, beside it, as the backup to return to.

use std::fs;
use std::path::{Path, PathBuf};

use super::bundle::{self, Installation};
use super::cluster::{initdb, remove_partial_clusters, sync_cluster};
use super::user::ServerUser;
use super::{Credentials, DataDir, PostgresError};

/// Finds the programs of PostgreSQL `major` to upgrade from: the operator's
/// `upgrade_from`, else a bundle of that version kept in the data directory.
pub fn find_source(
    data_dir: &DataDir,
    major: u32,
    upgrade_from: Option<&Path>,
) -> Result<Option<Installation>, PostgresError> {
    if let Some(dir) = upgrade_from {
        let installation = bundle::external_installation(dir)?;
        if installation.major != major {
            return Err(PostgresError::Installation(format!(
                "--upgrade-from names {}, but the cluster was made by PostgreSQL {major}",
                installation.description
            )));
        }
        return Ok(Some(installation));
    }
    Ok(bundle::kept_bundles(&data_dir.pg_root())
        .into_iter()
        .find(|installation| installation.major == major))
}

/// Upgrades the data directory's cluster from `old` to `new` and returns
/// where the untouched old cluster was kept.
pub fn upgrade(
    data_dir: &DataDir,
    old: &Installation,
    new: &Installation,
    user: &ServerUser,
    credentials: &Credentials,
) -> Result<PathBuf, PostgresError> {
    let pgdata = data_dir.pgdata();
    if pgdata.join("postmaster.pid").exists() {
        super::process::recover_stale_server(&pgdata)?;
    }
    let control = control_data(old, user, &pgdata)?;
    if control.state != "shut down" {
        // A crashed server: let the old version replay its WAL once, so
        // pg_upgrade sees a cleanly shut down cluster.
        start_and_stop(data_dir, old, user)?;
    }
    remove_partial_clusters(data_dir, "pgdata.upgrade-")?;
    let target = data_dir
        .root
        .join(format!("pgdata.upgrade-{}", std::process::id()));
    initdb(
        data_dir,
        &target,
        new,
        user,
        credentials,
        Some(control.checksums),
    )?;
    let output = user
        .command(&new.program("pg_upgrade"))
        .arg("--old-datadir")
        .arg(&pgdata)
        .arg("--new-datadir")
        .arg(&target)
        .arg("--old-bindir")
        .arg(old.dir.join("bin"))
        .arg("--new-bindir")
        .arg(new.dir.join("bin"))
        .args(["--username", &credentials.user])
        .arg("--socketdir")
        .arg(data_dir.socket_dir())
        .env("PGPASSWORD", &credentials.password)
        .env("LC_ALL", "C")
        .env_remove("LANG")
        .env_remove("PGDATA")
        .current_dir(&data_dir.root)
        .output()?;
    if !output.status.success() {
        let report = String::from_utf8_lossy(&output.stdout);
        let tail: Vec<&str> = report.lines().rev().take(12).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        fs::remove_dir_all(&target).ok();
        return Err(PostgresError::Unsafe(format!(
            "upgrading the cluster from PostgreSQL {} to {} failed; the old cluster is unchanged and still in place:\n{}\n{}",
            old.major,
            new.major,
            tail.join("\n"),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    // pg_upgrade leaves a script to delete the old cluster: the kept copy is
    // the operator's to delete, not a script's.
    fs::remove_file(data_dir.root.join("delete_old_cluster.sh")).ok();
    sync_cluster(data_dir, &target, new, user)?;
    let stamp = time::OffsetDateTime::now_utc().unix_timestamp();
    let kept = data_dir
        .root
        .join(format!("pgdata.pg{}-before-upgrade-{stamp}", old.major));
    fs::rename(&pgdata, &kept)?;
    fs::rename(&target, &pgdata)?;
    fs::File::open(&data_dir.root)?.sync_all()?;
    Ok(kept)
}

/// What `pg_controldata` says of a cluster.
struct ControlData {
    /// "shut down", "in production", ...
    state: String,
    /// Whether data checksums are on.
    checksums: bool,
}

fn control_data(
    installation: &Installation,
    user: &ServerUser,
    pgdata: &Path,
) -> Result<ControlData, PostgresError> {
    let output = user
        .command(&installation.program("pg_controldata"))
        .arg(pgdata)
        .env("LC_ALL", "C")
        .env_remove("LANG")
        .output()?;
    if !output.status.success() {
        return Err(PostgresError::Installation(format!(
            "pg_controldata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .map(|value| value.trim_start_matches(':').trim().to_owned())
    };
    Ok(ControlData {
        state: field("Database cluster state").unwrap_or_default(),
        checksums: field("Data page checksum version").is_some_and(|version| version != "0"),
    })
}

/// Starts and stops the old version on the cluster (socket only, fast stop).
fn start_and_stop(
    data_dir: &DataDir,
    installation: &Installation,
    user: &ServerUser,
) -> Result<(), PostgresError> {
    let pgdata = data_dir.pgdata();
    let options = format!(
        "-c listen_addresses='' -c unix_socket_directories={}",
        data_dir.socket_dir().display()
    );
    let log = pgdata.join("start.log").display().to_string();
    for args in [
        vec![
            "start",
            "-w",
            "-t",
            "300",
            "-l",
            log.as_str(),
            "-o",
            options.as_str(),
        ],
        vec!["stop", "-w", "-m", "fast"],
    ] {
        let output = user
            .command(&installation.program("pg_ctl"))
            .arg("-D")
            .arg(&pgdata)
            .args(&args)
            .current_dir(&data_dir.root)
            .output()?;
        if !output.status.success() {
            return Err(PostgresError::Unsafe(format!(
                "PostgreSQL {} could not recover the cluster before the upgrade: {}",
                installation.major,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
    }
    Ok(())
}
