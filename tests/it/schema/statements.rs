//! Every store's SQL prepares against the migrated schema.

use super::client;
use crate::support::migrated_db;

#[tokio::test]
async fn every_store_statement_prepares_against_the_migrated_schema() {
    let db = migrated_db().await;
    let client = client(&db).await;
    let stores = [
        soloist::accounts::store::STATEMENTS,
        soloist::billing::store::STATEMENTS,
        soloist::content::store::STATEMENTS,
        soloist::content::excerpts::STATEMENTS,
        soloist::audit::store::STATEMENTS,
        soloist::accounts::store::SIGN_IN_STATEMENTS,
        soloist::web::rate_limit::STATEMENTS,
        soloist::monitoring::store::STATEMENTS,
        soloist::mail::STATEMENTS,
        soloist::web::local_time::STATEMENTS,
        soloist::audit::store::ADMIN_STATEMENTS,
        soloist::accounts::store::ADMIN_STATEMENTS,
        soloist::admin::store::STATEMENTS,
        soloist::site::store::STATEMENTS,
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
