//! The domain rules without HTTP: writing posts, managing categories and
//! plans, granting plans. Each test calls the rule functions in a
//! transaction on a fresh database and looks at the outcome and at what the
//! transaction wrote.

use deadpool_postgres::{Pool, Transaction};
use soloist::accounts::model::{Email, NewUser, Role, User};
use soloist::audit::Actor;
use soloist::billing::grants::{Grant, grant_plan};
use soloist::billing::model::{NewPlan, Plan, PlanInterval};
use soloist::billing::plans::{self, PlanDeleted, PlanSaved};
use soloist::content::categories::{self, CategorySaved};
use soloist::content::model::{PostStatus, PostWithTags};
use soloist::content::post_form::{Draft, EditorErrors, PostForm, parse_form};
use soloist::content::slug::Slug;
use soloist::content::store::CategoryFields;
use soloist::content::writing::{self, Problem, Saved, StatusChange};

use crate::support::migrated_db;

/// A pool on a fresh migrated database.
async fn pool() -> Pool {
    migrated_db().await.pool()
}

/// A new confirmed account.
async fn account(transaction: &Transaction<'_>, email: &str, role: Role) -> User {
    let user = soloist::accounts::store::create_user(
        transaction,
        &NewUser {
            email: email.to_owned(),
            name: "Robin Writer".to_owned(),
            role,
        },
    )
    .await
    .unwrap();
    soloist::accounts::store::mark_verified(transaction, email)
        .await
        .unwrap();
    User {
        email_verified: true,
        ..user
    }
}

/// The draft the editor makes of `form`.
fn draft(form: PostForm) -> Draft {
    let mut errors = EditorErrors::default();
    parse_form(&form, &mut errors).unwrap_or_else(|| panic!("{errors:?}"))
}

fn titled(title: &str) -> PostForm {
    PostForm {
        title: title.to_owned(),
        content: "Some *words*.".to_owned(),
        ..PostForm::default()
    }
}

fn saved(outcome: Saved) -> PostWithTags {
    match outcome {
        Saved::Saved(post) => *post,
        other => panic!("not saved: {other:?}"),
    }
}

fn plan(name: &str, features: &[&str], price: Option<&str>) -> NewPlan {
    NewPlan {
        name: name.to_owned(),
        description: None,
        price_cents: 1200,
        currency: "USD".to_owned(),
        interval: PlanInterval::Month,
        features: features.iter().map(|&feature| feature.to_owned()).collect(),
        sort_order: 0,
        stripe_price_id: price.map(str::to_owned),
    }
}

fn saved_plan(outcome: PlanSaved) -> Plan {
    match outcome {
        PlanSaved::Saved(plan) => plan,
        other => panic!("not saved: {other:?}"),
    }
}

