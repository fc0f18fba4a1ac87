//! Every event the tests build fits the official SDK's types.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::payment_events;
use crate::stripe::{LEGACY_VERSION, current_event, current_subscription, event, peer_dir};

/// Every event the tests build, by name and shape.
fn fixtures() -> Vec<(String, &'static str, Value)> {
    let user = "0190e0a0-0000-7000-8000-000000000001";
    let t = 1_790_000_000;
    let parse = |body: String| serde_json::from_str::<Value>(&body).unwrap();
    let mut list = vec![
        (
            "legacy customer.subscription.updated".to_owned(),
            "legacy",
            parse(event(
                "evt_a",
                "customer.subscription.updated",
                t,
                &crate::stripe::subscription("sub_a", "cus_a", "active", "price_pro", user),
            )),
        ),
        (
            "current customer.subscription.updated".to_owned(),
            "current",
            parse(current_event(
                "evt_b",
                "customer.subscription.updated",
                t,
                &current_subscription("sub_a", "cus_a", "active", "price_pro", user),
            )),
        ),
    ];
    for shape in ["legacy", "current"] {
        for (id, body) in payment_events(shape, 0, user, t) {
            list.push((id, shape, parse(body)));
        }
    }
    list
}

#[test]
fn every_fixture_fits_the_official_sdks_types_of_its_api_version() {
    let mut fixtures: Vec<Value> = fixtures()
        .into_iter()
        .map(|(name, shape, event)| json!({ "name": name, "shape": shape, "event": event }))
        .collect();
    assert_eq!(
        fixtures
            .iter()
            .filter(|fixture| fixture["event"]["api_version"] == LEGACY_VERSION)
            .count(),
        5
    );
    // The control: yesterday's shapes do not fit today's types (the check
    // can fail), and today's invoice does not fit 2024's.
    let legacy_invoice = fixtures
        .iter()
        .find(|fixture| fixture["name"] == "evt_legacy_0_paid")
        .unwrap()["event"]
        .clone();
    let current_invoice = fixtures
        .iter()
        .find(|fixture| fixture["name"] == "evt_current_0_paid")
        .unwrap()["event"]
        .clone();
    fixtures.push(json!({ "name": "control: legacy invoice as today's", "shape": "current", "event": legacy_invoice }));
    fixtures.push(json!({ "name": "control: today's invoice as 2024's", "shape": "legacy", "event": current_invoice }));
    let dir = peer_dir();
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), serde_json::to_string(&fixtures).unwrap()).unwrap();
    let output = std::process::Command::new("node")
        .arg(dir.join("check.mjs"))
        .arg(input.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let result: HashMap<String, Vec<String>> = serde_json::from_slice(&output.stdout).unwrap();
    for fixture in &fixtures {
        let name = fixture["name"].as_str().unwrap();
        let errors = &result[name];
        if name.starts_with("control") {
            assert!(!errors.is_empty(), "{name} fit the other version's types");
        } else {
            assert!(errors.is_empty(), "{name}: {errors:?}");
        }
    }
    let legacy_errors = result["control: legacy invoice as today's"].join(" ");
    assert!(
        legacy_errors.contains("charge") || legacy_errors.contains("subscription"),
        "{legacy_errors}"
    );
    let current_errors = result["control: today's invoice as 2024's"].join(" ");
    assert!(current_errors.contains("parent"), "{current_errors}");
}
