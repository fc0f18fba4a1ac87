//! Migrations, and every seed column's type, nullability, default and enum.

use std::collections::BTreeSet;

use super::client;
use super::seed_schema::{ADDED_COLUMNS, ADDED_TABLES, SEED_COLUMNS};
use crate::support::{empty_db, migrated_db};

#[tokio::test]
async fn migrations_build_the_seed_schema_on_an_empty_database_and_rerun_as_a_no_op() {
    let db = empty_db().await;
    let mut client = client(&db).await;
    assert_eq!(soloist::db::schema_version(&client).await.unwrap(), 0);
    let first = soloist::db::migrate(&mut client).await.unwrap();
    assert_eq!(
        first.applied,
        [
            "V1__users",
            "V2__auth",
            "V3__subscriptions",
            "V4__content",
            "V5__audit",
            "V6__authentication",
            "V7__publishing",
            "V8__billing",
            "V9__audit_trail",
            "V10__statement_statistics",
            "V11__setup_tokens",
            "V12__stripe_event_log",
            "V13__site_settings",
            "V14__blog_search"
        ]
    );
    assert_eq!(first.version, soloist::db::latest_embedded_version());
    let second = soloist::db::migrate(&mut client).await.unwrap();
    assert!(
        second.applied.is_empty(),
        "re-run applied {:?}",
        second.applied
    );
    assert_eq!(second.version, first.version);

    let tables: BTreeSet<String> = client
        .query(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition \
             AND c.relname <> 'refinery_schema_history'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let seed: BTreeSet<String> = SEED_COLUMNS
        .iter()
        .map(|column| column.0.to_owned())
        .collect();
    assert_eq!(seed.len(), 13);
    let added: BTreeSet<String> = ADDED_TABLES
        .iter()
        .map(|table| (*table).to_owned())
        .collect();
    assert_eq!(
        tables,
        seed.union(&added).cloned().collect(),
        "the seed's 13 tables and the documented additions"
    );
}

#[tokio::test]
async fn every_seed_column_has_its_type_nullability_and_default() {
    let db = migrated_db().await;
    let client = client(&db).await;
    let rows = client
        .query(
            "SELECT table_name::text, column_name::text, data_type::text, is_nullable = 'YES', column_default::text \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'refinery_schema_history' \
             AND table_name NOT LIKE 'audit_logs\\_%'",
            &[],
        )
        .await
        .unwrap();
    let actual: BTreeSet<(String, String)> =
        rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    let seed_tables: BTreeSet<&str> = SEED_COLUMNS.iter().map(|column| column.0).collect();
    let actual: BTreeSet<(String, String)> = actual
        .into_iter()
        .filter(|(table, _)| seed_tables.contains(table.as_str()))
        .collect();
    let expected: BTreeSet<(String, String)> = SEED_COLUMNS
        .iter()
        .map(|(table, column, ..)| ((*table).to_owned(), (*column).to_owned()))
        .chain(
            ADDED_COLUMNS
                .iter()
                .map(|(table, column)| ((*table).to_owned(), (*column).to_owned())),
        )
        .collect();
    assert_eq!(
        actual, expected,
        "columns differ from the seed and its documented additions"
    );
    for (table, column, data_type, nullable, default) in SEED_COLUMNS {
        let row = rows
            .iter()
            .find(|row| row.get::<_, String>(0) == *table && row.get::<_, String>(1) == *column)
            .unwrap();
        assert_eq!(row.get::<_, String>(2), *data_type, "{table}.{column} type");
        assert_eq!(
            row.get::<_, bool>(3),
            *nullable,
            "{table}.{column} nullability"
        );
        let actual_default: Option<String> = row.get(4);
        match default {
            Some(fragment) => assert!(
                actual_default
                    .as_deref()
                    .is_some_and(|value| value.starts_with(fragment)),
                "{table}.{column} default {actual_default:?}, expected {fragment}"
            ),
            None => assert_eq!(
                actual_default, None,
                "{table}.{column} has an unexpected default"
            ),
        }
    }
}

#[tokio::test]
async fn the_database_refuses_values_outside_the_seed_enums() {
    let db = migrated_db().await;
    let client = client(&db).await;
    let user: uuid::Uuid = client
        .query_one(
            "INSERT INTO users (email, name) VALUES ('a@example.com', 'A') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let plan: uuid::Uuid = client
        .query_one(
            "INSERT INTO subscription_plans (name, price_cents, interval) VALUES ('Pro', 900, 'month') RETURNING id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let cases: Vec<(&str, String)> = vec![
        ("users_role_check", format!("UPDATE users SET role = 'owner' WHERE id = '{user}'")),
        (
            "user_profiles_theme_check",
            format!("INSERT INTO user_profiles (user_id, theme) VALUES ('{user}', 'neon')"),
        ),
        (
            "verification_tokens_type_check",
            "INSERT INTO verification_tokens (email, token, type, expires_at) VALUES ('a@example.com', 'x', 'login', now())"
                .to_owned(),
        ),
        (
            "subscription_plans_interval_check",
            "INSERT INTO subscription_plans (name, price_cents, interval) VALUES ('Weekly', 100, 'week')".to_owned(),
        ),
        (
            "subscriptions_status_check",
            format!("INSERT INTO subscriptions (user_id, plan_id, status) VALUES ('{user}', '{plan}', 'trialing')"),
        ),
        (
            "payments_status_check",
            format!("INSERT INTO payments (user_id, amount_cents, status) VALUES ('{user}', 100, 'paid')"),
        ),
        (
            "posts_status_check",
            format!("INSERT INTO posts (user_id, title, slug, status) VALUES ('{user}', 'T', 't', 'hidden')"),
        ),
        ("users_email_lowercase_check", "INSERT INTO users (email, name) VALUES ('B@Example.com', 'B')".to_owned()),
    ];
    for (constraint, sql) in cases {
        let error = client.batch_execute(&sql).await.expect_err(&sql);
        let db_error = error.as_db_error().unwrap();
        assert_eq!(db_error.constraint(), Some(constraint), "{sql}: {db_error}");
    }
    // And the values the seed allows are accepted.
    client
        .batch_execute(&format!(
            "INSERT INTO user_profiles (user_id, theme) VALUES ('{user}', 'dark');
             INSERT INTO subscriptions (user_id, plan_id, status) VALUES ('{user}', '{plan}', 'past_due');
             INSERT INTO payments (user_id, amount_cents, status) VALUES ('{user}', 100, 'refunded');
             INSERT INTO posts (user_id, title, slug, status) VALUES ('{user}', 'T', 't', 'archived');"
        ))
        .await
        .unwrap();
}