async fn audit_rows(transaction: &Transaction<'_>, action: &str, entity: &str) -> i64 {
    transaction
        .query_one(
            "SELECT count(*) FROM audit_logs WHERE action = $1 AND entity = $2",
            &[&action, &entity],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_post_gets_a_numbered_slug_when_its_title_is_taken_and_a_typed_taken_slug_is_refused() {
    let pool = pool().await;
    let mut client = pool.get().await.unwrap();
    let transaction = client.transaction().await.unwrap();
    let actor = Actor::system();
    let author = account(&transaction, "robin@example.com", Role::User).await;

    let first = writing::create_post(&transaction, &actor, &author, &draft(titled("Launch day")))
        .await
        .unwrap();
    assert_eq!(saved(first).post.slug, "launch-day");
    let second = writing::create_post(&transaction, &actor, &author, &draft(titled("Launch day")))
        .await
        .unwrap();
    let second = saved(second);
    assert_eq!(second.post.slug, "launch-day-2");
    assert_eq!(second.post.status, PostStatus::Draft);

    let typed = PostForm {
        slug: "launch-day".to_owned(),
        ..titled("Another launch")
    };
    let refused = writing::create_post(&transaction, &actor, &author, &draft(typed))
        .await
        .unwrap();
    let Saved::Refused(problems) = refused else {
        panic!("a taken slug was saved: {refused:?}");
    };
    assert_eq!(
        problems,
        [Problem::SlugUnavailable {
            slug: Slug::parse("launch-day").unwrap(),
            suggestion: Slug::parse("launch-day-3").unwrap(),
        }]
    );
    assert_eq!(audit_rows(&transaction, "CREATE", "posts").await, 2);
}

#[tokio::test]
async fn a_post_is_created_with_its_tags_and_an_audit_row_for_each_new_one() {
    let pool = pool().await;
    let mut client = pool.get().await.unwrap();
    let transaction = client.transaction().await.unwrap();
    let actor = Actor::system();
    let author = account(&transaction, "robin@example.com", Role::User).await;
    let form = PostForm {
        tags: "Rust, web dev, rust".to_owned(),
        ..titled("Tagged")
    };

    let post = saved(
        writing::create_post(&transaction, &actor, &author, &draft(form.clone()))
            .await
            .unwrap(),
    );
    let mut tags: Vec<&str> = post.tags.iter().map(|tag| tag.slug.as_str()).collect();
    tags.sort_unstable();
    assert_eq!(tags, ["rust", "web-dev"]);
    assert_eq!(audit_rows(&transaction, "CREATE", "tags").await, 2);

    // The same tags again are found, not made or audited again.
    writing::create_post(&transaction, &actor, &author, &draft(form))
        .await
        .unwrap();
    assert_eq!(audit_rows(&transaction, "CREATE", "tags").await, 2);
    assert_eq!(audit_rows(&transaction, "CREATE", "posts").await, 2);
}

#[tokio::test]
async fn featuring_a_post_needs_the_featured_posts_plan_feature_except_for_admins() {
    let pool = pool().await;
    let mut client = pool.get().await.unwrap();
    let transaction = client.transaction().await.unwrap();
    let actor = Actor::system();
    let writer = account(&transaction, "robin@example.com", Role::User).await;
    let admin = account(&transaction, "admin@example.com", Role::Admin).await;
    let featured = || {
        draft(PostForm {
            featured: Some("on".to_owned()),
            ..titled("Front page")
        })
    };

    let refused = writing::create_post(&transaction, &actor, &writer, &featured())
        .await
        .unwrap();
    let Saved::Refused(problems) = refused else {
        panic!("featured without the plan: {refused:?}");
    };
    assert_eq!(problems, [Problem::FeaturingNeedsPlan]);

    let by_admin = saved(
        writing::create_post(&transaction, &actor, &admin, &featured())
            .await
            .unwrap(),
    );
    assert_eq!(by_admin.post.featured, Some(true));

    let pro = saved_plan(
        plans::create_plan(
            &transaction,
            &actor,
            &plan("Pro", &[writing::FEATURED_POSTS], None),
            true,
        )
        .await
        .unwrap(),
    );
    let email = Email::parse("robin@example.com").unwrap();
    let granted = grant_plan(&transaction, &actor, &email, pro.id)
        .await
        .unwrap();
    assert!(matches!(granted, Grant::Granted(_)), "{granted:?}");
    let with_plan = writing::create_post(&transaction, &actor, &writer, &featured())
        .await
        .unwrap();
    assert_eq!(saved(with_plan).post.featured, Some(true));
}

#[tokio::test]
async fn an_edit_keeps_a_category_that_was_since_hidden_but_cannot_choose_one() {
    let pool = pool().await;
    let mut client = pool.get().await.unwrap();
    let transaction = client.transaction().await.unwrap();
    let actor = Actor::system();
    let author = account(&transaction, "robin@example.com", Role::User).await;
    let fields = |name: &str, active: bool| CategoryFields {
        name: name.to_owned(),
        slug: Slug::from_title(name, "category").into_string(),
        description: None,
        color: "#6366f1".to_owned(),
        sort_order: 0,
        is_active: active,
    };
    let CategorySaved::Saved(news) =
        categories::create_category(&transaction, &actor, &fields("News", true))
            .await
            .unwrap()
    else {
        panic!("the category was not made");
    };
    let form = PostForm {
        category: news.id.to_string(),
        ..titled("In the news")
    };
    let post = saved(
        writing::create_post(&transaction, &actor, &author, &draft(form.clone()))
            .await
            .unwrap(),
    );
    let hidden = categories::update_category(&transaction, &actor, &news, &fields("News", false))
        .await
        .unwrap();
    assert!(matches!(hidden, CategorySaved::Saved(_)), "{hidden:?}");

    let before = writing::post_to_edit(&transaction, post.post.id, &author)
        .await
        .unwrap()
        .unwrap();
    let edit = PostForm {
        title: "Still in the news".to_owned(),
        ..form.clone()
    };
    let edited = writing::update_post(&transaction, &actor, &author, &before, &draft(edit))
        .await
        .unwrap();
    assert_eq!(saved(edited).post.title, "Still in the news");

    let refused = writing::create_post(&transaction, &actor, &author, &draft(form))
        .await
        .unwrap();
    let Saved::Refused(problems) = refused else {
        panic!("a hidden category was chosen: {refused:?}");
    };
    assert_eq!(problems, [Problem::CategoryUnavailable]);
}

#[tokio::test]
async fn status_changes_go_draft_published_archived_for_the_author_only() {
    let pool = pool().await;
    let mut client = pool.get().await.unwrap();
    let transaction = client.transaction().await.unwrap();
    let actor = Actor::system();
    let author = account(&transaction, "robin@example.com", Role::User).await;
    let other = account(&transaction, "sam@example.com", Role::User).await;
    let id = saved(
        writing::create_post(&transaction, &actor, &author, &draft(titled("Moving")))
            .await
            .unwrap(),
    )
    .post
    .id;

    let skipped = writing::change_status(&transaction, &actor, &author, id, PostStatus::Archived)
        .await
        .unwrap();
    assert!(
        matches!(
            skipped,
            StatusChange::NotAllowed {
                from: PostStatus::Draft,
                to: PostStatus::Archived
            }
        ),
        "{skipped:?}"
    );
    let someone_else =
        writing::change_status(&transaction, &actor, &other, id, PostStatus::Published)
            .await
            .unwrap();
    assert!(
        matches!(someone_else, StatusChange::NotFound),
        "{someone_else:?}"
    );
    let unconfirmed = User {
        email_verified: false,
        ..author.clone()
    };
    let early = writing::change_status(
        &transaction,
        &actor,
        &unconfirmed,
        id,
        PostStatus::Published,
    )
    .await
    .unwrap();
    assert!(matches!(early, StatusChange::Unconfirmed), "{early:?}");

    let published =
        writing::change_status(&transaction, &actor, &author, id, PostStatus::Published)
            .await
            .unwrap();
    let StatusChange::Changed(post) = published else {
        panic!("not published: {published:?}");
    };
    assert_eq!(post.post.status, PostStatus::Published);
    assert!(post.post.published_at.is_some());
    assert_eq!(audit_rows(&transaction, "UPDATE", "posts").await, 1);

    assert!(
        writing::delete_post(&transaction, &actor, &other, id)
            .await
            .unwrap()
            .is_none(),
        "someone else deleted the post"
    );
    let deleted = writing::delete_post(&transaction, &actor, &author, id)
        .await
        .unwrap();
    assert_eq!(deleted.map(|post| post.post.id), Some(id));
    assert_eq!(audit_rows(&transaction, "DELETE", "posts").await, 1);
}

#[tokio::test]
async fn a_plan_name_or_stripe_price_that_another_plan_has_is_refused() {
    let pool = pool().await;
    let actor = Actor::system();
    {
        let mut client = pool.get().await.unwrap();
        let transaction = client.transaction().await.unwrap();
        let pro = plans::create_plan(
            &transaction,
            &actor,
            &plan("Pro", &[], Some("price_pro")),
            true,
        )
        .await
        .unwrap();
        assert!(saved_plan(pro).is_active);
        let hidden = plans::create_plan(&transaction, &actor, &plan("Old", &[], None), false)
            .await
            .unwrap();
        assert!(!saved_plan(hidden).is_active);
        assert_eq!(
            audit_rows(&transaction, "CREATE", "subscription_plans").await,
            2
        );
        transaction.commit().await.unwrap();
    }
    // A violated unique index aborts the transaction: one each.
    for (new, expected) in [
        (plan("Pro", &[], None), "name"),
        (plan("Team", &[], Some("price_pro")), "price"),
    ] {
        let mut client = pool.get().await.unwrap();
        let transaction = client.transaction().await.unwrap();
        let outcome = plans::create_plan(&transaction, &actor, &new, true)
            .await
            .unwrap();
        match (outcome, expected) {
            (PlanSaved::NameTaken, "name") | (PlanSaved::PriceTaken, "price") => {}
            (other, _) => panic!("{} gave {other:?}", new.name),
        }
    }
}

#[tokio::test]
async fn a_plan_with_subscriptions_is_not_deleted_and_one_without_is() {
    let pool = pool().await;
    let actor = Actor::system();
    let (used, unused) = {
        let mut client = pool.get().await.unwrap();
        let transaction = client.transaction().await.unwrap();
        account(&transaction, "robin@example.com", Role::User).await;
        let used = saved_plan(
            plans::create_plan(&transaction, &actor, &plan("Pro", &[], None), true)
                .await
                .unwrap(),
        );
        let unused = saved_plan(
            plans::create_plan(&transaction, &actor, &plan("Team", &[], None), true)
                .await
                .unwrap(),
        );
        let email = Email::parse("Robin@Example.com").unwrap();
        let granted = grant_plan(&transaction, &actor, &email, used.id)
            .await
            .unwrap();
        assert!(matches!(granted, Grant::Granted(_)), "{granted:?}");
        transaction.commit().await.unwrap();
        (used, unused)
    };
    {
        let mut client = pool.get().await.unwrap();
        let transaction = client.transaction().await.unwrap();
        let outcome = plans::delete_plan(&transaction, &actor, used.id)
            .await
            .unwrap();
        assert!(
            matches!(&outcome, PlanDeleted::HasSubscriptions(plan) if plan.id == used.id),
            "{outcome:?}"
        );
    }
    let mut client = pool.get().await.unwrap();
    let transaction = client.transaction().await.unwrap();
    let outcome = plans::delete_plan(&transaction, &actor, unused.id)
        .await
        .unwrap();
    assert!(matches!(outcome, PlanDeleted::Deleted(_)), "{outcome:?}");
    let again = plans::delete_plan(&transaction, &actor, unused.id)
        .await
        .unwrap();
    assert!(matches!(again, PlanDeleted::NotFound), "{again:?}");
    assert_eq!(
        audit_rows(&transaction, "DELETE", "subscription_plans").await,
        1
    );
}

#[tokio::test]
async fn a_plan_is_granted_only_to_an_account_not_paying_through_stripe_and_only_if_offered() {
    let pool = pool().await;
    let mut client = pool.get().await.unwrap();
    let transaction = client.transaction().await.unwrap();
    let actor = Actor::system();
    let payer = account(&transaction, "payer@example.com", Role::User).await;
    let pro = saved_plan(
        plans::create_plan(
            &transaction,
            &actor,
            &plan("Pro", &[], Some("price_pro")),
            true,
        )
        .await
        .unwrap(),
    );
    let old = saved_plan(
        plans::create_plan(&transaction, &actor, &plan("Old", &[], None), false)
            .await
            .unwrap(),
    );
    transaction
        .execute(
            "INSERT INTO subscriptions (user_id, plan_id, status, stripe_customer_id, stripe_subscription_id) \
             VALUES ($1, $2, 'active', 'cus_payer', 'sub_payer')",
            &[&payer.id, &pro.id],
        )
        .await
        .unwrap();
    let email = |text: &str| Email::parse(text).unwrap();

    let outcome = grant_plan(&transaction, &actor, &email("payer@example.com"), pro.id)
        .await
        .unwrap();
    assert!(matches!(outcome, Grant::PaysThroughStripe), "{outcome:?}");
    let outcome = grant_plan(&transaction, &actor, &email("nobody@example.com"), pro.id)
        .await
        .unwrap();
    assert!(matches!(outcome, Grant::NoSuchAccount), "{outcome:?}");
    let outcome = grant_plan(&transaction, &actor, &email("payer@example.com"), old.id)
        .await
        .unwrap();
    assert!(matches!(outcome, Grant::PlanNotOffered), "{outcome:?}");
    assert_eq!(audit_rows(&transaction, "CREATE", "subscriptions").await, 0);

    // Once Stripe's subscription has ended, an admin may grant a plan.
    transaction
        .execute(
            "UPDATE subscriptions SET status = 'canceled' WHERE user_id = $1",
            &[&payer.id],
        )
        .await
        .unwrap();
    let outcome = grant_plan(&transaction, &actor, &email("payer@example.com"), pro.id)
        .await
        .unwrap();
    let Grant::Granted(subscription) = outcome else {
        panic!("not granted: {outcome:?}");
    };
    assert_eq!(subscription.stripe_subscription_id, None);
    assert_eq!(audit_rows(&transaction, "UPDATE", "subscriptions").await, 1);
}

#[tokio::test]
async fn a_category_name_or_address_another_category_has_is_refused() {
    let pool = pool().await;
    let actor = Actor::system();
    let fields = |name: &str, slug: &str| CategoryFields {
        name: name.to_owned(),
        slug: slug.to_owned(),
        description: None,
        color: "#6366f1".to_owned(),
        sort_order: 0,
        is_active: true,
    };
    {
        let mut client = pool.get().await.unwrap();
        let transaction = client.transaction().await.unwrap();
        let made = categories::create_category(&transaction, &actor, &fields("News", "news"))
            .await
            .unwrap();
        assert!(matches!(made, CategorySaved::Saved(_)), "{made:?}");
        transaction.commit().await.unwrap();
    }
    for (taken, expected) in [
        (fields("News", "other"), "name"),
        (fields("Other", "news"), "slug"),
    ] {
        let mut client = pool.get().await.unwrap();
        let transaction = client.transaction().await.unwrap();
        let outcome = categories::create_category(&transaction, &actor, &taken)
            .await
            .unwrap();
        match (outcome, expected) {
            (CategorySaved::NameTaken, "name") | (CategorySaved::SlugTaken, "slug") => {}
            (other, _) => panic!("{} gave {other:?}", taken.name),
        }
    }
}
