//! Adapter benchmark: our trace_ids / items / get / set against a plain SCAN loop and against the
//! official `@motiadev/adapter-redis-state` run through Node, on private redis-servers.
//!
//! `cargo bench --bench adapter` (1,000,000 keys in 10,000 traces; a few minutes on 2 cores).
//! Knobs: BENCH_KEYS (keys of the big database, default 1000000, 100 keys per trace),
//! BENCH_CALLS (sequential calls for latency, default 2000), BENCH_REPS (repetitions of the
//! fast measurements, default 5; the official adapter's slow walks run once).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/interop/node.rs"]
mod node;

use std::time::{Duration, Instant};

use common::RedisServer;
use motia_state::adapter::stats::KeySource;
use motia_state::{ItemsQuery, RedisStateAdapter};
use node::Official;
use serde_json::{Value, json};

const PREFIX: &str = "motia:state:";
const KEYS_PER_TRACE: usize = 100;
const STATUSES: [&str; 3] = ["paid", "pending", "shipped"];

fn env_usize(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("{name}={v:?} is not a number; using {default}");
            default
        }),
        Err(_) => default,
    }
}

/// Writes `traces * per_trace` keys with MSET, several commands per round trip.
async fn seed(
    server: &RedisServer,
    traces: usize,
    per_trace: usize,
    value: impl Fn(usize) -> String,
) {
    let client = redis::Client::open(server.url()).unwrap();
    // Seeding a million keys can take longer than the default response timeout on a busy machine.
    let no_timeout = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    let mut con = client
        .get_multiplexed_async_connection_with_config(&no_timeout)
        .await
        .unwrap();
    let mut pipe = redis::pipe();
    let mut in_pipe = 0;
    let mut mset = redis::cmd("MSET");
    let mut in_mset = 0;
    for t in 0..traces {
        for k in 0..per_trace {
            let n = t * per_trace + k;
            mset.arg(format!("{PREFIX}trace-{t:06}:step:{k}"))
                .arg(value(n));
            in_mset += 1;
            if in_mset == 1000 {
                pipe.add_command(std::mem::replace(&mut mset, redis::cmd("MSET")))
                    .ignore();
                in_mset = 0;
                in_pipe += 1;
                if in_pipe == 20 {
                    pipe.query_async::<()>(&mut con).await.unwrap();
                    pipe = redis::pipe();
                    in_pipe = 0;
                }
            }
        }
    }
    if in_mset > 0 {
        pipe.add_command(mset).ignore();
        in_pipe += 1;
    }
    if in_pipe > 0 {
        pipe.query_async::<()>(&mut con).await.unwrap();
    }
    let size: u64 = redis::cmd("DBSIZE").query_async(&mut con).await.unwrap();
    assert_eq!(size as usize, traces * per_trace, "seeded key count");
}

