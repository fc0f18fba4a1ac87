//! A local stand-in for Stripe's API that speaks its request and response
//! shapes (form-encoded requests, JSON objects, bearer auth), and builders
//! for signed events shaped like Stripe's real ones.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

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
    request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        == Some(&format!("Bearer {SECRET_KEY}"))
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

/// POSTs `body` to the webhook with a signature made with `secret` at
/// `timestamp`; returns the status.
pub async fn deliver_signed(url: &str, body: &str, secret: &str, timestamp: i64) -> u16 {
    let header = soloist::billing::stripe::signature_header(secret, timestamp, body.as_bytes());
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

/// Delivers `body` as Stripe does.
pub async fn deliver(url: &str, body: &str) -> u16 {
    deliver_signed(url, body, WEBHOOK_SECRET, now()).await
}
