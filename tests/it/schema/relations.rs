//! The stores load rows with their relations as typed values.

use soloist::accounts::model::{NewAccount, NewUser, Role, VerificationTokenType};
use soloist::accounts::store as accounts;
use soloist::billing::model::{NewPayment, PaymentStatus, SubscriptionStatus};
use soloist::billing::store as billing;
use soloist::content::model::{NewPost, PostStatus};
use soloist::content::store as content;

use super::plan;
use crate::support::migrated_db;

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
