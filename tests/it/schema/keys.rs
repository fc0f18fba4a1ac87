//! Indexes, unique indexes and foreign keys as the seed names them.

use soloist::accounts::model::{NewUser, Role};
use soloist::accounts::store as accounts;
use soloist::billing::model::SubscriptionStatus;
use soloist::billing::store as billing;
use soloist::content::store as content;

use super::{client, plan};
use crate::support::migrated_db;

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
