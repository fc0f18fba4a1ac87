//! The account rules as plain functions, without HTTP: which account a
//! provider's sign-in links to (`accounts::linking`) and what a sign-up
//! writes (`accounts::registration`), each in one transaction with its
//! audit rows.

use soloist::accounts::linking::{Linking, sign_in_with_provider};
use soloist::accounts::model::{DisplayName, Email, NewUser, Role};
use soloist::accounts::oauth::ProviderProfile;
use soloist::accounts::registration::{Registration, SignUp, register};
use soloist::accounts::store;
use soloist::audit::{self, Actor};

use crate::support::migrated_db;

fn profile(id: &str, email: Option<&str>) -> ProviderProfile {
    ProviderProfile {
        id: id.to_owned(),
        verified_email: email.map(str::to_owned),
        name: "Ada\u{7}Lovelace".to_owned(),
        avatar_url: None,
    }
}

async fn user(client: &impl deadpool_postgres::GenericClient, email: &str, role: Role) {
    store::create_user(
        client,
        &NewUser {
            email: email.to_owned(),
            name: "Someone".to_owned(),
            role,
        },
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_new_identity_makes_a_confirmed_account_and_the_same_identity_then_finds_it() {
    let db = migrated_db().await;
    let mut client = db.pool().get().await.unwrap();
    let transaction = client.transaction().await.unwrap();
    let actor = Actor::system();
    let ada = profile("gh-1", Some("ada@example.com"));
    let first = sign_in_with_provider(&transaction, &actor, None, "github", &ada)
        .await
        .unwrap();
    let Linking::Created(created) = first else {
        panic!("a new identity makes an account: {first:?}");
    };
    assert!(
        created.email_verified,
        "the provider vouched for the address"
    );
    assert_eq!(
        created.name, "AdaLovelace",
        "control characters are dropped"
    );
    let again = sign_in_with_provider(&transaction, &actor, None, "github", &ada)
        .await
        .unwrap();
    assert_eq!(again, Linking::Known(created.clone()));
    let trail = audit::store::recent(&transaction, 10).await.unwrap();
    let rows: Vec<(&str, &str)> = trail
        .iter()
        .map(|row| (row.action.as_str(), row.entity.as_str()))
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.contains(&("CREATE", "users")), "{rows:?}");
    assert!(rows.contains(&("CREATE", "accounts")), "{rows:?}");
}

#[tokio::test]
async fn an_identity_without_a_verified_address_links_to_nothing() {
    let db = migrated_db().await;
    let client = db.pool().get().await.unwrap();
    let outcome = sign_in_with_provider(
        &client,
        &Actor::system(),
        None,
        "google",
        &profile("g-1", None),
    )
    .await
    .unwrap();
    assert_eq!(outcome, Linking::NoVerifiedEmail);
    assert!(audit::store::recent(&client, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_administrators_address_links_only_from_the_administrators_own_browser() {
    let db = migrated_db().await;
    let client = db.pool().get().await.unwrap();
    user(&client, "boss@example.com", Role::Admin).await;
    let boss = store::user_by_email(&client, "boss@example.com")
        .await
        .unwrap()
        .unwrap();
    let identity = profile("gh-boss", Some("boss@example.com"));
    let stranger = sign_in_with_provider(&client, &Actor::system(), None, "github", &identity)
        .await
        .unwrap();
    assert_eq!(
        stranger,
        Linking::AdminMustSignInFirst {
            email: "boss@example.com".to_owned()
        }
    );
    let own = sign_in_with_provider(
        &client,
        &Actor::system(),
        Some(boss.id),
        "github",
        &identity,
    )
    .await
    .unwrap();
    assert!(
        matches!(own, Linking::LinkedExisting { ref user, .. } if user.id == boss.id),
        "{own:?}"
    );
}

#[tokio::test]
async fn an_unconfirmed_account_is_proven_by_the_provider_and_loses_a_password_set_before() {
    let db = migrated_db().await;
    let client = db.pool().get().await.unwrap();
    user(&client, "new@example.com", Role::User).await;
    let before = store::user_by_email(&client, "new@example.com")
        .await
        .unwrap()
        .unwrap();
    store::set_password_hash(
        &client,
        before.id,
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
    )
    .await
    .unwrap();
    let outcome = sign_in_with_provider(
        &client,
        &Actor::system(),
        None,
        "github",
        &profile("gh-new", Some("new@example.com")),
    )
    .await
    .unwrap();
    let Linking::LinkedExisting { user, tell_owner } = outcome else {
        panic!("the account with the address is linked: {outcome:?}");
    };
    assert!(user.email_verified);
    assert!(!tell_owner, "nobody had proven the address: no one to tell");
    assert_eq!(
        store::password_hash_of(&client, user.id).await.unwrap(),
        None,
        "a password chosen before the first proof is not the owner's"
    );
}

#[tokio::test]
async fn a_sign_up_makes_one_unconfirmed_account_and_a_second_one_writes_nothing() {
    let db = migrated_db().await;
    let client = db.pool().get().await.unwrap();
    let sign_up = SignUp {
        email: Email::parse("writer@example.com").unwrap(),
        name: DisplayName::parse("Writer").unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        language: soloist::i18n::Language::En,
    };
    let first = register(&client, &Actor::system(), &sign_up).await.unwrap();
    let Registration::Created(user) = first else {
        panic!("a new address makes an account: {first:?}");
    };
    assert!(!user.email_verified);
    assert_eq!(user.role, Role::User);
    let second = register(&client, &Actor::system(), &sign_up).await.unwrap();
    assert_eq!(second, Registration::AlreadyRegistered);
    let trail = audit::store::recent(&client, 10).await.unwrap();
    assert_eq!(trail.len(), 1, "only the first sign-up wrote");
    let changes = trail[0].changes.clone().unwrap();
    assert_eq!(changes["email"]["after"], "writer@example.com");
    assert_eq!(changes["password_hash"]["after"], "[hidden]");
}
