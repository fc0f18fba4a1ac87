//! The real binary's configuration layers: a flag beats its environment
//! variable, which beats the file, which beats the default; the file's
//! tables; old flat files. `soloist db url` shows the result without
//! starting anything: it prints the external database's URL, or names the
//! data directory it would read; a value that is refused is named in the
//! error.

use std::path::PathBuf;

use crate::support::{command, scratch_dir};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `soloist <flags> db url`, with `environment` set and `file` (when some)
/// as the configuration file.
fn db_url(flags: &[&str], environment: &[(&str, &str)], file: Option<&str>) -> Run {
    let mut args: Vec<String> = flags.iter().map(|flag| (*flag).to_owned()).collect();
    if let Some(text) = file {
        let path = scratch_dir().join("soloist.toml");
        std::fs::write(&path, text).unwrap();
        args.extend(["--config".to_owned(), path.to_str().unwrap().to_owned()]);
    }
    args.extend(["db".to_owned(), "url".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut soloist = command(&args);
    soloist.envs(environment.iter().copied());
    let output = soloist.output().unwrap();
    Run {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A data directory that does not exist, so `db url` names it and stops.
fn missing_dir(name: &str) -> String {
    let path: PathBuf = scratch_dir().join(name);
    path.to_str().unwrap().to_owned()
}

#[test]
fn the_database_url_comes_from_the_flag_then_the_environment_then_the_file_then_embedded() {
    let data_dir = missing_dir("data");
    let file = "[database]\nurl = \"postgres://file/soloist\"\n";
    let flag = [
        "--data-dir",
        &data_dir,
        "--database-url",
        "postgres://flag/soloist",
    ];
    let environment = [("DATABASE_URL", "postgres://env/soloist")];
    let run = db_url(&flag, &environment, Some(file));
    assert_eq!(run.stdout, "postgres://flag/soloist", "{}", run.stderr);
    let run = db_url(&flag[..2], &environment, Some(file));
    assert_eq!(run.stdout, "postgres://env/soloist", "{}", run.stderr);
    let run = db_url(&flag[..2], &[], Some(file));
    assert_eq!(run.stdout, "postgres://file/soloist", "{}", run.stderr);
    // None anywhere: the embedded database, in the data directory.
    let run = db_url(&flag[..2], &[], None);
    assert_eq!(run.code, Some(1));
    assert!(
        run.stderr
            .contains(&format!("{data_dir} does not exist yet")),
        "{}",
        run.stderr
    );
}

#[test]
fn the_data_directory_comes_from_the_flag_then_the_environment_then_the_file() {
    let [flag, environment, file] = ["flag", "env", "file"].map(missing_dir);
    let text = format!("data_dir = \"{file}\"\n");
    let names = |run: Run, dir: &str| {
        assert!(
            run.stderr.contains(&format!("{dir} does not exist yet")),
            "expected {dir}: {}",
            run.stderr
        );
    };
    let variable = [("SOLOIST_DATA_DIR", environment.as_str())];
    names(
        db_url(&["--data-dir", &flag], &variable, Some(&text)),
        &flag,
    );
    names(db_url(&[], &variable, Some(&text)), &environment);
    names(db_url(&[], &[], Some(&text)), &file);
}

#[test]
fn a_number_from_a_higher_layer_hides_a_refused_one_below_it() {
    let database = ["--database-url", "postgres://x/soloist"];
    let refused = |run: &Run| {
        run.code == Some(2)
            && run
                .stderr
                .contains("pool_size and workers must be at least 1")
    };
    let flag = [database[0], database[1], "--pool-size", "3"];
    let zero = [("SOLOIST_POOL_SIZE", "0")];
    let three = [("SOLOIST_POOL_SIZE", "3")];
    let file = "[database]\npool_size = 0\n";
    let run = db_url(&flag, &zero, None);
    assert!(!refused(&run) && run.code == Some(0), "{}", run.stderr);
    assert!(refused(&db_url(&database, &zero, None)));
    let run = db_url(&database, &three, Some(file));
    assert!(!refused(&run) && run.code == Some(0), "{}", run.stderr);
    assert!(refused(&db_url(&database, &[], Some(file))));
}

#[test]
fn a_list_comes_whole_from_the_highest_layer_that_sets_it() {
    let database = ["--database-url", "postgres://x/soloist"];
    let refused = |run: Run, value: &str| {
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("{value:?} is not an IP address or CIDR range")),
            "expected {value}: {}",
            run.stderr
        );
    };
    let file = "[server]\ntrusted_proxies = [\"10.0.0.0/8\", \"file.invalid\"]\n";
    let variable = [("SOLOIST_TRUSTED_PROXIES", "10.0.0.0/8,env.invalid")];
    let flag = [
        database[0],
        database[1],
        "--trusted-proxies",
        "flag.invalid",
    ];
    refused(db_url(&flag, &variable, Some(file)), "flag.invalid");
    refused(db_url(&database, &variable, Some(file)), "env.invalid");
    refused(db_url(&database, &[], Some(file)), "file.invalid");
    assert_eq!(db_url(&database, &[], None).code, Some(0));
}

#[test]
fn an_old_flat_configuration_file_still_works_and_the_log_says_where_each_key_moved() {
    let run = db_url(
        &[],
        &[],
        Some("database_url = \"postgres://old/soloist\"\nworkers = 2\n"),
    );
    assert_eq!(run.stdout, "postgres://old/soloist", "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`database_url` at the top level still works but has moved: write it as `url` under `[database]`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("write it as `workers` under `[server]`"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_key_in_the_configuration_file_stops_soloist_with_its_name() {
    let run = db_url(
        &["--database-url", "postgres://x/soloist"],
        &[],
        Some("[server]\nlisten = \"127.0.0.1:8080\"\nworker = 2\n"),
    );
    assert_eq!(run.code, Some(2));
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("is not valid") && run.stderr.contains("unknown field `worker`"),
        "{}",
        run.stderr
    );
}
