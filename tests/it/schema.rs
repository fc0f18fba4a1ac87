//! The schema against the seed document: tables, columns, types, NOT NULLs,
//! defaults, indexes, constraints, enums, cascades; migrations; relations.

use std::collections::BTreeSet;

use soloist::accounts::model::{NewAccount, NewUser, Role, VerificationTokenType};
use soloist::accounts::store as accounts;
use soloist::audit::model::NewAuditLog;
use soloist::audit::store as audit;
use soloist::billing::model::{
    NewPayment, NewPlan, PaymentStatus, PlanInterval, SubscriptionStatus,
};
use soloist::billing::store as billing;
use soloist::content::model::{NewPost, PostStatus};
use soloist::content::store as content;

use crate::support::{empty_db, migrated_db};

/// (table, column, type, nullable, default fragment) from the seed, with
/// timestamps as timestamptz and JSON-in-text columns as jsonb.
const SEED_COLUMNS: &[(&str, &str, &str, bool, Option<&str>)] = &[
    ("users", "id", "uuid", false, Some("gen_random_uuid()")),
    ("users", "email", "text", false, None),
    ("users", "name", "text", false, None),
    ("users", "avatar_url", "text", true, None),
    ("users", "role", "text", false, Some("'user'")),
    ("users", "email_verified", "boolean", false, Some("false")),
    ("users", "is_active", "boolean", false, Some("true")),
    (
        "users",
        "last_login_at",
        "timestamp with time zone",
        true,
        None,
    ),
    (
        "users",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    (
        "users",
        "updated_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    (
        "user_profiles",
        "id",
        "uuid",
        false,
        Some("gen_random_uuid()"),
    ),
    ("user_profiles", "user_id", "uuid", false, None),
    ("user_profiles", "bio", "text", true, None),
    ("user_profiles", "website", "text", true, None),
    ("user_profiles", "location", "text", true, None),
    ("user_profiles", "timezone", "text", true, Some("'UTC'")),
    ("user_profiles", "language", "text", true, Some("'en'")),
    ("user_profiles", "theme", "text", true, Some("'system'")),
    (
        "user_profiles",
        "notifications_enabled",
        "boolean",
        true,
        Some("true"),
    ),
    (
        "user_profiles",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    (
        "user_profiles",
        "updated_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    ("accounts", "id", "uuid", false, Some("gen_random_uuid()")),
    ("accounts", "user_id", "uuid", false, None),
    ("accounts", "provider", "text", false, None),
    ("accounts", "provider_account_id", "text", false, None),
    ("accounts", "type", "text", false, None),
    ("accounts", "access_token", "text", true, None),
    ("accounts", "refresh_token", "text", true, None),
    (
        "accounts",
        "expires_at",
        "timestamp with time zone",
        true,
        None,
    ),
    ("accounts", "token_type", "text", true, None),
    ("accounts", "scope", "text", true, None),
    ("accounts", "id_token", "text", true, None),
    ("accounts", "session_state", "text", true, None),
    (
        "accounts",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    (
        "accounts",
        "updated_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    ("sessions", "id", "uuid", false, Some("gen_random_uuid()")),
    ("sessions", "user_id", "uuid", false, None),
    ("sessions", "token", "text", false, None),
    (
        "sessions",
        "expires_at",
        "timestamp with time zone",
        false,
        None,
    ),
    ("sessions", "ip_address", "text", true, None),
    ("sessions", "user_agent", "text", true, None),
    ("sessions", "is_active", "boolean", false, Some("true")),
    (
        "sessions",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    (
        "verification_tokens",
        "id",
        "uuid",
        false,
        Some("gen_random_uuid()"),
    ),
    ("verification_tokens", "email", "text", false, None),
    ("verification_tokens", "token", "text", false, None),
    ("verification_tokens", "type", "text", false, None),
    (
        "verification_tokens",
        "expires_at",
        "timestamp with time zone",
        false,
        None,
    ),
    (
        "verification_tokens",
        "used_at",
        "timestamp with time zone",
        true,
        None,
    ),
    (
        "verification_tokens",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    (
        "subscription_plans",
        "id",
        "uuid",
        false,
        Some("gen_random_uuid()"),
    ),
    ("subscription_plans", "name", "text", false, None),
    ("subscription_plans", "description", "text", true, None),
    ("subscription_plans", "price_cents", "integer", false, None),
    (
        "subscription_plans",
        "currency",
        "text",
        false,
        Some("'USD'"),
    ),
    ("subscription_plans", "interval", "text", false, None),
    ("subscription_plans", "features", "ARRAY", true, None),
    (
        "subscription_plans",
        "is_active",
        "boolean",
        false,
        Some("true"),
    ),
    (
        "subscription_plans",
        "sort_order",
        "integer",
        true,
        Some("0"),
    ),
    (
        "subscription_plans",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    (
        "subscription_plans",
        "updated_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    (
        "subscriptions",
        "id",
        "uuid",
        false,
        Some("gen_random_uuid()"),
    ),
    ("subscriptions", "user_id", "uuid", false, None),
    ("subscriptions", "plan_id", "uuid", false, None),
    ("subscriptions", "status", "text", false, None),
    ("subscriptions", "stripe_customer_id", "text", true, None),
    (
        "subscriptions",
        "stripe_subscription_id",
        "text",
        true,
        None,
    ),
    (
        "subscriptions",
        "current_period_start",
        "timestamp with time zone",
        true,
        None,
    ),
    (
        "subscriptions",
        "current_period_end",
        "timestamp with time zone",
        true,
        None,
    ),
    (
        "subscriptions",
        "cancel_at_period_end",
        "boolean",
        true,
        Some("false"),
    ),
    (
        "subscriptions",
        "canceled_at",
        "timestamp with time zone",
        true,
        None,
    ),
    (
        "subscriptions",
        "trial_end",
        "timestamp with time zone",
        true,
        None,
    ),
    (
        "subscriptions",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    (
        "subscriptions",
        "updated_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    ("payments", "id", "uuid", false, Some("gen_random_uuid()")),
    ("payments", "user_id", "uuid", false, None),
    ("payments", "subscription_id", "uuid", true, None),
    ("payments", "amount_cents", "integer", false, None),
    ("payments", "currency", "text", false, Some("'USD'")),
    ("payments", "status", "text", false, None),
    ("payments", "stripe_payment_intent_id", "text", true, None),
    ("payments", "stripe_charge_id", "text", true, None),
    ("payments", "description", "text", true, None),
    ("payments", "metadata", "jsonb", true, None),
    (
        "payments",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    ("posts", "id", "uuid", false, Some("gen_random_uuid()")),
    ("posts", "user_id", "uuid", false, None),
    ("posts", "title", "text", false, None),
    ("posts", "content", "text", true, None),
    ("posts", "excerpt", "text", true, None),
    ("posts", "slug", "text", false, None),
    ("posts", "status", "text", false, Some("'draft'")),
    ("posts", "featured", "boolean", true, Some("false")),
    ("posts", "view_count", "integer", true, Some("0")),
    (
        "posts",
        "published_at",
        "timestamp with time zone",
        true,
        None,
    ),
    (
        "posts",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    (
        "posts",
        "updated_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    ("categories", "id", "uuid", false, Some("gen_random_uuid()")),
    ("categories", "name", "text", false, None),
    ("categories", "slug", "text", false, None),
    ("categories", "description", "text", true, None),
    ("categories", "color", "text", true, Some("'#6366f1'")),
    ("categories", "sort_order", "integer", true, Some("0")),
    ("categories", "is_active", "boolean", true, Some("true")),
    (
        "categories",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    ("tags", "id", "uuid", false, Some("gen_random_uuid()")),
    ("tags", "name", "text", false, None),
    ("tags", "slug", "text", false, None),
    ("tags", "usage_count", "integer", true, Some("0")),
    (
        "tags",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    ("post_tags", "post_id", "uuid", false, None),
    ("post_tags", "tag_id", "uuid", false, None),
    (
        "post_tags",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
    ("audit_logs", "id", "uuid", false, Some("gen_random_uuid()")),
    ("audit_logs", "user_id", "uuid", true, None),
    ("audit_logs", "action", "text", false, None),
    ("audit_logs", "entity", "text", false, None),
    ("audit_logs", "entity_id", "uuid", true, None),
    ("audit_logs", "changes", "jsonb", true, None),
    ("audit_logs", "ip_address", "text", true, None),
    ("audit_logs", "user_agent", "text", true, None),
    ("audit_logs", "metadata", "jsonb", true, None),
    (
        "audit_logs",
        "created_at",
        "timestamp with time zone",
        false,
        Some("now()"),
    ),
];

/// Columns the app adds to seed tables (each explained in its migration).
const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("accounts", "password_hash"),
    ("sessions", "last_seen_at"),
    ("verification_tokens", "user_id"),
    ("posts", "category_id"),
    ("posts", "search_vector"),
    ("subscription_plans", "stripe_price_id"),
    ("subscriptions", "stripe_synced_at"),
    ("payments", "stripe_invoice_id"),
];

/// Tables the app adds beside the seed's 13 (each explained in its migration).
const ADDED_TABLES: &[&str] = &[
    "rate_limits",
    "mail_outbox",
    "stripe_events",
    "stripe_checkouts",
    "setup_tokens",
];

/// (index, table, unique) named in the seed.
const SEED_INDEXES: &[(&str, &str, bool)] = &[
    ("users_email_idx", "users", true),
    ("users_role_idx", "users", false),
    ("users_active_idx", "users", false),
    ("profiles_user_id_idx", "user_profiles", true),
    ("accounts_provider_idx", "accounts", true),
    ("accounts_user_id_idx", "accounts", false),
    ("sessions_token_idx", "sessions", true),
    ("sessions_user_id_idx", "sessions", false),
    ("sessions_expires_at_idx", "sessions", false),
    ("verification_tokens_token_idx", "verification_tokens", true),
    (
        "verification_tokens_email_idx",
        "verification_tokens",
        false,
    ),
    ("verification_tokens_type_idx", "verification_tokens", false),
    ("plans_name_idx", "subscription_plans", true),
    ("plans_active_idx", "subscription_plans", false),
    ("plans_sort_order_idx", "subscription_plans", false),
    ("subscriptions_user_id_idx", "subscriptions", true),
    ("subscriptions_stripe_customer_idx", "subscriptions", false),
    ("subscriptions_status_idx", "subscriptions", false),
    ("payments_user_id_idx", "payments", false),
    ("payments_status_idx", "payments", false),
    ("payments_stripe_pi_idx", "payments", false),
    ("payments_created_at_idx", "payments", false),
    ("posts_slug_idx", "posts", true),
    ("posts_user_id_idx", "posts", false),
    ("posts_status_idx", "posts", false),
    ("posts_published_at_idx", "posts", false),
    ("posts_featured_idx", "posts", false),
    ("categories_name_idx", "categories", true),
    ("categories_slug_idx", "categories", true),
    ("tags_name_idx", "tags", true),
    ("tags_slug_idx", "tags", true),
    ("tags_usage_count_idx", "tags", false),
    ("post_tags_post_id_idx", "post_tags", false),
    ("post_tags_tag_id_idx", "post_tags", false),
    ("audit_logs_user_id_idx", "audit_logs", false),
    ("audit_logs_action_idx", "audit_logs", false),
    ("audit_logs_entity_idx", "audit_logs", false),
    ("audit_logs_entity_id_idx", "audit_logs", false),
    ("audit_logs_created_at_idx", "audit_logs", false),
];

/// (table, column, referenced table, ON DELETE) from the seed.
const SEED_FOREIGN_KEYS: &[(&str, &str, &str, &str)] = &[
    ("user_profiles", "user_id", "users", "NO ACTION"),
    ("accounts", "user_id", "users", "CASCADE"),
    ("sessions", "user_id", "users", "CASCADE"),
    ("subscriptions", "user_id", "users", "CASCADE"),
    (
        "subscriptions",
        "plan_id",
        "subscription_plans",
        "NO ACTION",
    ),
    ("payments", "user_id", "users", "NO ACTION"),
    ("payments", "subscription_id", "subscriptions", "NO ACTION"),
    ("posts", "user_id", "users", "CASCADE"),
    ("post_tags", "post_id", "posts", "CASCADE"),
    ("post_tags", "tag_id", "tags", "CASCADE"),
    ("audit_logs", "user_id", "users", "NO ACTION"),
];

async fn client(db: &crate::support::TestDb) -> tokio_postgres::Client {
    soloist::db::connect(&db.config).await.unwrap()
}

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
            "V12__stripe_event_log"
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
async fn every_seed_index_exists_by_name_with_its_uniqueness() {
    let db = migrated_db().await;
    let client = client(&db).await;
    for (index, table, unique) in SEED_INDEXES {
        let row = client
            .query_opt(
                "SELECT t.relname::text, i.indisunique FROM pg_index i \
                 JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid \
                 WHERE c.relname = $1",
                &[index],
            )
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("index {index} is missing"));
        assert_eq!(
            row.get::<_, String>(0),
            *table,
            "{index} is on the wrong table"
        );
        assert_eq!(row.get::<_, bool>(1), *unique, "{index} uniqueness");
    }
    let key: String = client
        .query_one(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'post_tags_post_id_tag_id_pk'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(key, "PRIMARY KEY (post_id, tag_id)");
}

#[tokio::test]
async fn foreign_keys_reference_and_cascade_as_the_seed_says() {
    let db = migrated_db().await;
    let client = client(&db).await;
    for (table, column, target, on_delete) in SEED_FOREIGN_KEYS {
        let row = client
            .query_opt(
                "SELECT ct.relname::text, CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' \
                        WHEN 'r' THEN 'RESTRICT' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END \
                 FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class ct ON ct.oid = c.confrelid \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
                 WHERE c.contype = 'f' AND t.relname = $1 AND a.attname = $2 AND NOT t.relispartition",
                &[table, column],
            )
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no foreign key on {table}.{column}"));
        assert_eq!(row.get::<_, String>(0), *target, "{table}.{column} target");
        assert_eq!(
            row.get::<_, String>(1),
            *on_delete,
            "{table}.{column} on delete"
        );
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

#[tokio::test]
async fn deleting_a_user_cascades_exactly_where_the_seed_says() {
    let db = migrated_db().await;
    let pool = db.pool();
    let client = pool.get().await.unwrap();
    let user = accounts::create_user(
        &client,
        &NewUser {
            email: "cascade@example.com".into(),
            name: "C".into(),
            role: Role::User,
        },
    )
    .await
    .unwrap();
    accounts::link_account(
        &client,
        &NewAccount {
            user_id: user.id,
            provider: "github".into(),
            provider_account_id: "42".into(),
            kind: "oauth".into(),
        },
    )
    .await
    .unwrap();
    accounts::create_session(
        &client,
        user.id,
        "hash",
        time::OffsetDateTime::now_utc(),
        None,
        None,
    )
    .await
    .unwrap();
    let plan = billing::create_plan(&client, &plan("Starter", 500))
        .await
        .unwrap();
    billing::create_subscription(&client, user.id, plan.id, SubscriptionStatus::Active)
        .await
        .unwrap();
    let post = content::create_post(
        &client,
        &NewPost {
            user_id: user.id,
            title: "Hello".into(),
            content: None,
            excerpt: None,
            slug: "hello".into(),
            status: PostStatus::Draft,
            featured: false,
            category_id: None,
        },
    )
    .await
    .unwrap();
    let tag = content::create_tag(&client, "Rust", "rust").await.unwrap();
    content::tag_post(&client, post.id, tag.id).await.unwrap();

    let count = |table: &'static str| {
        let client = &client;
        async move {
            client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    client
        .execute("DELETE FROM users WHERE id = $1", &[&user.id])
        .await
        .unwrap();
    for table in [
        "users",
        "accounts",
        "sessions",
        "subscriptions",
        "posts",
        "post_tags",
    ] {
        assert_eq!(count(table).await, 0, "{table} should have cascaded");
    }
    assert_eq!(count("tags").await, 1, "tags outlive their posts");
    assert_eq!(
        count("subscription_plans").await,
        1,
        "plans outlive subscribers"
    );

    // Where the seed has no cascade, the delete is refused instead.
    let other = accounts::create_user(
        &client,
        &NewUser {
            email: "kept@example.com".into(),
            name: "K".into(),
            role: Role::User,
        },
    )
    .await
    .unwrap();
    accounts::create_profile(&client, other.id).await.unwrap();
    let error = client
        .execute("DELETE FROM users WHERE id = $1", &[&other.id])
        .await
        .unwrap_err();
    assert_eq!(
        error.as_db_error().unwrap().constraint(),
        Some("user_profiles_user_id_fkey")
    );
    billing::record_payment(
        &client,
        &NewPayment {
            user_id: other.id,
            subscription_id: None,
            amount_cents: 100,
            currency: "USD".into(),
            status: PaymentStatus::Succeeded,
            description: None,
        },
    )
    .await
    .unwrap();
    client
        .execute("DELETE FROM user_profiles WHERE user_id = $1", &[&other.id])
        .await
        .unwrap();
    let error = client
        .execute("DELETE FROM users WHERE id = $1", &[&other.id])
        .await
        .unwrap_err();
    assert_eq!(
        error.as_db_error().unwrap().constraint(),
        Some("payments_user_id_fkey")
    );
}

fn plan(name: &str, price_cents: i32) -> NewPlan {
    NewPlan {
        name: name.into(),
        description: Some("For trying things out".into()),
        price_cents,
        currency: "USD".into(),
        interval: PlanInterval::Month,
        features: vec!["posts".into(), "custom-domain".into()],
        sort_order: 1,
        stripe_price_id: None,
    }
}

#[tokio::test]
async fn unique_indexes_refuse_duplicates_by_name() {
    let db = migrated_db().await;
    let pool = db.pool();
    let client = pool.get().await.unwrap();
    let new_user = NewUser {
        email: "Dup@Example.com".into(),
        name: "D".into(),
        role: Role::User,
    };
    let user = accounts::create_user(&client, &new_user).await.unwrap();
    assert_eq!(
        user.email, "dup@example.com",
        "emails are stored lower-case"
    );
    let error = accounts::create_user(&client, &new_user).await.unwrap_err();
    assert_eq!(error.constraint(), Some("users_email_idx"));
    let plan_a = billing::create_plan(&client, &plan("Team", 100))
        .await
        .unwrap();
    let error = billing::create_plan(&client, &plan("Team", 200))
        .await
        .unwrap_err();
    assert_eq!(error.constraint(), Some("plans_name_idx"));
    billing::create_subscription(&client, user.id, plan_a.id, SubscriptionStatus::Active)
        .await
        .unwrap();
    let error =
        billing::create_subscription(&client, user.id, plan_a.id, SubscriptionStatus::Active)
            .await
            .unwrap_err();
    assert_eq!(
        error.constraint(),
        Some("subscriptions_user_id_idx"),
        "one subscription per user"
    );
    content::create_tag(&client, "Go", "go").await.unwrap();
    assert_eq!(
        content::create_tag(&client, "Go", "go-2")
            .await
            .unwrap_err()
            .constraint(),
        Some("tags_name_idx")
    );
    assert_eq!(
        content::create_tag(&client, "Golang", "go")
            .await
            .unwrap_err()
            .constraint(),
        Some("tags_slug_idx")
    );
}

#[tokio::test]
async fn user_with_details_returns_profile_subscription_plan_and_ten_latest_published_posts() {
    let db = migrated_db().await;
    let pool = db.pool();
    let client = pool.get().await.unwrap();
    let user = accounts::create_user(
        &client,
        &NewUser {
            email: "writer@example.com".into(),
            name: "Writer".into(),
            role: Role::Admin,
        },
    )
    .await
    .unwrap();
    let details = accounts::user_with_details(&client, user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(details.user, user);
    assert!(
        details.profile.is_none() && details.subscription.is_none() && details.posts.is_empty()
    );

    accounts::create_profile(&client, user.id).await.unwrap();
    let plan = billing::create_plan(&client, &plan("Pro", 1900))
        .await
        .unwrap();
    billing::create_subscription(&client, user.id, plan.id, SubscriptionStatus::Active)
        .await
        .unwrap();
    for index in 0..12 {
        let post = content::create_post(
            &client,
            &NewPost {
                user_id: user.id,
                title: format!("Post {index}"),
                content: Some("Body".into()),
                excerpt: None,
                slug: format!("post-{index}"),
                status: PostStatus::Published,
                featured: false,
                category_id: None,
            },
        )
        .await
        .unwrap();
        client
            .execute(
                "UPDATE posts SET published_at = now() - make_interval(mins => 100 - $2) WHERE id = $1",
                &[&post.id, &index],
            )
            .await
            .unwrap();
    }
    content::create_post(
        &client,
        &NewPost {
            user_id: user.id,
            title: "Draft".into(),
            content: None,
            excerpt: None,
            slug: "draft".into(),
            status: PostStatus::Draft,
            featured: false,
            category_id: None,
        },
    )
    .await
    .unwrap();

    let details = accounts::user_with_details(&client, user.id)
        .await
        .unwrap()
        .unwrap();
    let profile = details.profile.unwrap();
    assert_eq!(profile.timezone.as_deref(), Some("UTC"));
    assert_eq!(profile.theme, Some(soloist::accounts::model::Theme::System));
    let subscription = details.subscription.unwrap();
    assert_eq!(subscription.plan, plan);
    assert_eq!(subscription.subscription.status, SubscriptionStatus::Active);
    let titles: Vec<&str> = details
        .posts
        .iter()
        .map(|post| post.title.as_str())
        .collect();
    assert_eq!(
        titles,
        (2..12)
            .rev()
            .map(|i| format!("Post {i}"))
            .collect::<Vec<_>>()
    );
    assert!(
        details
            .posts
            .iter()
            .all(|post| post.status == PostStatus::Published)
    );
    assert_eq!(
        billing::subscription_of(&client, user.id)
            .await
            .unwrap()
            .unwrap(),
        subscription
    );
    assert_eq!(billing::active_plans(&client).await.unwrap(), vec![plan]);
}

#[tokio::test]
async fn relations_load_as_typed_values() {
    let db = migrated_db().await;
    let pool = db.pool();
    let client = pool.get().await.unwrap();
    let user = accounts::create_user(
        &client,
        &NewUser {
            email: "rel@example.com".into(),
            name: "R".into(),
            role: Role::User,
        },
    )
    .await
    .unwrap();
    assert_eq!(
        accounts::user_by_email(&client, "REL@example.com")
            .await
            .unwrap()
            .unwrap()
            .id,
        user.id
    );
    assert_eq!(
        accounts::user_by_id(&client, user.id)
            .await
            .unwrap()
            .unwrap(),
        user
    );
    accounts::link_account(
        &client,
        &NewAccount {
            user_id: user.id,
            provider: "google".into(),
            provider_account_id: "g-1".into(),
            kind: "oauth".into(),
        },
    )
    .await
    .unwrap();
    let accounts_of = accounts::accounts_of(&client, user.id).await.unwrap();
    assert_eq!(accounts_of.len(), 1);
    assert_eq!(accounts_of[0].provider, "google");
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    accounts::create_session(
        &client,
        user.id,
        "h1",
        expires,
        Some("127.0.0.1"),
        Some("Firefox"),
    )
    .await
    .unwrap();
    let sessions = accounts::sessions_of(&client, user.id).await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert!(sessions[0].is_active);
    assert_eq!(sessions[0].user_agent.as_deref(), Some("Firefox"));
    let token = accounts::create_verification_token(
        &client,
        "REL@example.com",
        "th",
        VerificationTokenType::MagicLink,
        expires,
    )
    .await
    .unwrap();
    assert_eq!(token.email, "rel@example.com");
    assert_eq!(token.kind, VerificationTokenType::MagicLink);

    let post = content::create_post(
        &client,
        &NewPost {
            user_id: user.id,
            title: "Tagged".into(),
            content: None,
            excerpt: None,
            slug: "tagged".into(),
            status: PostStatus::Draft,
            featured: false,
            category_id: None,
        },
    )
    .await
    .unwrap();
    let rust = content::create_tag(&client, "Rust", "rust").await.unwrap();
    let sql = content::create_tag(&client, "SQL", "sql").await.unwrap();
    for tag in [&rust, &sql, &rust] {
        content::tag_post(&client, post.id, tag.id).await.unwrap();
    }
    let with_tags = content::post_with_tags(&client, post.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with_tags.post, post);
    let names: Vec<&str> = with_tags.tags.iter().map(|tag| tag.name.as_str()).collect();
    assert_eq!(names, ["Rust", "SQL"]);
    assert_eq!(
        with_tags.tags[0].usage_count,
        Some(1),
        "tagging twice counts once"
    );
    assert_eq!(
        content::posts_of(&client, user.id).await.unwrap(),
        vec![post]
    );
    content::create_category(&client, "News", "news", Some("Announcements"))
        .await
        .unwrap();
    let payment = billing::record_payment(
        &client,
        &NewPayment {
            user_id: user.id,
            subscription_id: None,
            amount_cents: 1234,
            currency: "EUR".into(),
            status: PaymentStatus::Pending,
            description: Some("Invoice 1".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        billing::payments_of(&client, user.id).await.unwrap(),
        vec![payment]
    );
}

#[tokio::test]
async fn audit_logs_are_partitioned_by_month_with_upcoming_partitions() {
    let db = migrated_db().await;
    let pool = db.pool();
    let client = pool.get().await.unwrap();
    let strategy: String = client
        .query_one(
            "SELECT partstrat::text FROM pg_partitioned_table WHERE partrelid = 'audit_logs'::regclass",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(strategy, "r");
    let partitions: Vec<String> = client
        .query(
            "SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             WHERE i.inhparent = 'audit_logs'::regclass ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let now = time::OffsetDateTime::now_utc();
    let this_month = format!("audit_logs_y{}m{:02}", now.year(), u8::from(now.month()));
    assert!(partitions.contains(&this_month), "{partitions:?}");
    assert!(partitions.contains(&"audit_logs_default".to_owned()));
    assert_eq!(
        partitions.len(),
        5,
        "current month, three ahead, and the default: {partitions:?}"
    );

    let entry = audit::record_returning(
        &client,
        &NewAuditLog {
            action: "CREATE".into(),
            entity: "users".into(),
            changes: Some(serde_json::json!({"email": {"after": "a@example.com"}})),
            ..NewAuditLog::default()
        },
    )
    .await
    .unwrap();
    let partition: String = client
        .query_one(
            "SELECT tableoid::regclass::text FROM audit_logs WHERE id = $1",
            &[&entry.id],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(partition, this_month);
    assert_eq!(audit::recent(&client, 10).await.unwrap(), vec![entry]);

    // A row far in the future lands in the default partition and stays
    // there (the trail is append-only: rows are never moved); its month gets
    // no partition of its own, the others do.
    client
        .execute(
            "INSERT INTO audit_logs (action, entity, created_at) VALUES ('CREATE', 'users', now() + interval '5 months')",
            &[],
        )
        .await
        .unwrap();
    let created: i32 = client
        .query_one("SELECT audit_logs_create_partitions(6)", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(created, 2);
    let default_rows: i64 = client
        .query_one("SELECT count(*) FROM audit_logs_default", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(default_rows, 1);
    assert_eq!(
        client
            .query_one("SELECT count(*) FROM audit_logs", &[])
            .await
            .unwrap()
            .get::<_, i64>(0),
        2
    );
}

#[tokio::test]
async fn every_store_statement_prepares_against_the_migrated_schema() {
    let db = migrated_db().await;
    let client = client(&db).await;
    let stores = [
        soloist::accounts::store::STATEMENTS,
        soloist::billing::store::STATEMENTS,
        soloist::content::store::STATEMENTS,
        soloist::audit::store::STATEMENTS,
        soloist::accounts::store::SIGN_IN_STATEMENTS,
        soloist::web::rate_limit::STATEMENTS,
        soloist::monitoring::store::STATEMENTS,
        soloist::mail::STATEMENTS,
        soloist::web::local_time::STATEMENTS,
        soloist::audit::store::ADMIN_STATEMENTS,
        soloist::accounts::store::ADMIN_STATEMENTS,
        soloist::admin::store::STATEMENTS,
    ];
    let mut count = 0;
    for statement in stores.iter().flat_map(|store| store.iter()) {
        client
            .prepare(statement)
            .await
            .unwrap_or_else(|error| panic!("{statement}\n{error}"));
        count += 1;
    }
    for statement in soloist::audit::store::filtered_statement_examples() {
        client
            .prepare(&statement)
            .await
            .unwrap_or_else(|error| panic!("{statement}\n{error}"));
        count += 1;
    }
    assert!(count >= 25, "only {count} statements");
}
