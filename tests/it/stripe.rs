//! A local stand-in for Stripe's API that speaks its request and response
//! shapes (form-encoded requests, JSON objects, bearer auth, the pinned
//! `Stripe-Version`), builders for events shaped like Stripe's real ones in
//! both API shapes (before and since 2025-03-31), and delivery signed by
//! the official Stripe SDK (tests/stripe/sign.mjs, npm `stripe`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

pub const SECRET_KEY: &str = "sk_test_soloist";
pub const WEBHOOK_SECRET: &str = "whsec_test_soloist";

/// What the stand-in knows: subscriptions by id, and every session made.
#[derive(Clone, Default)]
pub struct Stripe {
    pub url: String,
    pub subscriptions: Arc<Mutex<HashMap<String, Value>>>,
    pub checkouts: Arc<Mutex<Vec<HashMap<String, String>>>>,
    pub expired: Arc<Mutex<Vec<String>>>,
    pub portals: Arc<Mutex<Vec<String>>>,
}

fn refused(status: u16, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
        .json(json!({ "error": { "type": "invalid_request_error", "message": message } }))
}

fn authorized(request: &HttpRequest) -> bool {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
    };
    // Stripe answers in the version asked for: Soloist pins the one it reads.
    header("authorization") == Some(&format!("Bearer {SECRET_KEY}"))
        && header("stripe-version") == Some(soloist::billing::versions::PINNED)
}

async fn list_subscriptions(
    stripe: web::Data<Stripe>,
    request: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    if !authorized(&request) {
        return refused(401, "Invalid API Key provided");
    }
    let mut all: Vec<Value> = stripe
        .subscriptions
        .lock()
        .unwrap()
        .values()
        .cloned()
        .collect();
    all.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    if query.get("status").map(String::as_str) != Some("all") {
        all.retain(|subscription| subscription["status"] != "canceled");
    }
    if let Some(after) = query.get("starting_after") {
        all.retain(|subscription| subscription["id"].as_str().unwrap() > after.as_str());
    }
    let limit: usize = query
        .get("limit")
        .and_then(|limit| limit.parse().ok())
        .unwrap_or(10);
    let has_more = all.len() > limit;
    all.truncate(limit);
    HttpResponse::Ok().json(json!({
        "object": "list", "url": "/v1/subscriptions", "has_more": has_more, "data": all
    }))
}

async fn create_checkout(
    stripe: web::Data<Stripe>,
    request: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    if !authorized(&request) {
        return refused(401, "Invalid API Key provided");
    }
    let mut checkouts = stripe.checkouts.lock().unwrap();
    let id = format!("cs_test_{}", checkouts.len() + 1);
    checkouts.push(form.into_inner());
    HttpResponse::Ok().json(json!({
        "id": id, "object": "checkout.session", "mode": "subscription", "status": "open",
        "url": format!("{}/pay/{id}", stripe.url),
    }))
}

async fn expire_checkout(
    stripe: web::Data<Stripe>,
    request: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    if !authorized(&request) {
        return refused(401, "Invalid API Key provided");
    }
    stripe.expired.lock().unwrap().push(id.clone());
    HttpResponse::Ok().json(json!({ "id": *id, "object": "checkout.session", "status": "expired" }))
}

async fn create_portal(
    stripe: web::Data<Stripe>,
    request: HttpRequest,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    if !authorized(&request) {
        return refused(401, "Invalid API Key provided");
    }
    let customer = form.get("customer").cloned().unwrap_or_default();
    stripe.portals.lock().unwrap().push(customer);
    HttpResponse::Ok().json(json!({ "id": "bps_1", "object": "billing_portal.session", "url": format!("{}/portal/bps_1", stripe.url) }))
}

async fn get_subscription(
    stripe: web::Data<Stripe>,
    request: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    if !authorized(&request) {
        return refused(401, "Invalid API Key provided");
    }
    match stripe.subscriptions.lock().unwrap().get(id.as_str()) {
        Some(subscription) => HttpResponse::Ok().json(subscription),
        None => refused(404, &format!("No such subscription: '{id}'")),
    }
}

async fn update_subscription(
    stripe: web::Data<Stripe>,
    request: HttpRequest,
    id: web::Path<String>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    if !authorized(&request) {
        return refused(401, "Invalid API Key provided");
    }
    let mut subscriptions = stripe.subscriptions.lock().unwrap();
    let Some(subscription) = subscriptions.get_mut(id.as_str()) else {
        return refused(404, &format!("No such subscription: '{id}'"));
    };
    if let Some(cancel) = form.get("cancel_at_period_end") {
        subscription["cancel_at_period_end"] = json!(cancel == "true");
    }
    if let Some(price) = form.get("items[0][price]") {
        subscription["items"]["data"][0]["price"]["id"] = json!(price);
    }
    HttpResponse::Ok().json(subscription.clone())
}

