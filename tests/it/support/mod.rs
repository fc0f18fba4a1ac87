//! Shared test fixtures: the one embedded server, fresh databases, a running
//! app, and the `soloist` binary as a child process.

mod app;
mod process;
mod steps;

pub use app::{
    TestApp, browser, csrf_in, sample_paths, spawn_app, spawn_app_with, spawn_app_with_mail,
};
pub use process::{
    Running, command, connect_data_dir, form_token, free_port, http_status, processes_in,
    query_data_dir, scratch_dir, serve, sign_in_at, spawn, uid_of, wait_healthy,
};
pub use steps::{PASSWORD, location};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

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
