//! Demo data: an order -> payment -> shipping app, written as Motia writes it: state step by
//! step, and the trace records of every flow (group record, one document per step execution
//! with its events). Expanded from the small templates in assets/demo/ so the repository holds
//! no bulky fixtures.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::cli::simulate::{FlowBuilder, Prefixes, Rng, Timed, Write};

const CATALOG: &str = include_str!("../../assets/demo/catalog.json");

/// Number of order flows in the fixed set (plus one catalog-sync flow).
pub const ORDER_TRACES: usize = 40;

/// The fixed set's clock: 2025-03-14T09:00:00Z.
pub const FIXED_BASE_MS: i64 = 1_741_942_800_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    customers: Vec<Value>,
    products: Vec<Product>,
    carriers: Vec<String>,
    notes: Vec<String>,
    payment_errors: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Product {
    sku: String,
    name: String,
    price: f64,
    weight_grams: u64,
}

/// The catalog is embedded at build time, so parsing it can only fail if the asset was edited
/// into invalid JSON.
pub fn catalog() -> Result<Catalog, String> {
    serde_json::from_str(CATALOG).map_err(|e| format!("assets/demo/catalog.json is broken: {e}"))
}

fn timestamp(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// A float as Motia's JSON.stringify would store it (`24`, not `24.0`).
fn js_num(x: f64) -> Value {
    motia_state::json::to_js_string(&x)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or(Value::Null)
}

fn money(x: f64) -> Value {
    js_num((x * 100.0).round() / 100.0)
}

/// How an order flow ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Shipping is still at work: the fixed set leaves its step running.
    Shipped,
    /// Payment failed on every attempt; the event went to the dead-letter queue.
    PaymentFailed,
    PendingPayment,
    Cancelled,
}

impl Outcome {
    fn of(i: usize) -> Self {
        match i % 10 {
            0..=5 => Outcome::Delivered,
            6 => Outcome::Shipped,
            7 => Outcome::PaymentFailed,
            8 => Outcome::PendingPayment,
            _ => Outcome::Cancelled,
        }
    }
}

/// What the demo wrote, for its start-up message.
pub struct Seeded {
    pub writes: Vec<Timed>,
    pub traces: usize,
    /// A completed order flow and a failed one, for the example commands.
    pub example: String,
    pub failed_example: String,
}

