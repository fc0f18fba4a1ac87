//! Process housekeeping around the server: the data directory lock, orphaned
//! servers left by a killed Soloist, and zombie reaping when Soloist is PID 1.

use std::fs;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use super::PostgresError;

/// An exclusive lock on a data directory, held for as long as Soloist uses
/// it. std opens files with O_CLOEXEC, so the PostgreSQL processes never
/// inherit it: when Soloist dies, the lock goes with it.
#[derive(Debug)]
pub struct DataDirLock {
    _file: fs::File,
}

impl DataDirLock {
    /// Takes the lock, or says which process holds it.
    pub fn acquire(data_dir: &Path) -> Result<Self, PostgresError> {
        let path = data_dir.join("soloist.lock");
        let mut file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut holder = String::new();
                file.read_to_string(&mut holder).ok();
                return Err(PostgresError::AlreadyRunning {
                    data_dir: data_dir.to_path_buf(),
                    pid: holder.trim().parse().ok(),
                });
            }
            Err(fs::TryLockError::Error(error)) => return Err(error.into()),
        }
        file.set_len(0)?;
        file.rewind()?;
        writeln!(file, "{}", std::process::id())?;
        file.sync_all()?;
        Ok(Self { _file: file })
    }

    /// True when some process holds the lock on `data_dir` right now.
    pub fn is_held(data_dir: &Path) -> bool {
        let Ok(file) = fs::File::open(data_dir.join("soloist.lock")) else {
            return false;
        };
        match file.try_lock_shared() {
            Ok(()) => {
                file.unlock().ok();
                false
            }
            Err(_) => true,
        }
    }
}

/// Stops PostgreSQL processes left running on `pgdata` by a Soloist that
/// was killed, and removes a stale `postmaster.pid`.
///
/// Called with the data directory lock held, so any live process whose
/// working directory is `pgdata` is an orphan of ours (the postmaster and
/// its children chdir there). The pid in `postmaster.pid` is not trusted: in
/// containers it often belongs to an unrelated process by now.
pub fn recover_stale_server(pgdata: &Path) -> Result<usize, PostgresError> {
    let pid_file = pgdata.join("postmaster.pid");
    if !pid_file.exists() {
        return Ok(0);
    }
    let pgdata = fs::canonicalize(pgdata)?;
    let orphans = processes_in(&pgdata);
    if !orphans.is_empty() {
        tracing::warn!(
            count = orphans.len(),
            "stopping PostgreSQL processes left by an earlier Soloist"
        );
        let postmaster = postmaster_pid(&pid_file).filter(|pid| orphans.contains(pid));
        // Fast shutdown of the postmaster first (clean, checkpointed), then
        // immediate shutdown, then SIGKILL for whatever is left.
        let targets = postmaster.map_or_else(|| orphans.clone(), |pid| vec![pid]);
        signal_all(&targets, Signal::SIGINT);
        if !wait_until_gone(&pgdata, Duration::from_secs(10)) {
            signal_all(&processes_in(&pgdata), Signal::SIGQUIT);
            if !wait_until_gone(&pgdata, Duration::from_secs(3)) {
                signal_all(&processes_in(&pgdata), Signal::SIGKILL);
                wait_until_gone(&pgdata, Duration::from_secs(3));
            }
        }
        reap_zombies();
    }
    let left = processes_in(&pgdata);
    if !left.is_empty() {
        return Err(PostgresError::Orphans(left));
    }
    // The socket's lock file names the dead postmaster, which stays a zombie
    // until its parent reaps it (a container's init may take a second or
    // more, or never do it): a zombie's pid still looks alive to a new
    // postmaster, which then refuses to start ("lock file already exists").
    // With no server process left working in pgdata, the lock is stale.
    if let Some(root) = pgdata.parent() {
        remove_socket_locks(&root.join("run"))?;
    }
    if pid_file.exists() {
        fs::remove_file(&pid_file)?;
    }
    Ok(orphans.len())
}

/// Removes the `.s.PGSQL.<port>.lock` files of the server's socket
/// directory (`<data dir>/run`, which only Soloist's own server uses).
fn remove_socket_locks(socket_dir: &Path) -> io::Result<()> {
    let entries = match fs::read_dir(socket_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(".s.PGSQL.") && name.ends_with(".lock") {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Whether the postmaster named by `pgdata/postmaster.pid` is a live,
/// non-zombie process working in `pgdata`.
pub fn postmaster_alive(pgdata: &Path) -> bool {
    let Some(pid) = postmaster_pid(&pgdata.join("postmaster.pid")) else {
        return false;
    };
    let cwd = fs::read_link(format!("/proc/{pid}/cwd"));
    let same_dir = match (cwd, fs::canonicalize(pgdata)) {
        (Ok(cwd), Ok(pgdata)) => cwd == pgdata,
        _ => false,
    };
    same_dir && process_state(pid).is_some_and(|(state, _, _)| state != 'Z')
}

fn postmaster_pid(pid_file: &Path) -> Option<i32> {
    fs::read_to_string(pid_file)
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

fn signal_all(pids: &[i32], signal: Signal) {
    for pid in pids {
        kill(Pid::from_raw(*pid), signal).ok();
    }
}

fn wait_until_gone(pgdata: &Path, limit: Duration) -> bool {
    let start = Instant::now();
    loop {
        reap_zombies();
        if processes_in(pgdata).is_empty() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Live (non-zombie) processes whose working directory is `dir`.
fn processes_in(dir: &Path) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let base = PathBuf::from(format!("/proc/{pid}"));
            fs::read_link(base.join("cwd")).is_ok_and(|cwd| cwd == dir)
                && process_state(*pid).is_some_and(|(state, _, _)| state != 'Z')
        })
        .collect()
}

/// (state, parent pid, command name) from `/proc/<pid>/stat`.
fn process_state(pid: i32) -> Option<(char, i32, String)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    let mut rest = stat.get(close + 2..)?.split_whitespace();
    let state = rest.next()?.chars().next()?;
    let parent = rest.next()?.parse().ok()?;
    Some((state, parent, name))
}

/// When Soloist is PID 1 (a container), PostgreSQL processes orphaned by
/// pg_ctl are re-parented to it; dead ones stay zombies, and a zombie
/// postmaster makes the next start fail. Reaps zombie children named
/// `postgres` only, so that the waits of commands Soloist runs are not stolen.
pub fn reap_zombies() {
    let me = std::process::id() as i32;
    if me != 1 {
        return;
    }
    let Ok(entries) = fs::read_dir("/proc") else {
        return;
    };
    for pid in entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
    {
        if let Some(('Z', parent, name)) = process_state(pid)
            && parent == me
            && name == "postgres"
        {
            nix::sys::wait::waitpid(
                Pid::from_raw(pid),
                Some(nix::sys::wait::WaitPidFlag::WNOHANG),
            )
            .ok();
        }
    }
}

/// Starts a thread that reaps zombie PostgreSQL processes every second
/// when Soloist is PID 1; does nothing otherwise.
pub fn spawn_reaper() {
    if std::process::id() == 1 {
        std::thread::spawn(|| {
            loop {
                reap_zombies();
                std::thread::sleep(Duration::from_secs(1));
            }
        });
    }
}

/// Reads a whole small file, mapping "not found" to `None`.
pub fn read_optional(path: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}
