//! The data directory's paths, and the private files and directories in it.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The port only names the socket file (`.s.PGSQL.5432`): there is no TCP listener.
pub(super) const PORT: u16 = 5432;
/// The longest unix socket path the kernel accepts, less a margin.
pub(super) const MAX_SOCKET_PATH: usize = 100;

/// Paths inside a data directory.
#[derive(Clone, Debug)]
pub struct DataDir {
    /// The data directory itself.
    pub root: PathBuf,
}

impl DataDir {
    /// The PostgreSQL cluster.
    pub fn pgdata(&self) -> PathBuf {
        self.root.join("pgdata")
    }
    /// The unix socket directory.
    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("run")
    }
    /// Where the bundled programs are unpacked.
    pub fn pg_root(&self) -> PathBuf {
        self.root.join("pg")
    }
    /// The superuser's credentials.
    pub fn credentials_file(&self) -> PathBuf {
        self.root.join("credentials.json")
    }
}

/// Writes a 0600 file. Never follows a symlink at `path`: when Soloist runs
/// as root, the data directory belongs to the server user.
pub(super) fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
        .open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Creates `dir` (and parents) with mode 0700 if missing, and makes sure it
/// is 0700 if it exists.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if !dir.exists() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}
