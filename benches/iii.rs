//! The iii layout's index walk: 1,000,000 fields in 10,000 scopes (`state:{scope}` hashes) on a
//! private redis-server, listed the way the browser's index job lists them
//! (`IiiState::scan_scopes` + `scan_fields`, names built for the model) against a plain
//! redis-rs `SCAN MATCH state:* TYPE hash` + `HSCAN` loop. Prints figures; the target is
//! the index walk at most 1.3x the plain loop.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::RedisServer;

const SCOPES: usize = 10_000;
const FIELDS: usize = 100;
const RUNS: usize = 3;

async fn plain(url: &str) -> (u64, Duration) {
    let client = redis::Client::open(url).expect("client");
    let mut c = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let start = Instant::now();
    let mut fields = 0u64;
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("state:*")
            .arg("COUNT")
            .arg(1000)
            .arg("TYPE")
            .arg("hash")
            .query_async(&mut c)
            .await
            .expect("SCAN");
        for k in keys {
            let mut hc = 0u64;
            loop {
                let (n, flat): (u64, Vec<Vec<u8>>) = redis::cmd("HSCAN")
                    .arg(&k)
                    .arg(hc)
                    .arg("COUNT")
                    .arg(1000)
                    .query_async(&mut c)
                    .await
                    .expect("HSCAN");
                fields += flat.len() as u64 / 2;
                hc = n;
                if hc == 0 {
                    break;
                }
            }
        }
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    (fields, start.elapsed())
}

async fn index(state: &motia_state::RedisStateAdapter) -> (u64, Duration) {
    let iii = state.iii();
    let start = Instant::now();
    let mut names: Vec<String> = Vec::with_capacity(SCOPES * FIELDS);
    let mut scopes = iii.scan_scopes();
    while let Some(page) = scopes.next_page().await.expect("scan") {
        for key in page {
            let Some(scope) = motia_state::adapter::layout::iii::scope_of(&key) else {
                continue;
            };
            let mut f = iii.scan_fields(scope).expect("scope");
            while let Some(p) = f.next_page().await.expect("hscan") {
                names.extend(p.iter().map(|(field, _)| {
                    motia_state::escape::name_owned([b"state:", scope, b":", field].concat())
                }));
            }
        }
    }
    (names.len() as u64, start.elapsed())
}

#[tokio::main]
async fn main() {
    let server = RedisServer::start_redis(&[]);
    eprintln!("loading {} fields in {SCOPES} scopes...", SCOPES * FIELDS);
    let mut script = String::with_capacity(SCOPES * FIELDS * 40);
    for s in 0..SCOPES {
        for f in 0..FIELDS {
            script.push_str(&format!(
                "HSET state:scope-{s:05} field-{f:03} {{\"id\":{f},\"status\":\"paid\"}}\n"
            ));
        }
    }
    server.load(&script);
    let state = motia_state::RedisStateAdapter::connect(server.config())
        .await
        .expect("connect");
    println!(
        "iii layout index walk, {} fields in {SCOPES} scopes",
        SCOPES * FIELDS
    );
    let mut best = (Duration::MAX, Duration::MAX);
    for run in 1..=RUNS {
        let (n1, t1) = plain(&server.url()).await;
        let (n2, t2) = index(&state).await;
        assert_eq!(n1, (SCOPES * FIELDS) as u64);
        assert_eq!(n2, n1);
        println!(
            "  run {run}: plain SCAN+HSCAN loop {:>8.0} ms   index walk {:>8.0} ms   ratio {:.2}",
            t1.as_secs_f64() * 1e3,
            t2.as_secs_f64() * 1e3,
            t2.as_secs_f64() / t1.as_secs_f64()
        );
        best = (best.0.min(t1), best.1.min(t2));
    }
    println!(
        "  best: plain {:.0} ms, index {:.0} ms, ratio {:.2} (target <= 1.30)",
        best.0.as_secs_f64() * 1e3,
        best.1.as_secs_f64() * 1e3,
        best.1.as_secs_f64() / best.0.as_secs_f64()
    );
}