/// One order flow, `i` choosing customer, items and outcome. `live` keeps a shipping step
/// running for a while instead of leaving it unfinished.
#[allow(clippy::too_many_arguments)]
pub fn order_flow(
    cat: &Catalog,
    prefixes: &Prefixes,
    rng: &mut Rng,
    dlq_n: &mut u32,
    i: usize,
    outcome: Outcome,
    start_ms: i64,
    live: bool,
) -> (String, Vec<Timed>) {
    let trace = rng.trace_id(start_ms);
    // Cancelled orders are kept one day, pending checkouts expire on their own.
    let retention = (outcome == Outcome::Cancelled).then_some(86_400 + 600 * i as u64);
    let customer = cat.customers[rng.below(cat.customers.len())].clone();
    let mut lines = Vec::new();
    let mut total = 0.0;
    for _ in 0..1 + rng.below(4) {
        let p = &cat.products[rng.below(cat.products.len())];
        let qty = 1 + rng.below(3) as u64;
        total += p.price * qty as f64;
        lines.push(json!({
            "sku": p.sku, "name": p.name, "quantity": qty,
            "unitPrice": p.price, "weightGrams": p.weight_grams,
        }));
    }
    let order_id = format!("ORD-{}", 1001 + i);
    let order = |status: &str| {
        json!({
            "id": order_id,
            "status": status,
            "customer": {
                "name": customer["name"], "email": customer["email"],
                "address": {"street": customer["street"], "city": customer["city"], "country": customer["country"]},
            },
            "items": lines,
            "total": money(total),
            "currency": "EUR",
            "note": if i.is_multiple_of(3) { json!(cat.notes[i % cat.notes.len()]) } else { Value::Null },
            "createdAt": timestamp(start_ms),
        })
    };
    let fraud = js_num((rng.below(1000) as f64) / 1000.0);
    let pay_error = cat.payment_errors[i % cat.payment_errors.len()].clone();
    let pay_message = pay_error["message"]
        .as_str()
        .unwrap_or("Card declined")
        .to_string();
    let carrier = cat.carriers[i % cat.carriers.len()].clone();
    let tracking = format!(
        "{}{:010}",
        carrier.get(..2).unwrap_or("XX").to_uppercase(),
        rng.next() % 10_000_000_000
    );
    let parcel_weight = 150 + rng.below(3000);
    let parcel_depth = 10 + rng.below(20);
    let notifications = 1 + rng.below(4);

    let mut f = FlowBuilder::new(prefixes, rng, dlq_n, trace.clone(), "CreateOrder", start_ms);
    {
        let mut s = f.step("CreateOrder", "api");
        s.log("info", &format!("Creating order {order_id}"))
            .set(
                "checkout:draft",
                json!({"items": lines.len(), "customer": customer["email"]}),
                retention,
            )
            .set("order", order("pending"), retention)
            .set("cart:items", json!(lines), retention)
            .set(
                "coupon",
                if i % 4 == 1 {
                    json!(format!("SPRING{}", 10 + i % 3 * 5))
                } else {
                    Value::Null
                },
                retention,
            )
            // Beyond 2^53: JavaScript would round it, we keep every digit.
            .set(
                "ledger:entryId",
                json!(9_007_199_254_740_993u64 + i as u64),
                retention,
            )
            .delete("checkout:draft")
            .emit("order.created", json!({"orderId": order_id}));
        s.complete();
    }
    if i == 0 {
        // Written by an older service that did not speak JSON, outside any traced step.
        f.untraced_set(
            "legacy:note",
            "fragile - handle with care (imported from shop v1)",
            None,
        );
    }
    f.wait(60);
    {
        let mut s = f.step("ScoreFraud", "event");
        s.get("order")
            .set("fraud:score", fraud, retention)
            .set(
                "inventory:reserved",
                json!(outcome != Outcome::Cancelled),
                retention,
            )
            .emit("payment.requested", json!({"orderId": order_id}));
        s.complete();
    }
    f.wait(120);

    // Payment: a step the queue retries, 2 s apart, at most 4 attempts.
    let failed_first = i.is_multiple_of(4) && outcome != Outcome::PaymentFailed;
    let attempts = match outcome {
        Outcome::PaymentFailed => 4,
        _ if failed_first => 2,
        _ => 1,
    };
    for attempt in 1..=attempts {
        let last = attempt == attempts;
        let mut s = f.step("ProcessPayment", "event");
        s.get("order");
        let fails = outcome == Outcome::PaymentFailed || !last;
        if fails {
            s.set(
                &format!("payment:attempt:{attempt}"),
                json!({
                    "provider": "stripe", "amount": money(total), "currency": "EUR",
                    "status": "failed", "error": pay_error,
                    "at": timestamp(start_ms + 200 + 2000 * attempt as i64),
                }),
                retention,
            );
            if outcome == Outcome::PaymentFailed && last {
                s.set("payment:status", json!("failed"), retention).set(
                    "order",
                    order("payment_failed"),
                    retention,
                );
            }
            s.log("error", &format!("Payment failed: {pay_message}"));
            s.fail(&pay_message, "process-payment", 42);
            f.wait(2000);
            continue;
        }
        let payment_status = match outcome {
            Outcome::PendingPayment => "pending",
            Outcome::Cancelled => "refunded",
            _ => "captured",
        };
        s.set(
            &format!("payment:attempt:{attempt}"),
            json!({
                "provider": if i.is_multiple_of(5) { "paypal" } else { "stripe" },
                "amount": money(total), "currency": "EUR",
                "status": if outcome == Outcome::PendingPayment { "requires_action" } else { "succeeded" },
                "error": null,
                "at": timestamp(start_ms + 300 + 2000 * attempt as i64),
            }),
            retention,
        )
        .set("payment:status", json!(payment_status), retention);
        if outcome == Outcome::PendingPayment {
            s.set(
                "lock:payment",
                json!({"owner": "payment-step", "since": timestamp(start_ms + 400)}),
                Some(300),
            )
            .set(
                "session:checkout",
                json!({"step": "3ds", "returnUrl": "https://shop.example/checkout/return"}),
                Some(1_800),
            )
            .set("order", order("pending_payment"), retention);
        } else {
            s.emit("payment.captured", json!({"orderId": order_id}));
        }
        s.complete();
    }
    if outcome == Outcome::PaymentFailed {
        f.dead_letter("payment.requested", "ProcessPayment", &pay_message, 4);
        return (trace, f.finish());
    }
    if outcome == Outcome::PendingPayment {
        return (trace, f.finish());
    }
    f.wait(150);
    if outcome == Outcome::Cancelled {
        let mut s = f.step("CancelOrder", "event");
        s.log("warn", "Customer cancelled before shipping").set(
            "order",
            order("cancelled"),
            retention,
        );
        s.complete();
    } else {
        let mut s = f.step("ShipOrder", "event");
        s.set(
            "shipping:label",
            json!({
                "carrier": carrier,
                "trackingNumber": tracking,
                "parcel": {"weightGrams": parcel_weight, "dimensionsCm": [30, 20, parcel_depth]},
                "labelUrl": format!("https://labels.example/{order_id}.pdf"),
            }),
            retention,
        );
        let mut events =
            vec![json!({"at": timestamp(start_ms + 3_600_000), "type": "label_created"})];
        s.set("order", order("shipped"), retention).log(
            "info",
            &format!("Waiting for {carrier} to pick up the parcel"),
        );
        if outcome == Outcome::Shipped && !live {
            s.set("shipping:events", json!(events), retention);
            s.leave_running();
            return (trace, f.finish());
        }
        if outcome == Outcome::Shipped {
            // Live: the carrier takes its time.
            s.wait(20_000 + 1_000 * (i % 20) as i64);
        }
        events.push(json!({"at": timestamp(start_ms + 20_000_000), "type": "picked_up", "location": "Hub Leipzig"}));
        if outcome == Outcome::Delivered {
            events.push(json!({"at": timestamp(start_ms + 90_000_000), "type": "delivered", "location": customer["city"], "signedBy": customer["name"]}));
            s.set("order", order("delivered"), retention);
        }
        s.set("shipping:events", json!(events), retention);
        s.complete();
    }
    f.wait(80);
    {
        let mut s = f.step("NotifyCustomer", "event");
        s.get("order")
            .set("notifications:sent", json!(notifications), retention)
            .log(
                "info",
                &format!("Email sent to {}", customer["email"].as_str().unwrap_or("")),
            );
        s.complete();
    }
    (trace, f.finish())
}

