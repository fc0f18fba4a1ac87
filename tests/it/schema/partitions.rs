//! The audit trail's monthly partitions.

use soloist::audit::model::NewAuditLog;
use soloist::audit::store as audit;

use crate::support::migrated_db;

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
