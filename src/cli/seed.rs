//! Demo data: an order -> payment -> shipping flow, expanded from the small templates in
//! assets/demo/ so the repository holds no bulky fixtures.

use serde::Deserialize;
use serde_json::{Value, json};

const CATALOG: &str = include_str!("../../assets/demo/catalog.json");

/// Number of order traces the demo creates (plus one catalog-sync trace).
pub const ORDER_TRACES: usize = 40;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Catalog {
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

/// One Redis write of the seed.
pub enum Entry {
    /// A state item: JSON (or, once, plain text) under `{prefix}{trace}:{key}`.
    State {
        trace: String,
        key: String,
        text: String,
        ttl_secs: Option<u64>,
    },
    /// A hash outside the state prefix, as Motia streams keep them; must not show as state.
    Hash {
        key: String,
        fields: Vec<(String, String)>,
    },
}

/// Deterministic pseudo-random numbers (xorshift), so every demo looks the same.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn timestamp(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
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

/// Every write of the demo, in order. The catalog is embedded at build time, so parsing it
/// can only fail if the asset was edited into invalid JSON.
pub fn entries() -> Result<Vec<Entry>, String> {
    let cat: Catalog = serde_json::from_str(CATALOG)
        .map_err(|e| format!("assets/demo/catalog.json is broken: {e}"))?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::new();
    let base = 1_741_942_800; // 2025-03-14T09:00:00Z
    let mut first_trace = String::new();

    for i in 0..ORDER_TRACES {
        let trace = format!("order-{:04}-{:06x}", 1001 + i, rng.next() & 0xff_ffff);
        if i == 0 {
            first_trace = trace.clone();
        }
        let status = match i % 10 {
            0..=5 => "delivered",
            6 => "shipped",
            7 => "payment_failed",
            8 => "pending_payment",
            _ => "cancelled",
        };
        // Cancelled orders are kept one day, pending checkouts expire on their own.
        let retention = (status == "cancelled").then_some(86_400 + 600 * i as u64);
        let created = base + 1_020 * i as i64;
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
        let mut add = |key: &str, value: Value, ttl: Option<u64>| {
            out.push(Entry::State {
                trace: trace.clone(),
                key: key.to_string(),
                text: motia_state::json::to_compact(&value),
                ttl_secs: ttl.or(retention),
            });
        };
        add(
            "order",
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
                "note": if i % 3 == 0 { json!(cat.notes[i % cat.notes.len()]) } else { Value::Null },
                "createdAt": timestamp(created),
            }),
            None,
        );
        add("cart:items", json!(lines), None);
        add(
            "fraud:score",
            js_num((rng.below(1000) as f64) / 1000.0),
            None,
        );
        add("inventory:reserved", json!(status != "cancelled"), None);
        add(
            "coupon",
            if i % 4 == 1 {
                json!(format!("SPRING{}", 10 + i % 3 * 5))
            } else {
                Value::Null
            },
            None,
        );
        // Beyond 2^53: JavaScript would round it, we keep every digit.
        add(
            "ledger:entryId",
            json!(9_007_199_254_740_993u64 + i as u64),
            None,
        );

        let failed_first = i % 4 == 0 || status == "payment_failed";
        let mut attempt = 1;
        if failed_first {
            add(
                &format!("payment:attempt:{attempt}"),
                json!({
                    "provider": "stripe", "amount": money(total), "currency": "EUR",
                    "status": "failed", "error": cat.payment_errors[i % cat.payment_errors.len()],
                    "at": timestamp(created + 40),
                }),
                None,
            );
            attempt += 1;
        }
        let payment_status = match status {
            "payment_failed" => "failed",
            "pending_payment" => "pending",
            "cancelled" => "refunded",
            _ => "captured",
        };
        if status != "payment_failed" {
            add(
                &format!("payment:attempt:{attempt}"),
                json!({
                    "provider": if i % 5 == 0 { "paypal" } else { "stripe" },
                    "amount": money(total), "currency": "EUR",
                    "status": if status == "pending_payment" { "requires_action" } else { "succeeded" },
                    "error": null,
                    "at": timestamp(created + 95),
                }),
                None,
            );
        }
        add("payment:status", json!(payment_status), None);
        if status == "pending_payment" {
            add(
                "lock:payment",
                json!({"owner": "payment-step", "since": timestamp(created + 96)}),
                Some(300),
            );
            add(
                "session:checkout",
                json!({"step": "3ds", "returnUrl": "https://shop.example/checkout/return"}),
                Some(1_800),
            );
        }
        if matches!(status, "delivered" | "shipped") {
            let carrier = &cat.carriers[i % cat.carriers.len()];
            add(
                "shipping:label",
                json!({
                    "carrier": carrier,
                    "trackingNumber": format!("{}{:010}", &carrier[..2].to_uppercase(), rng.next() % 10_000_000_000),
                    "parcel": {"weightGrams": 150 + rng.below(3000), "dimensionsCm": [30, 20, 10 + rng.below(20)]},
                    "labelUrl": format!("https://labels.example/{order_id}.pdf"),
                }),
                None,
            );
            let mut events = vec![
                json!({"at": timestamp(created + 3_600), "type": "label_created"}),
                json!({"at": timestamp(created + 20_000), "type": "picked_up", "location": "Hub Leipzig"}),
            ];
            if status == "delivered" {
                events.push(json!({"at": timestamp(created + 90_000), "type": "delivered", "location": customer["city"], "signedBy": customer["name"]}));
            }
            add("shipping:events", json!(events), None);
        }
        add("notifications:sent", json!(1 + rng.below(4)), None);
        if i == 0 {
            // Written by an older service that did not speak JSON.
            out.push(Entry::State {
                trace: trace.clone(),
                key: "legacy:note".into(),
                text: "fragile - handle with care (imported from shop v1)".into(),
                ttl_secs: None,
            });
        }
    }

    // One value of several MB: a catalog snapshot taken by a sync step.
    let sync = "catalog-sync-5f2e9a";
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
    for (key, value) in [
        (
            "catalog:snapshot",
            json!({"takenAt": timestamp(base - 3_600), "products": products}),
        ),
        (
            "catalog:meta",
            json!({"source": "erp", "count": 24_000, "durationMs": 48_211}),
        ),
    ] {
        out.push(Entry::State {
            trace: sync.into(),
            key: key.into(),
            text: motia_state::json::to_compact(&value),
            ttl_secs: None,
        });
    }

    // Motia stream data lives beside the state under another prefix.
    out.push(Entry::Hash {
        key: format!("motia:stream:order-updates:{first_trace}"),
        fields: vec![
            ("status".into(), "\"delivered\"".into()),
            (
                "updatedAt".into(),
                format!("\"{}\"", timestamp(base + 90_000)),
            ),
        ],
    });
    out.push(Entry::Hash {
        key: "motia:stream:notifications:default".into(),
        fields: vec![(
            "last".into(),
            "{\"type\":\"email\",\"to\":\"zoe.mueller@example.de\"}".into(),
        )],
    });
    Ok(out)
}
