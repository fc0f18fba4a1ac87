//! Shared test fixtures: the one embedded server, fresh databases, a running
//! app, and the `soloist` binary as a child process.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use soloist::app::{Soloist, StartOptions};
use soloist::config::{Config, DatabaseArgs, Overrides, ServerArgs};
use soloist::postgres::{Credentials, DataDir, EmbeddedOptions, EmbeddedPostgres, Quiet};

/// The `soloist` binary Cargo built for these tests.
pub const BINARY: &str = env!("CARGO_BIN_EXE_soloist");

/// The server shared by every test of this binary, and the template
/// database (migrated once) that fresh test databases copy.
pub struct Shared {
    pub credentials: Credentials,
    pub data_dir: DataDir,
    _runtime: tokio::runtime::Runtime,
    _server: EmbeddedPostgres,
}

const TEMPLATE: &str = "soloist_template";

/// Starts the shared server on first use. A watchdog stops it and removes
/// its directory when the test process exits (statics are never dropped).
pub fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    // Built on a thread of its own: tests call this from inside their runtime.
    SHARED.get_or_init(|| std::thread::spawn(start_shared).join().unwrap())
}

fn start_shared() -> Shared {
    // SOLOIST_LOG=soloist=debug shows the app's logs in failing tests.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("SOLOIST_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init()
            .ok();
    }
    {
        let dir = test_root().join("shared");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let options = EmbeddedOptions {
            data_dir: dir.clone(),
            postgres_dir: None,
            upgrade_from: None,
            system_user: "soloist".to_owned(),
            runner: PathBuf::from(BINARY),
            // Every test's pool shares this one server.
            max_connections: 200,
        };
        let server = runtime
            .block_on(EmbeddedPostgres::start(&options, &Quiet))
            .unwrap();
        let credentials = server.credentials().clone();
        let data_dir = server.data_dir().clone();
        runtime.block_on(async {
            server.create_database(TEMPLATE).await.unwrap();
            let mut client = soloist::db::connect(&server.connect_config(TEMPLATE))
                .await
                .unwrap();
            soloist::db::migrate(&mut client).await.unwrap();
        });
        Shared {
            credentials,
            data_dir,
            _runtime: runtime,
            _server: server,
        }
    }
}

/// The directory that holds every data dir of this test process. A watchdog
/// stops the servers in it and removes it when the process exits (statics
/// are never dropped, and a failed test leaves its server running).
#[expect(
    clippy::zombie_processes,
    reason = "the watchdog must outlive this process"
)]
fn test_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = tempfile::Builder::new().prefix("slt-").tempdir_in("/tmp").unwrap().keep();
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.3; done; \
             in_root() {{ for p in /proc/[0-9]*; do case \"$(readlink $p/cwd 2>/dev/null)\" in '{root}'/*) echo ${{p#/proc/}};; esac; done; }}; \
             for p in $(in_root); do kill -INT $p 2>/dev/null; done; \
             for i in $(seq 50); do [ -z \"$(in_root)\" ] && break; sleep 0.1; done; \
             for p in $(in_root); do kill -KILL $p 2>/dev/null; done; \
             sleep 0.2; rm -rf '{root}'",
            pid = std::process::id(),
            root = root.display()
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        root
    })
}

/// A fresh database for one test.
pub struct TestDb {
    pub name: String,
    pub config: tokio_postgres::Config,
}

impl TestDb {
    /// A libpq key/value connection string for it.
    pub fn url(&self) -> String {
        let shared = shared();
        format!(
            "host={} port=5432 user={} password={} dbname={}",
            shared.data_dir.socket_dir().display(),
            shared.credentials.user,
            shared.credentials.password,
            self.name
        )
    }

    /// A pool of a few connections to it.
    pub fn pool(&self) -> deadpool_postgres::Pool {
        soloist::db::pool(self.config.clone(), 4).unwrap()
    }
}

/// A fresh, migrated database (a copy of the template).
pub async fn migrated_db() -> TestDb {
    fresh_db(Some(TEMPLATE)).await
}

/// A fresh, empty database.
pub async fn empty_db() -> TestDb {
    fresh_db(None).await
}

async fn fresh_db(template: Option<&str>) -> TestDb {
    let shared = shared();
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let admin = soloist::db::connect(
        &shared
            .credentials
            .connect_config(&shared.data_dir, "postgres"),
    )
    .await
    .unwrap();
    let sql = match template {
        Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
        None => format!("CREATE DATABASE {name}"),
    };
    // Copies of one template cannot start while another copy is being made.
    let mut attempts = 0;
    loop {
        match admin.batch_execute(&sql).await {
            Ok(()) => break,
            Err(error)
                if attempts < 50
                    && error
                        .to_string()
                        .contains("is being accessed by other users") =>
            {
                attempts += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(error) => panic!("creating {name}: {error}"),
        }
    }
    TestDb {
        config: shared.credentials.connect_config(&shared.data_dir, &name),
        name,
    }
}

/// A superuser connection to the shared server's `postgres` database.
pub async fn shared_admin() -> tokio_postgres::Client {
    let shared = shared();
    soloist::db::connect(
        &shared
            .credentials
            .connect_config(&shared.data_dir, "postgres"),
    )
    .await
    .unwrap()
}

/// A Soloist serving a fresh database on a random port.
pub struct TestApp {
    pub soloist: Soloist,
    pub db: TestDb,
    pub url: String,
    pub http: reqwest::Client,
}

/// Starts the real app (`Soloist::start`) on a fresh migrated database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Overrides::default()).await
}

