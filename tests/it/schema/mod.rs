//! The schema against the seed document: tables, columns, types, NOT NULLs,
//! defaults, indexes, constraints, enums, cascades; migrations; relations.

mod cascades;
mod columns;
mod keys;
mod partitions;
mod relations;
mod seed_schema;
mod statements;

use soloist::billing::model::{NewPlan, PlanInterval};

async fn client(db: &crate::support::TestDb) -> tokio_postgres::Client {
    soloist::db::connect(&db.config).await.unwrap()
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