impl Stripe {
    pub async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stripe = Stripe {
            url: format!("http://{}", listener.local_addr().unwrap()),
            ..Stripe::default()
        };
        let data = web::Data::new(stripe.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/v1/checkout/sessions", web::post().to(create_checkout))
                .route(
                    "/v1/checkout/sessions/{id}/expire",
                    web::post().to(expire_checkout),
                )
                .route("/v1/billing_portal/sessions", web::post().to(create_portal))
                .route("/v1/subscriptions", web::get().to(list_subscriptions))
                .route("/v1/subscriptions/{id}", web::get().to(get_subscription))
                .route(
                    "/v1/subscriptions/{id}",
                    web::post().to(update_subscription),
                )
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        stripe
    }

    /// Makes Stripe know `subscription` as it is now.
    pub fn put(&self, subscription: &Value) {
        self.subscriptions.lock().unwrap().insert(
            subscription["id"].as_str().unwrap().to_owned(),
            subscription.clone(),
        );
    }
}

/// A subscription object shaped like Stripe's (API 2024-06-20).
pub fn subscription(id: &str, customer: &str, status: &str, price: &str, user_id: &str) -> Value {
    let start = 1_790_000_000_i64;
    json!({
        "id": id,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": false,
        "canceled_at": null,
        "ended_at": null,
        "trial_end": null,
        "current_period_start": start,
        "current_period_end": start + 30 * 86_400,
        "livemode": false,
        "metadata": { "user_id": user_id },
        "items": {
            "object": "list",
            "data": [{
                "id": format!("si_{id}"),
                "object": "subscription_item",
                "price": { "id": price, "object": "price", "currency": "usd", "unit_amount": 1200,
                           "recurring": { "interval": "month" } },
                "quantity": 1
            }]
        }
    })
}

/// An event shaped like Stripe's.
pub fn event(id: &str, kind: &str, created: i64, object: &Value) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "type": kind,
        "livemode": false,
        "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "data": { "object": object }
    })
    .to_string()
}

/// An invoice object.
pub fn invoice(id: &str, customer: &str, subscription: &str, amount: i64, paid: bool) -> Value {
    json!({
        "id": id,
        "object": "invoice",
        "customer": customer,
        "subscription": subscription,
        "amount_due": amount,
        "amount_paid": if paid { amount } else { 0 },
        "currency": "usd",
        "status": if paid { "paid" } else { "open" },
        "payment_intent": format!("pi_{id}"),
        "charge": format!("ch_{id}"),
        "number": format!("SOLO-{id}"),
        "hosted_invoice_url": null,
        "lines": { "object": "list", "data": [{ "description": "1 × Pro (at $12.00 / month)" }] }
    })
}

/// Now, in Stripe's unix seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The directory of the Stripe SDK peer (tests/stripe), its packages
/// installed (`npm ci`, once per test binary) when missing.
pub fn peer_dir() -> std::path::PathBuf {
    static READY: OnceLock<std::path::PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/stripe");
            for package in [dir.clone(), dir.join("legacy")] {
                let installed = package.join("node_modules/stripe/package.json").exists();
                let fresh = std::fs::metadata(package.join("node_modules/.package-lock.json"))
                    .and_then(|lock| lock.modified())
                    .ok()
                    >= std::fs::metadata(package.join("package-lock.json"))
                        .and_then(|lock| lock.modified())
                        .ok();
                if !installed || !fresh {
                    let status = std::process::Command::new("npm")
                        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                        .current_dir(&package)
                        .status()
                        .unwrap_or_else(|error| {
                            panic!("npm runs (Node.js is needed for the Stripe SDK peer): {error}")
                        });
                    assert!(status.success(), "npm ci in {}", package.display());
                }
            }
            dir
        })
        .clone()
}

struct Signer {
    input: std::process::ChildStdin,
    output: std::io::BufReader<std::process::ChildStdout>,
    _child: std::process::Child,
}