/// Starts the real app with some settings of the test's own.
///
/// Its database connections and the mail it sends run on the runtime that
/// starts it, as in the binary: tests that start one run on a two-thread
/// runtime, like the binary's, so a request never waits on the test's own
/// thread.
pub async fn spawn_app_with(overrides: Overrides) -> TestApp {
    let db = migrated_db().await;
    let config = Config::resolve(Overrides {
        database: DatabaseArgs {
            url: Some(db.url()),
            pool_size: overrides.database.pool_size.or(Some(8)),
            ..overrides.database
        },
        server: ServerArgs {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            workers: overrides.server.workers.or(Some(2)),
            ..overrides.server
        },
        ..overrides
    })
    .unwrap();
    let soloist = Soloist::start(
        &config,
        StartOptions {
            runner: PathBuf::from(BINARY),
            progress: &Quiet,
        },
    )
    .await
    .unwrap();
    let url = format!("http://{}", soloist.addr);
    let http = browser();
    TestApp {
        soloist,
        db,
        url,
        http,
    }
}

/// An HTTP client that keeps cookies and does not follow redirects, like a
/// browser tab whose every step the test looks at.
pub fn browser() -> reqwest::Client {
    // reqwest is built without a default TLS crypto provider (Soloist uses ring).
    rustls::crypto::ring::default_provider()
        .install_default()
        .ok();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

impl TestApp {
    /// A fresh browser (no cookies) for another person.
    pub fn new_browser(&self) -> reqwest::Client {
        browser()
    }

    /// GETs `path` and returns the CSRF token of its forms.
    pub async fn csrf(&self, client: &reqwest::Client, path: &str) -> String {
        let body = client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        csrf_in(&body).unwrap_or_else(|| panic!("no csrf_token on {path}: {body}"))
    }

    /// POSTs a form with the CSRF token of the page at `form_page`.
    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        form_page: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf(client, form_page).await;
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        form.push(("csrf_token", &token));
        client
            .post(format!("{}{path}", self.url))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// A browser signed in as a new verified account `email` (an admin when
    /// `admin`), made the way `soloist admin create` makes one.
    pub async fn signed_in_as(&self, email: &str, name: &str, admin: bool) -> reqwest::Client {
        use soloist::accounts::secrets::{Password, PasswordHasherPool};
        const PASSWORD: &str = "correct horse battery staple";
        let hasher = PasswordHasherPool::new(1).unwrap();
        let password = Password::new(PASSWORD, &[]).unwrap();
        soloist::accounts::admin::create_admin(
            &self.soloist.pool,
            &hasher,
            email,
            name,
            Some(&password),
        )
        .await
        .unwrap();
        if !admin {
            self.sql()
                .await
                .execute("UPDATE users SET role = 'user' WHERE email = $1", &[&email])
                .await
                .unwrap();
        }
        let browser = self.new_browser();
        let response = self
            .post_form(
                &browser,
                "/sign-in",
                "/sign-in",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(response.status(), 303, "signing in {email}");
        browser
    }

    /// GETs `path` and returns (status, body).
    pub async fn get(&self, client: &reqwest::Client, path: &str) -> (u16, String) {
        let response = client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// A superuser connection to this app's database.
    pub async fn sql(&self) -> tokio_postgres::Client {
        soloist::db::connect(&self.db.config).await.unwrap()
    }
}

/// The value of the first `csrf_token` field in a page.
pub fn csrf_in(body: &str) -> Option<String> {
    let at = body.find("name=\"csrf_token\"")?;
    let rest = &body[at..];
    let value = rest.split("value=\"").nth(1)?;
    Some(value.split('"').next()?.to_owned())
}

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

/// The paths of `table`'s routes that answer `method` and are for one of
/// `access`, with sample values in their `{..}` segments (ids that match
/// nothing): the lists the access and CSRF tests walk, derived from the
/// route tables so a new route is covered at once.
pub fn sample_paths(
    table: &[soloist::web::routes::Route],
    method: &str,
    access: &[soloist::web::routes::Access],
) -> Vec<String> {
    table
        .iter()
        .filter(|route| route.has(method) && access.contains(&route.access))
        .map(|route| {
            route.filled(|name| match name {
                "name" => "soloist-20000101-000000.dump".to_owned(),
                "provider" => "github".to_owned(),
                "slug" => "no-such-slug".to_owned(),
                _ => "00000000-0000-0000-0000-000000000000".to_owned(),
            })
        })
        .collect()
}