/// The catalog sync: a cron flow writing one value of several MB (its `set` event carries
/// the whole value, so its step document is as large). Recorded by Motia 0.17.3, in the old
/// group shape.
fn catalog_sync(
    cat: &Catalog,
    prefixes: &Prefixes,
    rng: &mut Rng,
    dlq_n: &mut u32,
    start_ms: i64,
) -> (String, Vec<Timed>) {
    let mut products = Vec::with_capacity(24_000);
    let warehouses = ["Leipzig", "Rotterdam", "Lyon"];
    for n in 0..24_000u64 {
        let p = &cat.products[n as usize % cat.products.len()];
        products.push(json!({
            "sku": format!("{}-{n:05}", p.sku),
            "name": p.name,
            "price": money(p.price + (n % 97) as f64 / 10.0),
            "stock": (n * 7919) % 500,
            "warehouse": warehouses[n as usize % 3],
            "tags": ["demo", "sync"],
        }));
    }
    let trace = rng.trace_id(start_ms);
    let mut f = FlowBuilder::new(prefixes, rng, dlq_n, trace.clone(), "SyncCatalog", start_ms);
    let mut s = f.step("SyncCatalog", "cron");
    s.log("info", "Syncing the catalog from the ERP")
        .set(
            "catalog:snapshot",
            json!({"takenAt": timestamp(start_ms), "products": products}),
            None,
        )
        .set(
            "catalog:meta",
            json!({"source": "erp", "count": 24_000, "durationMs": 48_211}),
            None,
        );
    s.complete();
    let end = f.clock;
    let mut writes = f.finish();
    // 0.12 .. 0.17.3 kept status, end and counters in the group record.
    if let Some(Timed {
        write: Write::HSet { value, .. },
        ..
    }) = writes.first_mut()
    {
        *value = json!({
            "id": trace, "name": "SyncCatalog", "status": "completed", "startTime": start_ms,
            "endTime": end, "lastActivity": end,
            "metadata": {"completedSteps": 1, "activeSteps": 0, "totalSteps": 1},
        })
        .to_string();
    }
    (trace, writes)
}

/// The fixed set: 40 order flows and a catalog sync, the last flow starting at about
/// `base_ms` + 11 hours; the same every time for the same base.
pub fn fixed(prefixes: &Prefixes, base_ms: i64) -> Result<Seeded, String> {
    let cat = catalog()?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut dlq_n = 0;
    let mut writes = Vec::new();
    let (mut example, mut failed_example) = (String::new(), String::new());
    let (_, sync) = catalog_sync(&cat, prefixes, &mut rng, &mut dlq_n, base_ms - 3_600_000);
    writes.extend(sync);
    for i in 0..ORDER_TRACES {
        let outcome = Outcome::of(i);
        let start = base_ms + 1_020_000 * i as i64 + rng.below(1000) as i64;
        let (trace, w) = order_flow(
            &cat, prefixes, &mut rng, &mut dlq_n, i, outcome, start, false,
        );
        // The first order whose payment went through at once: a clean completed flow.
        if i == 1 {
            example = trace.clone();
        }
        if outcome == Outcome::PaymentFailed && failed_example.is_empty() {
            failed_example = trace.clone();
        }
        writes.extend(w);
    }
    // Motia stream data lives beside the state under another prefix.
    writes.push(Timed {
        at: base_ms,
        write: Write::Hash {
            key: format!("motia:stream:order-updates:{example}"),
            fields: vec![
                ("status".into(), "\"delivered\"".into()),
                (
                    "updatedAt".into(),
                    format!("\"{}\"", timestamp(base_ms + 90_000_000)),
                ),
            ],
        },
    });
    writes.push(Timed {
        at: base_ms,
        write: Write::Hash {
            key: "motia:stream:notifications:default".into(),
            fields: vec![(
                "last".into(),
                "{\"type\":\"email\",\"to\":\"zoe.mueller@example.de\"}".into(),
            )],
        },
    });
    writes.sort_by_key(|t| t.at);
    Ok(Seeded {
        writes,
        traces: ORDER_TRACES + 1,
        example,
        failed_example,
    })
}
