//! The demo's forgotten state: flows that finished days ago, whose trace records Motia let
//! expire while their state (written without a TTL) stayed. Each key is made to look untouched
//! for its age with `RESTORE ... IDLETIME`, so the stats view and `gc` find what a long-running
//! app accumulates.

use redis::aio::MultiplexedConnection;
use serde_json::json;

/// (trace id, days since the flow last wrote, whether one key got a TTL).
const FLOWS: [(&str, u64, bool); 8] = [
    ("K7QXM-0931442", 4, false),
    ("P3RTZ-1193817", 5, true),
    ("W9HJD-2210584", 6, false),
    ("B2NVC-3029471", 9, false),
    ("T8YKE-4471039", 12, false),
    ("M5GAW-5523911", 16, true),
    ("Z4FPQ-6640127", 23, false),
    ("H6LSU-7781345", 31, false),
];

/// Writes the forgotten flows' state under `prefix`.
pub async fn write(conn: &mut MultiplexedConnection, prefix: &str) -> redis::RedisResult<()> {
    for (n, (trace, days, with_ttl)) in FLOWS.iter().enumerate() {
        let idle = days * 86_400 + n as u64 * 3_600;
        let items = [
            (
                "order",
                json!({"id": format!("ord_{}", 9000 + n), "status": "delivered", "total": 40 + n * 7}),
            ),
            (
                "cart",
                json!({"items": (0..=n).map(|i| json!({"sku": format!("SKU-{i:03}"), "qty": 1 + i % 3})).collect::<Vec<_>>()}),
            ),
            (
                "payment",
                json!({"provider": "stripe", "status": "captured", "attempts": 1}),
            ),
        ];
        for (i, (key, value)) in items.iter().enumerate() {
            let full = format!("{prefix}{trace}:{key}");
            let () = redis::cmd("SET")
                .arg(&full)
                .arg(value.to_string())
                .query_async(conn)
                .await?;
            let dump: Vec<u8> = redis::cmd("DUMP").arg(&full).query_async(conn).await?;
            let ttl_ms: u64 = if *with_ttl && i == 2 {
                6 * 3_600_000
            } else {
                0
            };
            let () = redis::cmd("RESTORE")
                .arg(&full)
                .arg(ttl_ms)
                .arg(dump)
                .arg("REPLACE")
                .arg("IDLETIME")
                .arg(idle)
                .query_async(conn)
                .await?;
        }
    }
    Ok(())
}
