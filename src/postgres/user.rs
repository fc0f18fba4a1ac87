//! Who the PostgreSQL processes run as.
//!
//! PostgreSQL refuses to run as root. When Soloist runs as root (CI, many
//! VPS setups), the server programs run as the owner of the data directory:
//! a data directory created by root is handed to an unprivileged system user
//! (`soloist` by default, created if missing). postgresql_embedded builds its
//! commands itself, so the switch happens in small shims: `<data>/shim/bin/pg_ctl`
//! re-executes this binary's hidden `__run-as` command, which drops to that
//! user and executes the real program.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::unistd::{Gid, Uid, User};

use super::PostgresError;
use super::bundle::Installation;

/// The account the PostgreSQL server programs run as.
#[derive(Clone, Debug)]
pub struct ServerUser {
    /// Its name, for messages and for `__run-as`.
    pub name: String,
    /// Its user id.
    pub uid: Uid,
    /// Its primary group id.
    pub gid: Gid,
    /// True when Soloist runs as root and must switch to this user.
    pub switch: bool,
}

impl ServerUser {
    /// Decides the server user for `data_dir` (which exists).
    pub fn for_data_dir(data_dir: &Path, system_user: &str) -> Result<Self, PostgresError> {
        let euid = Uid::effective();
        if !euid.is_root() {
            return Ok(Self {
                name: User::from_uid(euid)
                    .ok()
                    .flatten()
                    .map_or_else(|| euid.to_string(), |user| user.name),
                uid: euid,
                gid: Gid::effective(),
                switch: false,
            });
        }
        let owner = Uid::from_raw(fs::metadata(data_dir)?.uid());
        let user = if owner.is_root() {
            lookup_or_create(system_user)?
        } else {
            User::from_uid(owner)
                .map_err(|error| {
                    PostgresError::User(format!("cannot look up uid {owner}: {error}"))
                })?
                .ok_or_else(|| {
                    PostgresError::User(format!(
                        "{} belongs to uid {owner}, which has no account on this machine",
                        data_dir.display()
                    ))
                })?
        };
        if user.uid.is_root() {
            return Err(PostgresError::User(format!(
                "the server user {:?} is root; PostgreSQL refuses to run as root",
                user.name
            )));
        }
        Ok(Self {
            name: user.name,
            uid: user.uid,
            gid: user.gid,
            switch: true,
        })
    }

    /// A command that runs `program` as this user.
    pub fn command(&self, program: &Path) -> Command {
        let mut command = Command::new(program);
        if self.switch {
            command.uid(self.uid.as_raw()).gid(self.gid.as_raw());
        }
        command
    }

    /// Makes `path` and everything under it belong to this user (only when
    /// switching; entries already owned are left alone). Symlinks are not
    /// followed.
    pub fn take_ownership(&self, path: &Path) -> Result<(), PostgresError> {
        if !self.switch {
            return Ok(());
        }
        self.take_ownership_of(path)?;
        if fs::symlink_metadata(path)?.is_dir() {
            for entry in fs::read_dir(path)? {
                self.take_ownership(&entry?.path())?;
            }
        }
        Ok(())
    }

    /// True when `path` already belongs to this user (always, when not switching).
    pub fn owns(&self, path: &Path) -> Result<bool, PostgresError> {
        let metadata = fs::symlink_metadata(path)?;
        Ok(!self.switch
            || (metadata.uid() == self.uid.as_raw() && metadata.gid() == self.gid.as_raw()))
    }

