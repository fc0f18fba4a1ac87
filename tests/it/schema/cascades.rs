//! Deleting a user cascades exactly where the seed says.

use soloist::accounts::model::{NewAccount, NewUser, Role};
use soloist::accounts::store as accounts;
use soloist::billing::model::{NewPayment, PaymentStatus, SubscriptionStatus};
use soloist::billing::store as billing;
use soloist::content::model::{NewPost, PostStatus};
use soloist::content::store as content;

use super::plan;
use crate::support::migrated_db;

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