/// The baseline: what anyone would write to walk the prefix.
async fn plain_scan(con: &mut redis::aio::MultiplexedConnection) -> usize {
    let mut cursor = 0u64;
    let mut keys: Vec<String> = Vec::new();
    loop {
        let (next, page): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{PREFIX}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(con)
            .await
            .unwrap();
        keys.extend(page);
        cursor = next;
        if cursor == 0 {
            return keys.len();
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn mean_p99(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    let idx = ((samples.len() as f64 * 0.99).ceil() as usize).clamp(1, samples.len()) - 1;
    (mean, samples[idx])
}

fn verdict(ok: bool) -> &'static str {
    if ok { "MET" } else { "MISSED" }
}

fn floats(v: &Value, field: &str) -> Vec<f64> {
    v[field]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// The official adapter, or why it is not measured.
fn official() -> Result<Official, String> {
    if !std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Err("skipped: node not found".into());
    }
    Official::get().map_err(|e| format!("skipped: {e}"))
}

#[tokio::main]
async fn main() {
    let keys = env_usize("BENCH_KEYS", 1_000_000).max(KEYS_PER_TRACE);
    let calls = env_usize("BENCH_CALLS", 2000).max(10);
    let reps = env_usize("BENCH_REPS", 5).max(1);
    let traces = keys / KEYS_PER_TRACE;
    let keys = traces * KEYS_PER_TRACE;
    let official = official();

    let big = RedisServer::start();
    let state = RedisStateAdapter::connect(big.config()).await.unwrap();
    let version = state.server_version().await.unwrap_or_default();
    println!(
        "motia-state adapter bench: redis {version}, {} cpus, node {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        node_version()
    );
    let t0 = Instant::now();
    seed(&big, traces, KEYS_PER_TRACE, |n| {
        format!(r#"{{"n":{n},"ok":true}}"#)
    })
    .await;
    println!(
        "seeded {keys} keys in {traces} traces in {:.1} s\n",
        t0.elapsed().as_secs_f64()
    );

    // --- trace ids over the big database ---
    let client = redis::Client::open(big.url()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let (mut ours, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let t = Instant::now();
        let ids = state.trace_ids().await.unwrap();
        ours.push(ms(t.elapsed()));
        assert_eq!(ids.len(), traces);
        let t = Instant::now();
        let n = plain_scan(&mut con).await;
        plain.push(ms(t.elapsed()));
        assert!(n >= keys);
    }
    let ours_ids = median(&mut ours);
    // The server's own time for one walk is the floor for every client; COUNT sets how many
    // round trips (and per-call overheads) the walk costs.
    let mut server_ms = Vec::new();
    for count in [100, 1000, 10_000] {
        let _: () = redis::cmd("CONFIG")
            .arg("RESETSTAT")
            .query_async(&mut con)
            .await
            .unwrap();
        let mut cursor = 0u64;
        let mut calls = 0;
        loop {
            let (next, _page): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(format!("{PREFIX}*"))
                .arg("COUNT")
                .arg(count)
                .query_async(&mut con)
                .await
                .unwrap();
            calls += 1;
            cursor = next;
            if cursor == 0 {
                break;
            }
        }
        let info: String = redis::cmd("INFO")
            .arg("commandstats")
            .query_async(&mut con)
            .await
            .unwrap();
        let usec = info
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_scan:"))
            .and_then(|l| l.split(',').find_map(|f| f.strip_prefix("usec=")))
            .and_then(|u| u.parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        server_ms.push((count, calls, usec / 1e3));
    }
    let mut wide_config = big.config();
    wide_config.scan_count = 10_000;
    let wide = RedisStateAdapter::connect(wide_config).await.unwrap();
    let mut ours_wide = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        assert_eq!(wide.trace_ids().await.unwrap().len(), traces);
        ours_wide.push(ms(t.elapsed()));
    }
    let ours_wide = median(&mut ours_wide);
    // Memory and TTL figures: every key read once (MEMORY USAGE, PTTL, OBJECT IDLETIME).
    let mut stats_ms = Vec::new();
    for _ in 0..reps.min(3) {
        let t = Instant::now();
        let stats = state.stats(KeySource::Scan, |_, _, _| {}).await.unwrap();
        stats_ms.push(ms(t.elapsed()));
        assert_eq!(stats.keys as usize, keys);
    }
    let stats_ms = median(&mut stats_ms);
    let plain_ids = median(&mut plain);
    let official_ids = official.as_ref().ok().map(|o| {
        let r = o.one(&big.url(), json!({"op": "timeTraceIds", "reps": 1}));
        assert_eq!(r["count"].as_u64(), Some(traces as u64));
        median(&mut floats(&r, "ms"))
    });
    drop(state);
    drop(big);

    // --- items over a 10,000-key database ---
    let small = RedisServer::start();
    seed(&small, 100, 100, |n| {
        json!({
            "orderId": format!("ord-{n}"),
            "status": STATUSES[n % 3],
            "amount": n as f64 * 1.25,
            "customer": {"id": n % 97, "email": format!("user{}@example.com", n % 97)},
            "lines": [{"sku": "A-1", "qty": 1}, {"sku": "B-2", "qty": n % 5}],
        })
        .to_string()
    })
    .await;
    let state = RedisStateAdapter::connect(small.config()).await.unwrap();
    let mut ours_items = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let items = state.items(&ItemsQuery::all()).await.unwrap();
        ours_items.push(ms(t.elapsed()));
        assert_eq!(items.len(), 10_000);
    }
    let ours_items = median(&mut ours_items);
    // The whole CLI process, start to exit, its output read through a pipe.
    let mut cli_items = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_motia-state"))
            .args(["--url", &small.url(), "items"])
            .env_remove("REDIS_URL")
            .stderr(std::process::Stdio::null())
            .output()
            .unwrap();
        cli_items.push(ms(t.elapsed()));
        assert!(out.status.success());
        assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), 10_000);
    }
    let cli_items = median(&mut cli_items);
    let official_items = official.as_ref().ok().map(|o| {
        let r = o.one(&small.url(), json!({"op": "timeItems", "reps": 1}));
        assert_eq!(r["count"].as_u64(), Some(10_000));
        median(&mut floats(&r, "ms"))
    });

    // --- single get / set latency (sequential, after a warm-up) ---
    let warm = calls / 10;
    let multi = latency(&state, warm, calls).await;
    // Node runs one event loop on one thread; the same shape in Rust is a current-thread runtime.
    let config = small.config();
    let single = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let state = RedisStateAdapter::connect(config).await.unwrap();
            latency(&state, warm, calls).await
        })
    })
    .join()
    .unwrap();
    let official_lat = official.as_ref().ok().map(|o| {
        let res = o.run(
            &small.url(),
            json!({}),
            &[
                json!({"op": "latency", "what": "set", "g": "lat", "k": "k", "n": warm + calls}),
                json!({"op": "latency", "what": "get", "g": "lat", "k": "k", "n": warm + calls}),
            ],
        );
        let mut set = floats(&res[0], "us").split_off(warm);
        let mut get = floats(&res[1], "us").split_off(warm);
        (mean_p99(&mut get), mean_p99(&mut set))
    });

    // --- the table ---
    let skipped = official.as_ref().err().cloned().unwrap_or_default();
    let show = |v: Option<f64>, unit: &str| match v {
        Some(v) => format!("{v:>10.1} {unit}"),
        None => format!("{skipped:>10}"),
    };
    println!("trace_ids over {keys} keys / {traces} traces (median of {reps}; official: 1 run)");
    println!(
        "  {:<44}{}",
        "ours  trace_ids()",
        show(Some(ours_ids), "ms")
    );
    println!(
        "  {:<44}{}",
        "plain SCAN MATCH motia:state:* COUNT 1000",
        show(Some(plain_ids), "ms")
    );
    println!(
        "  {:<44}{}",
        "official traceIds() (node)",
        show(official_ids, "ms")
    );
    println!(
        "  {:<44}{}",
        "ours  trace_ids() with scan_count 10000",
        show(Some(ours_wide), "ms")
    );
    for (count, calls, ms) in &server_ms {
        println!(
            "  redis-server time for one walk, COUNT {count:<6} {ms:>8.1} ms in {calls} calls"
        );
    }
    let r = ours_ids / plain_ids;
    println!(
        "  ours / plain SCAN     = {r:.2}x  (target <= 1.2x)  {}",
        verdict(r <= 1.2)
    );
    println!(
        "  {:<44}{}",
        "ours  stats() (MEMORY USAGE+PTTL+IDLETIME)",
        show(Some(stats_ms), "ms")
    );
    let r = stats_ms / plain_ids;
    println!(
        "  stats / plain SCAN    = {r:.2}x  (target <= 3x)    {}",
        verdict(r <= 3.0)
    );
    if let Some(off) = official_ids {
        let r = off / ours_ids;
        println!(
            "  official / ours       = {r:.1}x  (target >= 2x)    {}",
            verdict(r >= 2.0)
        );
        let r = off / ours_wide;
        println!(
            "  official / ours(10000)= {r:.1}x  (target >= 2x)    {}",
            verdict(r >= 2.0)
        );
    }
    println!();
    println!("items() over 10000 keys / 100 traces (median of {reps}; official: 1 run)");
    println!(
        "  {:<44}{}",
        "ours  items(ItemsQuery::all())",
        show(Some(ours_items), "ms")
    );
    println!(
        "  {:<44}{}",
        "official items({}) (node)",
        show(official_items, "ms")
    );
    println!(
        "  {:<44}{}",
        "motia-state items > pipe (whole process)",
        show(Some(cli_items), "ms")
    );
    if let Some(off) = official_items {
        let r = off / ours_items;
        println!(
            "  official / ours       = {r:.0}x  (target >= 50x)   {}",
            verdict(r >= 50.0)
        );
        let r = off / cli_items;
        println!(
            "  official / CLI process= {r:.0}x  (target >= 30x)   {}",
            verdict(r >= 30.0)
        );
    }
    println!();
    println!("single-key latency, {calls} sequential calls after {warm} warm-up (µs)");
    println!("  {:<40}{:>10}{:>10}", "", "mean", "p99");
    let row = |name: &str, (mean, p99): (f64, f64)| println!("  {name:<40}{mean:>10.1}{p99:>10.1}");
    row("ours get (current-thread runtime)", single.0);
    row("ours set (current-thread runtime)", single.1);
    row("ours get (multi-thread runtime)", multi.0);
    row("ours set (multi-thread runtime)", multi.1);
    match official_lat {
        Some((get, set)) => {
            row("official get (node)", get);
            row("official set (node)", set);
            let ok = single.0.0 <= get.0 && single.1.0 <= set.0;
            println!(
                "  mean vs official, current-thread: get {:.2}x, set {:.2}x; multi-thread: get {:.2}x, set {:.2}x (target <= 1x)  {}",
                single.0.0 / get.0,
                single.1.0 / set.0,
                multi.0.0 / get.0,
                multi.1.0 / set.0,
                verdict(ok)
            );
        }
        None => println!("  official: {skipped}"),
    }
}

/// (get, set) latency as (mean, p99) in microseconds.
async fn latency(state: &RedisStateAdapter, warm: usize, calls: usize) -> ((f64, f64), (f64, f64)) {
    let value = json!({"status": "paid", "amount": 42, "lines": [1, 2, 3]});
    let mut get_us = Vec::new();
    let mut set_us = Vec::new();
    for i in 0..warm + calls {
        let t = Instant::now();
        state.set("lat", "k", &value).await.unwrap();
        let set = t.elapsed();
        let t = Instant::now();
        let got: Option<Value> = state.get("lat", "k").await.unwrap();
        let get = t.elapsed();
        assert!(got.is_some());
        if i >= warm {
            set_us.push(micros(set));
            get_us.push(micros(get));
        }
    }
    (mean_p99(&mut get_us), mean_p99(&mut set_us))
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn node_version() -> String {
    std::process::Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "not found".into())
}