/// A `Stripe-Signature` header made by the official Stripe SDK.
pub fn sdk_signature(secret: &str, timestamp: i64, body: &str) -> String {
    use std::io::{BufRead, Write};
    static SIGNER: OnceLock<Mutex<Signer>> = OnceLock::new();
    let signer = SIGNER.get_or_init(|| {
        let mut child = std::process::Command::new("node")
            .arg(peer_dir().join("sign.mjs"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("node runs tests/stripe/sign.mjs: {error}"));
        Mutex::new(Signer {
            input: child.stdin.take().unwrap(),
            output: std::io::BufReader::new(child.stdout.take().unwrap()),
            _child: child,
        })
    });
    let mut signer = signer
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let request = json!({ "payload": body, "secret": secret, "timestamp": timestamp });
    writeln!(signer.input, "{request}").unwrap();
    signer.input.flush().unwrap();
    let mut header = String::new();
    signer.output.read_line(&mut header).unwrap();
    assert!(
        header.starts_with("t="),
        "the SDK signer answered {header:?}"
    );
    header.trim_end().to_owned()
}

/// POSTs `body` to the webhook with a signature made with `secret` at
/// `timestamp` by the official Stripe SDK; returns the status.
pub async fn deliver_signed(url: &str, body: &str, secret: &str, timestamp: i64) -> u16 {
    let header = sdk_signature(secret, timestamp, body);
    crate::support::browser()
        .post(format!("{url}/webhooks/stripe"))
        .header("Stripe-Signature", header)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Delivers `body` as Stripe does; returns the status and the answer (its
/// JSON, or its text).
pub async fn deliver_for_answer(url: &str, body: &str) -> (u16, Value) {
    let header = sdk_signature(WEBHOOK_SECRET, now(), body);
    let response = crate::support::browser()
        .post(format!("{url}/webhooks/stripe"))
        .header("Stripe-Signature", header)
        .header("Content-Type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Delivers `body` as Stripe does.
pub async fn deliver(url: &str, body: &str) -> u16 {
    deliver_signed(url, body, WEBHOOK_SECRET, now()).await
}

/// The API version the official SDK of each shape targets.
pub const LEGACY_VERSION: &str = "2024-06-20";

/// An event in API version `version`.
pub fn event_in(version: &str, id: &str, kind: &str, created: i64, object: &Value) -> String {
    let mut event: Value = serde_json::from_str(&event(id, kind, created, object)).unwrap();
    event["api_version"] = json!(version);
    event.to_string()
}

/// An event shaped as Stripe sends it today (API 2026-11-18).
pub fn current_event(id: &str, kind: &str, created: i64, object: &Value) -> String {
    event_in(
        soloist::billing::versions::PINNED,
        id,
        kind,
        created,
        object,
    )
}

/// A subscription as Stripe shapes it since 2025-03-31: the periods are on
/// the items.
pub fn current_subscription(
    id: &str,
    customer: &str,
    status: &str,
    price: &str,
    user_id: &str,
) -> Value {
    let mut object = subscription(id, customer, status, price, user_id);
    let start = object["current_period_start"].take();
    let end = object["current_period_end"].take();
    let map = object.as_object_mut().unwrap();
    map.remove("current_period_start");
    map.remove("current_period_end");
    let item = &mut object["items"]["data"][0];
    item["current_period_start"] = start;
    item["current_period_end"] = end;
    item["subscription"] = json!(id);
    object
}

/// An invoice as Stripe shapes it since 2025-03-31: no `charge`,
/// `payment_intent` or `subscription`; the subscription (with its
/// metadata) under `parent`.
pub fn current_invoice(
    id: &str,
    customer: &str,
    subscription: &str,
    amount: i64,
    paid: bool,
    user_id: Option<&str>,
) -> Value {
    let metadata = match user_id {
        Some(user) => json!({ "user_id": user }),
        None => json!({}),
    };
    json!({
        "id": id,
        "object": "invoice",
        "customer": customer,
        "amount_due": amount,
        "amount_paid": if paid { amount } else { 0 },
        "amount_remaining": if paid { 0 } else { amount },
        "currency": "usd",
        "status": if paid { "paid" } else { "open" },
        "number": format!("SOLO-{id}"),
        "hosted_invoice_url": null,
        "livemode": false,
        "parent": {
            "type": "subscription_details",
            "quote_details": null,
            "subscription_details": { "subscription": subscription, "metadata": metadata }
        },
        "lines": { "object": "list", "data": [{ "id": format!("il_{id}"), "object": "line_item", "description": "1 × Pro (at $12.00 / month)" }] }
    })
}

/// The `invoice_payment` that links a current invoice to its payment intent.
pub fn invoice_payment(invoice: &str, payment_intent: &str, amount: i64) -> Value {
    json!({
        "id": format!("inpay_{invoice}"),
        "object": "invoice_payment",
        "amount_paid": amount,
        "amount_requested": amount,
        "currency": "usd",
        "invoice": invoice,
        "is_default": true,
        "livemode": false,
        "payment": { "type": "payment_intent", "payment_intent": payment_intent },
        "status": "paid",
        "status_transitions": { "canceled_at": null, "paid_at": 1_790_000_100 }
    })
}

/// A charge refunded by `refunded` of `amount` cents; `invoice` only in
/// the legacy shape.
pub fn refunded_charge(
    id: &str,
    payment_intent: &str,
    invoice: Option<&str>,
    amount: i64,
    refunded: i64,
) -> Value {
    let mut charge = json!({
        "id": id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": refunded,
        "currency": "usd",
        "paid": true,
        "captured": true,
        "payment_intent": payment_intent,
        "refunded": refunded >= amount,
        "status": "succeeded",
        "livemode": false
    });
    if let Some(invoice) = invoice {
        charge["invoice"] = json!(invoice);
    }
    charge
}
