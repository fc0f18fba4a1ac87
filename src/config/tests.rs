//! The layers (flags > file > defaults; the environment sits between flags
//! and file inside clap, and is tested through the binary in
//! `tests/it/configuration.rs`), the file's tables, the old flat keys.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{CommandFactory, FromArgMatches, Parser};

use super::file::{self, MOVED};
use super::{Config, Layer, LogFormat, MovedKey, Overrides};

#[derive(Debug, Parser)]
struct Flags {
    #[command(flatten)]
    overrides: Overrides,
}

/// `args` as the command line gives them, without environment variables,
/// so the developer's own `SOLOIST_*` do not leak in.
fn flags(args: &[&str]) -> Overrides {
    let matches = Flags::command()
        .mut_args(|arg| arg.env(None))
        .try_get_matches_from(std::iter::once("soloist").chain(args.iter().copied()))
        .unwrap();
    Flags::from_arg_matches(&matches).unwrap().overrides
}

fn from_file(text: &str) -> Overrides {
    let (values, moved) = file::parse(text).unwrap();
    assert_eq!(moved, [], "no old keys in {text}");
    values
}

fn resolve(flags: Overrides, file: Overrides) -> Config {
    Config::resolve(flags.or(file)).unwrap()
}

fn address(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn every_flag_and_environment_variable_keeps_its_name() {
    let names: Vec<(String, String, String)> = Flags::command()
        .get_arguments()
        .filter(|arg| !matches!(arg.get_id().as_str(), "help" | "version"))
        .map(|arg| {
            (
                arg.get_id().to_string(),
                format!("--{}", arg.get_long().unwrap()),
                arg.get_env().unwrap().to_string_lossy().into_owned(),
            )
        })
        .collect();
    let expected = [
        "data_dir SOLOIST_DATA_DIR",
        "log_format SOLOIST_LOG_FORMAT",
        "audit_retention_months SOLOIST_AUDIT_RETENTION_MONTHS",
        "listen SOLOIST_LISTEN",
        "base_url SOLOIST_BASE_URL",
        "workers SOLOIST_WORKERS",
        "trusted_proxies SOLOIST_TRUSTED_PROXIES",
        "share_image SOLOIST_SHARE_IMAGE",
        "database_url DATABASE_URL",
        "postgres_dir SOLOIST_POSTGRES_DIR",
        "upgrade_from SOLOIST_UPGRADE_FROM",
        "system_user SOLOIST_SYSTEM_USER",
        "pool_size SOLOIST_POOL_SIZE",
        "pool_timeout_ms SOLOIST_POOL_TIMEOUT_MS",
        "smtp_url SOLOIST_SMTP_URL",
        "mail_from SOLOIST_MAIL_FROM",
        "github_client_id SOLOIST_GITHUB_CLIENT_ID",
        "github_client_secret SOLOIST_GITHUB_CLIENT_SECRET",
        "github_url SOLOIST_GITHUB_URL",
        "github_api_url SOLOIST_GITHUB_API_URL",
        "google_client_id SOLOIST_GOOGLE_CLIENT_ID",
        "google_client_secret SOLOIST_GOOGLE_CLIENT_SECRET",
        "google_auth_url SOLOIST_GOOGLE_AUTH_URL",
        "google_token_url SOLOIST_GOOGLE_TOKEN_URL",
        "google_userinfo_url SOLOIST_GOOGLE_USERINFO_URL",
        "stripe_secret_key SOLOIST_STRIPE_SECRET_KEY",
        "stripe_webhook_secret SOLOIST_STRIPE_WEBHOOK_SECRET",
        "stripe_api_url SOLOIST_STRIPE_API_URL",
        "metrics_allow SOLOIST_METRICS_ALLOW",
        "metrics_token SOLOIST_METRICS_TOKEN",
        "backup_interval_hours SOLOIST_BACKUP_INTERVAL_HOURS",
        "backup_keep SOLOIST_BACKUP_KEEP",
    ]
    .map(|line| {
        let (id, env) = line.split_once(' ').unwrap();
        (
            id.to_owned(),
            format!("--{}", id.replace('_', "-")),
            env.to_owned(),
        )
    });
    assert_eq!(names, expected);
    // Each flag's id is its old flat key: the ones that moved into a table
    // are all in MOVED, the rest stay at the top of the file.
    let top = ["data_dir", "log_format", "audit_retention_months"];
    let mut old_keys: Vec<&str> = MOVED.iter().map(|(old, _, _)| *old).collect();
    old_keys.extend(top);
    old_keys.sort_unstable();
    let mut ids: Vec<&str> = names.iter().map(|(id, _, _)| id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, old_keys);
}

#[test]
fn a_flag_wins_over_the_file_and_the_file_over_the_default_in_every_section() {
    let file = from_file(
        r#"
        data_dir = "/file/data"
        log_format = "json"
        audit_retention_months = 6

        [server]
        listen = "127.0.0.1:7001"
        workers = 3
        trusted_proxies = ["10.0.0.0/8"]

        [database]
        url = "postgres://file/soloist"
        pool_size = 5

        [mail]
        smtp_url = "smtp://file:25"
        from = "File <file@example.com>"

        [github]
        client_id = "file-github"
        client_secret = "file-secret"

        [google]
        client_id = "file-google"
        client_secret = "file-secret"

        [stripe]
        secret_key = "sk_file"

        [metrics]
        token = "file-token"
        allow = ["192.0.2.0/24"]

        [backups]
        interval_hours = 6
        keep = 3
        "#,
    );
    let nothing = resolve(Overrides::default(), Overrides::default());
    let file_only = resolve(Overrides::default(), file.clone());
    let both = resolve(
        flags(&[
            "--data-dir=/flag/data",
            "--log-format=text",
            "--listen=127.0.0.1:7002",
            "--trusted-proxies=172.16.0.0/12,127.0.0.1",
            "--database-url=postgres://flag/soloist",
            "--mail-from=Flag <flag@example.com>",
            "--github-client-id=flag-github",
            "--google-client-id=flag-google",
            "--stripe-secret-key=sk_flag",
            "--metrics-token=flag-token",
            "--backup-keep=9",
        ]),
        file,
    );

    // A path and an enum.
    assert_eq!(both.data_dir, PathBuf::from("/flag/data"));
    assert_eq!(file_only.data_dir, PathBuf::from("/file/data"));
    assert_eq!(nothing.data_dir, super::default_data_dir());
    assert_eq!(both.log_format, LogFormat::Text);
    assert_eq!(file_only.log_format, LogFormat::Json);
    assert_eq!(nothing.log_format, LogFormat::Text);
    // A number the flags leave to the file.
    assert_eq!(both.audit_retention_months, 6);
    assert_eq!(nothing.audit_retention_months, 24);
    // [server]: an address and a list.
    assert_eq!(both.listen, address("127.0.0.1:7002"));
    assert_eq!(file_only.listen, address("127.0.0.1:7001"));
    assert_eq!(nothing.listen, address("127.0.0.1:8080"));
    assert_eq!(both.workers, 3);
    let networks = |config: &Config| -> Vec<String> {
        config
            .trusted_proxies
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(networks(&both), ["172.16.0.0/12", "127.0.0.1/32"]);
    assert_eq!(networks(&file_only), ["10.0.0.0/8"]);
    assert_eq!(networks(&nothing), [] as [String; 0]);
    // [database]: a secret string.
    assert_eq!(
        both.database_url.as_deref(),
        Some("postgres://flag/soloist")
    );
    assert_eq!(
        file_only.database_url.as_deref(),
        Some("postgres://file/soloist")
    );
    assert_eq!(nothing.database_url, None);
    assert_eq!(both.pool_size, 5);
    // [mail]
    assert_eq!(both.mail_from, "Flag <flag@example.com>");
    assert_eq!(file_only.mail_from, "File <file@example.com>");
    assert_eq!(nothing.mail_from, "Soloist <no-reply@localhost>");
    assert_eq!(both.smtp_url.as_deref(), Some("smtp://file:25"));
    // [github] and [google]: the flag's id with the file's secret.
    let clients = |config: &Config| -> Vec<(String, String)> {
        config
            .oauth
            .iter()
            .map(|provider| (provider.client_id.clone(), provider.client_secret.clone()))
            .collect()
    };
    let secret = || "file-secret".to_owned();
    assert_eq!(
        clients(&both),
        [
            ("flag-github".to_owned(), secret()),
            ("flag-google".to_owned(), secret())
        ]
    );
    assert_eq!(
        clients(&file_only),
        [
            ("file-github".to_owned(), secret()),
            ("file-google".to_owned(), secret())
        ]
    );
    assert!(nothing.oauth.is_empty());
    assert_eq!(
        both.oauth[0].authorize_url,
        "https://github.com/login/oauth/authorize"
    );
    // [stripe]
    let stripe = both.stripe.unwrap();
    assert_eq!(stripe.secret_key.as_deref(), Some("sk_flag"));
    assert_eq!(stripe.api_url, "https://api.stripe.com");
    assert_eq!(
        file_only.stripe.unwrap().secret_key.as_deref(),
        Some("sk_file")
    );
    assert!(nothing.stripe.is_none());
    // [metrics]
    assert_eq!(both.metrics_token.as_deref(), Some("flag-token"));
    assert_eq!(file_only.metrics_token.as_deref(), Some("file-token"));
    assert_eq!(nothing.metrics_token, None);
    assert_eq!(both.metrics_allow.len(), 1);
    // [backups]
    assert_eq!(both.backup_keep, 9);
    assert_eq!(file_only.backup_keep, 3);
    assert_eq!(nothing.backup_keep, 7);
    assert_eq!(both.backup_interval_hours, 6);
    assert_eq!(nothing.backup_interval_hours, 24);
}

#[test]
fn the_merge_takes_each_value_from_the_highest_layer_that_sets_it() {
    let high = from_file("[server]\nworkers = 1\n[mail]\nfrom = \"high\"");
    let low = from_file("[server]\nworkers = 2\nbase_url = \"http://low\"\n[backups]\nkeep = 4");
    let merged = high.or(low);
    assert_eq!(merged.server.workers, Some(1));
    assert_eq!(merged.server.base_url.as_deref(), Some("http://low"));
    assert_eq!(merged.mail.from.as_deref(), Some("high"));
    assert_eq!(merged.backups.keep, Some(4));
    assert_eq!(merged.database, Default::default());
}

#[test]
fn a_file_with_every_table_reads_every_setting() {
    let values = from_file(
        r#"
        data_dir = "/srv/soloist"
        log_format = "json"
        audit_retention_months = 12

        [server]
        listen = "0.0.0.0:80"
        base_url = "https://example.com/"
        workers = 4
        trusted_proxies = ["127.0.0.1/32"]
        share_image = "https://example.com/share.png"

        [database]
        url = "postgres://db.internal/soloist"
        postgres_dir = "/opt/pg18"
        upgrade_from = "/opt/pg17"
        system_user = "postgres"
        pool_size = 12
        pool_timeout_ms = 500

        [mail]
        smtp_url = "smtps://mail.example.com:465"
        from = "Example <hello@example.com>"

        [github]
        client_id = "gh-id"
        client_secret = "gh-secret"
        url = "https://github.example.com/"
        api_url = "https://github.example.com/api/v3"

        [google]
        client_id = "google-id"
        client_secret = "google-secret"
        auth_url = "https://google.test/auth"
        token_url = "https://google.test/token"
        userinfo_url = "https://google.test/userinfo"

        [stripe]
        secret_key = "sk_live"
        webhook_secret = "whsec_1"
        api_url = "https://stripe.test/"

        [metrics]
        allow = ["10.1.0.0/16"]
        token = "scrape"

        [backups]
        interval_hours = 12
        keep = 14
        "#,
    );
    let config = Config::resolve(values).unwrap();
    assert_eq!(config.data_dir, PathBuf::from("/srv/soloist"));
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(config.audit_retention_months, 12);
    assert_eq!(config.listen, address("0.0.0.0:80"));
    assert_eq!(config.base_url(), "https://example.com");
    assert_eq!(config.workers, 4);
    assert_eq!(config.trusted_proxies.len(), 1);
    assert_eq!(
        config.share_image.as_deref(),
        Some("https://example.com/share.png")
    );
    assert_eq!(
        config.database_url.as_deref(),
        Some("postgres://db.internal/soloist")
    );
    assert_eq!(config.postgres_dir, Some(PathBuf::from("/opt/pg18")));
    assert_eq!(config.upgrade_from, Some(PathBuf::from("/opt/pg17")));
    assert_eq!(config.system_user, "postgres");
    assert_eq!(config.pool_size, 12);
    assert_eq!(config.pool_timeout, std::time::Duration::from_millis(500));
    assert_eq!(
        config.smtp_url.as_deref(),
        Some("smtps://mail.example.com:465")
    );
    assert_eq!(config.mail_from, "Example <hello@example.com>");
    let [github, google] = &config.oauth[..] else {
        panic!("two providers: {:?}", config.oauth);
    };
    assert_eq!(
        github.token_url,
        "https://github.example.com/login/oauth/access_token"
    );
    assert_eq!(
        github.emails_url.as_deref(),
        Some("https://github.example.com/api/v3/user/emails")
    );
    assert_eq!(google.client_secret, "google-secret");
    assert_eq!(google.profile_url, "https://google.test/userinfo");
    let stripe = config.stripe.unwrap();
    assert_eq!(stripe.webhook_secret.as_deref(), Some("whsec_1"));
    assert_eq!(stripe.api_url, "https://stripe.test");
    assert_eq!(config.metrics_allow.len(), 1);
    assert_eq!(config.metrics_token.as_deref(), Some("scrape"));
    assert_eq!(config.backup_interval_hours, 12);
    assert_eq!(config.backup_keep, 14);
}

#[test]
fn an_old_flat_file_still_works_and_each_moved_key_is_named_with_its_new_place() {
    let flat = r#"
        data_dir = "/srv/soloist"
        listen = "0.0.0.0:80"
        base_url = "https://example.com"
        workers = 4
        trusted_proxies = ["127.0.0.1/32"]
        share_image = "https://example.com/share.png"
        database_url = "postgres://db.internal/soloist"
        postgres_dir = "/opt/pg18"
        upgrade_from = "/opt/pg17"
        system_user = "postgres"
        pool_size = 12
        pool_timeout_ms = 500
        smtp_url = "smtps://mail.example.com:465"
        mail_from = "Example <hello@example.com>"
        github_client_id = "gh-id"
        github_client_secret = "gh-secret"
        github_url = "https://github.example.com"
        github_api_url = "https://github.example.com/api/v3"
        google_client_id = "google-id"
        google_client_secret = "google-secret"
        google_auth_url = "https://google.test/auth"
        google_token_url = "https://google.test/token"
        google_userinfo_url = "https://google.test/userinfo"
        stripe_secret_key = "sk_live"
        stripe_webhook_secret = "whsec_1"
        stripe_api_url = "https://stripe.test"
        metrics_allow = ["10.1.0.0/16"]
        metrics_token = "scrape"
        backup_interval_hours = 12
        backup_keep = 14
    "#;
    let tables = r#"
        data_dir = "/srv/soloist"
        [server]
        listen = "0.0.0.0:80"
        base_url = "https://example.com"
        workers = 4
        trusted_proxies = ["127.0.0.1/32"]
        share_image = "https://example.com/share.png"
        [database]
        url = "postgres://db.internal/soloist"
        postgres_dir = "/opt/pg18"
        upgrade_from = "/opt/pg17"
        system_user = "postgres"
        pool_size = 12
        pool_timeout_ms = 500
        [mail]
        smtp_url = "smtps://mail.example.com:465"
        from = "Example <hello@example.com>"
        [github]
        client_id = "gh-id"
        client_secret = "gh-secret"
        url = "https://github.example.com"
        api_url = "https://github.example.com/api/v3"
        [google]
        client_id = "google-id"
        client_secret = "google-secret"
        auth_url = "https://google.test/auth"
        token_url = "https://google.test/token"
        userinfo_url = "https://google.test/userinfo"
        [stripe]
        secret_key = "sk_live"
        webhook_secret = "whsec_1"
        api_url = "https://stripe.test"
        [metrics]
        allow = ["10.1.0.0/16"]
        token = "scrape"
        [backups]
        interval_hours = 12
        keep = 14
    "#;
    let (values, moved) = file::parse(flat).unwrap();
    assert_eq!(values, from_file(tables));
    // Every old key that moved, each reported once.
    assert_eq!(moved.len(), MOVED.len());
    let mail_from = MovedKey {
        old: "mail_from",
        table: "mail",
        key: "from",
    };
    assert!(moved.contains(&mail_from));
    assert_eq!(
        mail_from.to_string(),
        "`mail_from` at the top level still works but has moved: write it as `from` under `[mail]`"
    );
}

#[test]
fn an_old_flat_key_beside_its_new_place_is_refused_naming_both() {
    let error =
        file::parse("smtp_url = \"smtp://a\"\n[mail]\nsmtp_url = \"smtp://b\"").unwrap_err();
    assert_eq!(
        error,
        "`smtp_url` at the top level and `smtp_url` under `[mail]` are the same setting; keep the one under `[mail]`"
    );
    // An old key beside other keys of its table is fine.
    let (values, moved) =
        file::parse("mail_from = \"a\"\n[mail]\nsmtp_url = \"smtp://b\"").unwrap();
    assert_eq!(values.mail.from.as_deref(), Some("a"));
    assert_eq!(values.mail.smtp_url.as_deref(), Some("smtp://b"));
    assert_eq!(moved.len(), 1);
}

#[test]
fn an_unknown_key_is_refused_with_its_name_at_the_top_in_a_table_and_in_an_old_file() {
    let top = file::parse("lisen = \"127.0.0.1:80\"").unwrap_err();
    assert!(top.contains("unknown field `lisen`"), "{top}");
    assert!(top.contains("`server`"), "lists what is allowed: {top}");
    let in_table = file::parse("[mail]\nsmtp = \"smtp://a\"").unwrap_err();
    assert!(in_table.contains("unknown field `smtp`"), "{in_table}");
    assert!(in_table.contains("`smtp_url`"), "{in_table}");
    // A key a table does not have, written the old way under its table.
    let old_in_table = file::parse("[mail]\nmail_from = \"a\"").unwrap_err();
    assert!(
        old_in_table.contains("unknown field `mail_from`"),
        "{old_in_table}"
    );
    // A misspelt key in a file that also uses old keys.
    let mixed = file::parse("listen = \"127.0.0.1:80\"\nworker = 2").unwrap_err();
    assert!(mixed.contains("unknown field `worker`"), "{mixed}");
    let unknown_table = file::parse("[smtp]\nurl = \"smtp://a\"").unwrap_err();
    assert!(
        unknown_table.contains("unknown field `smtp`"),
        "{unknown_table}"
    );
    let not_a_table = file::parse("mail = \"x\"\nmail_from = \"a\"").unwrap_err();
    assert_eq!(not_a_table, "`mail` must be a table (`[mail]`)");
}

#[test]
fn a_value_of_the_wrong_type_is_refused_naming_the_key() {
    let error = file::parse("[server]\nworkers = \"four\"").unwrap_err();
    assert!(error.contains("workers"), "{error}");
}