    /// Makes `path` itself (not its contents) belong to this user.
    pub fn take_ownership_of(&self, path: &Path) -> Result<(), PostgresError> {
        if self.owns(path)? {
            return Ok(());
        }
        nix::unistd::fchownat(
            nix::fcntl::AT_FDCWD,
            path,
            Some(self.uid),
            Some(self.gid),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(|error| PostgresError::User(format!("cannot chown {}: {error}", path.display())))
    }

    /// Refuses, with the reason, a data directory the user cannot reach
    /// (typically one under `/root`, which is 0700).
    pub fn check_reachable(&self, data_dir: &Path) -> Result<(), PostgresError> {
        if !self.switch {
            return Ok(());
        }
        for ancestor in data_dir.ancestors().skip(1) {
            let metadata = fs::metadata(ancestor)?;
            let mode = metadata.permissions().mode();
            let allowed = if metadata.uid() == self.uid.as_raw() {
                mode & 0o100 != 0
            } else if metadata.gid() == self.gid.as_raw() {
                mode & 0o010 != 0
            } else {
                mode & 0o001 != 0
            };
            if !allowed {
                return Err(PostgresError::User(format!(
                    "PostgreSQL runs as the unprivileged user {:?}, which cannot enter {} (mode {:o}). \
                     Choose a data directory it can reach, such as /var/lib/soloist (--data-dir or SOLOIST_DATA_DIR).",
                    self.name,
                    ancestor.display(),
                    mode & 0o7777
                )));
            }
        }
        Ok(())
    }

    /// The installation postgresql_embedded should run: the real one, or
    /// when switching a directory of shims around it.
    ///
    /// Root executes the shims, so they live outside the data directory (which
    /// the server user owns and could alter), in a root-owned runtime
    /// directory; the programs they start run only after dropping to the
    /// server user.
    pub fn installation_for_embedded(
        &self,
        real: &Installation,
        data_dir: &Path,
        runner: &Path,
    ) -> Result<PathBuf, PostgresError> {
        if !self.switch {
            return Ok(real.dir.clone());
        }
        let shim_root = root_runtime_dir(data_dir)?;
        let bin = shim_root.join("bin");
        private_root_dir(&bin)?;
        for program in ["pg_ctl", "initdb", "postgres"] {
            let script = format!(
                "#!/bin/sh\n# Written by Soloist: runs PostgreSQL's {program} as {user}.\nexec {runner} __run-as {user} {target} \"$@\"\n",
                runner = shell_quote(&runner.to_string_lossy()),
                user = shell_quote(&self.name),
                target = shell_quote(&real.program(program).to_string_lossy()),
            );
            let path = bin.join(program);
            let partial = bin.join(format!(".{program}.partial"));
            fs::remove_file(&partial).ok();
            super::data_dir::write_private(&partial, script.as_bytes())?;
            fs::set_permissions(&partial, fs::Permissions::from_mode(0o755))?;
            fs::rename(&partial, &path)?;
        }
        Ok(shim_root)
    }
}

/// `/run/soloist/<hash of the data dir>` (or the same under the temporary
/// directory where `/run` is not writable), owned by root.
fn root_runtime_dir(data_dir: &Path) -> Result<PathBuf, PostgresError> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    data_dir.hash(&mut hasher);
    let name = format!("{:016x}", hasher.finish());
    for base in [
        PathBuf::from("/run/soloist"),
        std::env::temp_dir().join("soloist-root"),
    ] {
        if private_root_dir(&base).is_ok() {
            let dir = base.join(&name);
            private_root_dir(&dir)?;
            return Ok(dir);
        }
    }
    Err(PostgresError::User(
        "cannot create a root-owned runtime directory for the PostgreSQL shims in /run or the temporary directory".to_owned(),
    ))
}

/// Creates `dir` owned by root with mode 0755, and refuses one that anyone
/// else could have altered.
fn private_root_dir(dir: &Path) -> Result<(), PostgresError> {
    if !dir.exists() {
        fs::create_dir_all(dir)?;
    }
    let metadata = fs::symlink_metadata(dir)?;
    if !metadata.is_dir() || metadata.uid() != 0 {
        return Err(PostgresError::User(format!(
            "{} is not a directory owned by root",
            dir.display()
        )));
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

fn lookup_or_create(name: &str) -> Result<User, PostgresError> {
    if let Some(user) = User::from_name(name).ok().flatten() {
        return Ok(user);
    }
    let created = Command::new("useradd")
        .args(["--system", "--user-group", "--no-create-home"])
        .args(["--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin"])
        .arg(name)
        .output();
    if let Some(user) = User::from_name(name).ok().flatten() {
        tracing::info!(user = name, "created the system user that runs PostgreSQL");
        return Ok(user);
    }
    let reason = match created {
        Ok(output) => String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        Err(error) => error.to_string(),
    };
    tracing::warn!(user = name, %reason, "cannot create the system user; PostgreSQL will run as nobody");
    User::from_name("nobody").ok().flatten().ok_or_else(|| {
        PostgresError::User(format!(
            "cannot create the system user {name:?} ({reason}) and there is no nobody user"
        ))
    })
}

fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The hidden `__run-as USER PROGRAM ARGS...` command used by the shims:
/// drops to USER (primary group, no supplementary groups) and executes
/// PROGRAM. Returns only on failure.
pub fn run_as(user: &str, program: &str, args: &[String]) -> std::io::Error {
    let user = match User::from_name(user) {
        Ok(Some(user)) => user,
        Ok(None) => return std::io::Error::other(format!("no such user {user:?}")),
        Err(error) => return std::io::Error::other(error),
    };
    Command::new(program)
        .args(args)
        .uid(user.uid.as_raw())
        .gid(user.gid.as_raw())
        .exec()
}
