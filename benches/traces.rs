//! Trace records benchmark: `motia-state traces --json --all` over many flows against the plain
//! reads it cannot avoid (an HSCAN of the group hash plus a SCAN of the state; target <= 5x: it
//! reads each step record's header, never its events), and the time to open a timeline of 50
//! steps with 5,000 events (the worker's read and the timeline built from it).
//!
//! `cargo bench --bench traces`. Knobs: BENCH_FLOWS (flows, default 10000, 10 state keys and 5
//! step records each), BENCH_REPS (repetitions, default 5; medians are shown).

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::RedisServer;
use motia_state::RedisStateAdapter;
use motia_state::adapter::traces::{Timeline, TraceLimits};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Raw Redis protocol into `redis-cli --pipe`.
struct Pipe {
    child: std::process::Child,
    out: std::io::BufWriter<std::process::ChildStdin>,
}

impl Pipe {
    fn new(server: &RedisServer) -> Self {
        let mut child = Command::new("redis-cli")
            .args(["-p", &server.port.to_string(), "--pipe"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-cli");
        let out = std::io::BufWriter::with_capacity(1 << 20, child.stdin.take().unwrap());
        Self { child, out }
    }

    fn cmd(&mut self, args: &[&str]) {
        write!(self.out, "*{}\r\n", args.len()).unwrap();
        for a in args {
            write!(self.out, "${}\r\n{a}\r\n", a.len()).unwrap();
        }
    }

    fn finish(self) {
        let Pipe { mut child, out } = self;
        drop(out);
        assert!(child.wait().unwrap().success());
    }
}

fn step_doc(trace: &str, id: &str, name: &str, start: i64, events: usize, status: &str) -> String {
    let evs: Vec<String> = (0..events)
        .map(|e| {
            let at = start + e as i64;
            if e % 3 == 0 {
                format!(
                    r#"{{"type":"state","timestamp":{at},"operation":"set","data":{{"traceId":"{trace}","key":"k{e}","value":{{"n":{e},"status":"ok"}}}}}}"#
                )
            } else {
                format!(
                    r#"{{"type":"log","timestamp":{at},"level":"info","message":"event {e}","metadata":{{}}}}"#
                )
            }
        })
        .collect();
    format!(
        r#"{{"id":"{id}","name":"{name}","parentTraceId":"{trace}","status":"{status}","startTime":{start},"entryPoint":{{"type":"event","stepName":"{name}"}},"events":[{}],"endTime":{}}}"#,
        evs.join(","),
        start + events as i64 + 10
    )
}

/// `flows` flows with 10 state keys and 5 step records (4 events each) per flow.
fn seed(server: &RedisServer, flows: usize) {
    let mut p = Pipe::new(server);
    let t0: i64 = 1_765_432_104_821;
    for f in 0..flows {
        let trace = format!("F{f:04}-{:07}", f % 10_000_000);
        let start = t0 + f as i64 * 100;
        let group = format!(r#"{{"id":"{trace}","name":"CreateOrder","startTime":{start}}}"#);
        p.cmd(&["HSET", "motia:trace:default", &trace, &group]);
        for s in 0..5 {
            let id = format!("{f:08x}-{s:04x}-4000-8000-000000000000");
            let status = if f % 7 == 0 && s == 4 {
                "failed"
            } else {
                "completed"
            };
            let doc = step_doc(&trace, &id, &format!("Step{s}"), start + s * 50, 4, status);
            p.cmd(&["HSET", &format!("motia:trace:{trace}"), &id, &doc]);
        }
        for k in 0..10 {
            p.cmd(&[
                "SET",
                &format!("motia:state:{trace}:key-{k}"),
                r#"{"status":"ok"}"#,
            ]);
        }
    }
    p.finish();
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The floor: HSCAN of the group hash plus a SCAN of the state, keeping nothing.
async fn plain_reads(url: &str) -> Duration {
    let client = redis::Client::open(url).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let start = Instant::now();
    let mut cursor = 0u64;
    loop {
        let (next, _page): (u64, Vec<Vec<u8>>) = redis::cmd("HSCAN")
            .arg("motia:trace:default")
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut con)
            .await
            .unwrap();
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    loop {
        let (next, _page): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("motia:state:*")
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut con)
            .await
            .unwrap();
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    start.elapsed()
}

fn traces_json(url: &str) -> (Duration, usize) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_motia-state"))
        .args(["--url", url, "traces", "--json", "--all"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        start.elapsed(),
        out.stdout
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count(),
    )
}

fn row(name: &str, value: String, target: &str) {
    println!("{name:<56} {value:>12} {target:>14}");
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let flows = env_usize("BENCH_FLOWS", 10_000);
    let reps = env_usize("BENCH_REPS", 5).max(1);
    let server = RedisServer::start();
    eprintln!("seeding {flows} flows on port {} ...", server.port);
    seed(&server, flows);
    // The big flow of the timeline: 50 steps of 100 events each.
    let mut p = Pipe::new(&server);
    let big = "BIGFL-0000001";
    for s in 0..50 {
        let id = format!("{s:08x}-0000-4000-8000-000000000000");
        let doc = step_doc(
            big,
            &id,
            &format!("Step{}", s % 10),
            1_765_432_104_821 + s * 200,
            100,
            "completed",
        );
        p.cmd(&["HSET", &format!("motia:trace:{big}"), &id, &doc]);
    }
    p.finish();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let url = server.url();
    let plain = median((0..reps).map(|_| rt.block_on(plain_reads(&url))).collect());
    let mut lines = 0;
    let json = median(
        (0..reps)
            .map(|_| {
                let (d, n) = traces_json(&url);
                lines = n;
                d
            })
            .collect(),
    );
    let state = rt
        .block_on(RedisStateAdapter::connect(server.config()))
        .unwrap();
    let open = median(
        (0..reps.max(20))
            .map(|_| {
                let start = Instant::now();
                let records = rt
                    .block_on(state.read_trace(big, TraceLimits::default()))
                    .unwrap();
                let tl = Timeline::new(&records, &[]);
                assert_eq!(
                    records.steps.iter().map(|s| s.events.len()).sum::<usize>(),
                    5_000
                );
                assert_eq!(tl.rows.len(), 50);
                start.elapsed()
            })
            .collect(),
    );

    println!();
    println!("trace records benchmark: {flows} flows, 10 state keys and 5 step records each");
    // The figures depend on what else runs: the load is printed with them.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    println!(
        "{} cpus, load average {} (1, 5, 15 min)",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load.join(" ")
    );
    println!("{:<56} {:>12} {:>14}", "measure", "value", "target");
    println!("{}", "-".repeat(84));
    row(
        &format!("traces --json --all, whole process ({lines} lines)"),
        ms(json),
        "",
    );
    row(
        "plain HSCAN of the group hash + SCAN of the state",
        ms(plain),
        "",
    );
    // Issue 19: a listing reads each record's header only, so it costs at most 5 plain walks.
    let ratio = json.as_secs_f64() / plain.as_secs_f64();
    row(
        "  ratio",
        format!("{ratio:.2}x"),
        &format!("<= 5x {}", if ratio <= 5.0 { "MET" } else { "NOT MET" }),
    );
    row(
        "open a timeline: 50 steps, 5,000 events (read + build)",
        ms(open),
        "< 100 ms",
    );
}
