//! The `soloist` binary as a child process on a data dir of its own.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use soloist::postgres::{Credentials, DataDir};

use super::app::{browser, csrf_in};
use super::{BINARY, test_root};

/// A `soloist` child process with its output collected.
pub struct Running {
    pub child: Child,
    pub output: Arc<Mutex<String>>,
}

impl Running {
    /// Everything it printed so far (stdout and stderr).
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Sends `signal` and waits for the exit status.
    pub fn signal_and_wait(
        mut self,
        signal: nix::sys::signal::Signal,
    ) -> (std::process::ExitStatus, String) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
        let status = wait_with_timeout(&mut self.child, Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(50));
        (status, self.output())
    }
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            start.elapsed() < limit,
            "soloist did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A short-pathed directory for a data dir (unix socket paths are short).
pub fn scratch_dir() -> PathBuf {
    tempfile::Builder::new()
        .prefix("d")
        .tempdir_in(test_root())
        .unwrap()
        .keep()
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `soloist` with `args`, output captured, environment cleared of Soloist
/// variables so the developer's settings do not leak in.
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env("CI", "true");
    for (key, _) in std::env::vars() {
        if key.starts_with("SOLOIST_") {
            command.env_remove(key);
        }
    }
    command
}

/// Starts `soloist serve` on `data_dir` and waits until /healthz answers 200.
pub fn serve(data_dir: &Path, port: u16) -> Running {
    let running = spawn(command(&[
        "serve",
        "--data-dir",
        data_dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{port}"),
    ]));
    wait_healthy(&running, port);
    running
}

/// Starts a command with its output collected in the background.
pub fn spawn(mut command: Command) -> Running {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let output = Arc::new(Mutex::new(String::new()));
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let output = output.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let mut output = output.lock().unwrap();
                output.push_str(&line);
                output.push('\n');
            }
        });
    }
    Running { child, output }
}

/// Polls /healthz until it answers 200 (or the process dies).
pub fn wait_healthy(running: &Running, port: u16) {
    let start = Instant::now();
    loop {
        if http_status(port, "/healthz") == Some(200) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "soloist did not become healthy:\n{}",
            running.output()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The status of a plain HTTP GET, or None when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}

/// Live processes whose working directory is `dir` (a server's pgdata).
pub fn processes_in(dir: &Path) -> Vec<i32> {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == dir)
                && std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                    !stat
                        .rsplit(')')
                        .next()
                        .unwrap_or("")
                        .trim_start()
                        .starts_with('Z')
                })
        })
        .collect()
}

/// The real user id of a process.
pub fn uid_of(pid: i32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("Uid:"))
        .unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A superuser connection to the data dir's embedded `soloist` database
/// (the server must be running).
pub async fn connect_data_dir(data_dir: &Path) -> tokio_postgres::Client {
    let root = std::fs::canonicalize(data_dir).unwrap();
    let data_dir = DataDir { root };
    let credentials = Credentials::load(&data_dir).unwrap().unwrap();
    soloist::db::connect(&credentials.connect_config(&data_dir, "soloist"))
        .await
        .unwrap()
}

/// Runs one SQL statement on the data dir's embedded database through the
/// URL `soloist db url` prints, returning the first column of each row.
pub async fn query_data_dir(data_dir: &Path, sql: &str) -> Vec<String> {
    connect_data_dir(data_dir)
        .await
        .simple_query(sql)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|message| match message {
            tokio_postgres::SimpleQueryMessage::Row(row) => {
                Some(row.get(0).unwrap_or("").to_owned())
            }
            _ => None,
        })
        .collect()
}

/// The CSRF token of the form on the page at `url`, fetched by `http`.
pub async fn form_token(http: &reqwest::Client, url: &str) -> String {
    let page = http.get(url).send().await.unwrap().text().await.unwrap();
    csrf_in(&page).unwrap_or_else(|| panic!("no form with a CSRF token at {url}"))
}

/// A fresh browser signed in as `email` on the Soloist at `base` (a real
/// binary's address), through the sign-in form with its CSRF token.
pub async fn sign_in_at(base: &str, email: &str, password: &str) -> reqwest::Client {
    let browser = browser();
    let token = form_token(&browser, &format!("{base}/sign-in")).await;
    let response = browser
        .post(format!("{base}/sign-in"))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "signing in {email}");
    browser
}
