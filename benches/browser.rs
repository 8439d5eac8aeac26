//! Browser benchmark: the real app (model, update, worker, event loop) drawing into a
//! TestBackend against its own redis-server.
//!
//! Measures on BENCH_KEYS keys (default 1,000,000; 10,000,000 for the big run) in BENCH_KEYS/100
//! traces, short names (`trace-000042:key67`, or BENCH_NAMES=tree for
//! `trace-000042:step:4:item-67`): time to first frame, time until the trace -> keys index is
//! complete against a plain `SCAN COUNT 1000` loop over the same data in the same run,
//! key-press-to-screen latency while the scan runs (through the same event loop), resident
//! memory with everything indexed (and per key), and the CLI's `traces` against the same loop.
//! Run with `cargo bench --bench browser` (BENCH_KEYS=100000 for a quick run).
//!
//! Then live mode (keyspace notifications) on a server of its own: an app writing new keys at
//! rising rates while keys are pressed, measuring key press -> screen, write -> row in the
//! index (as of the next frame), and how long the index takes to be exact once the writer
//! stops. The issue's figure, 5,000 writes/s, runs for a full minute; the higher rates run 5 s
//! each so the bench does not take forever. BENCH_LIVE_ONLY=1 runs only this part.

#[path = "../tests/common/mod.rs"]
mod common;

#[allow(dead_code, unused_imports)]
#[path = "../src/browser/mod.rs"]
mod browser;
#[allow(dead_code, unused_imports)]
#[path = "../src/diff.rs"]
mod diff;
#[allow(dead_code, unused_imports)]
#[path = "../src/journal/mod.rs"]
mod journal;
#[allow(dead_code, unused_imports)]
#[path = "../src/profiles.rs"]
mod profiles;

#[path = "browser/live.rs"]
mod live;

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use browser::keymap::Keymap;
use browser::model::SystemClock;
use browser::{BrowserOptions, app, initial_model, spawn_worker};
use common::RedisServer;
use live::live_bench;

const PREFIX: &str = "motia:state:";

fn main() {
    if std::env::var("BENCH_EDITOR_ONLY").is_ok_and(|v| v == "1") {
        editor_bench();
        return;
    }
    if std::env::var("BENCH_LIVE_ONLY").is_ok_and(|v| v == "1") {
        live_bench();
        return;
    }
    scan_bench();
    if std::env::var("BENCH_SCAN_ONLY").is_ok_and(|v| v == "1") {
        return;
    }
    live_bench();
}

fn scan_bench() {
    let n: usize = std::env::var("BENCH_KEYS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let traces = (n / 100).max(1);
    let server = RedisServer::start_with(&["--enable-debug-command", "local"]);
    eprintln!(
        "seeding {n} keys in {traces} traces on port {} ...",
        server.port
    );
    let t = Instant::now();
    seed(&server, n, traces);
    // Motia's trace records beside the state: one group per trace (BENCH_TRACE_GROUPS, 0 for
    // none), each with its hash of step records.
    let groups: usize = std::env::var("BENCH_TRACE_GROUPS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(traces);
    seed_trace_records(&server, groups);
    let dbsize: usize = server.cli(&["DBSIZE"]).trim().parse().unwrap_or(0);
    let record_keys = if groups > 0 { groups + 1 } else { 0 };
    assert_eq!(dbsize, n + record_keys, "seeding failed");
    eprintln!("seeded in {:.1}s", t.elapsed().as_secs_f64());
    server.wait_rehashed();
    let rss_before = rss_mb();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let plain1 = rt.block_on(plain_scan(&server.url()));
    let run = rt.block_on(browser_run(&server));
    let plain2 = rt.block_on(plain_scan(&server.url()));
    let adapter_scan = rt.block_on(adapter_scan(&server));
    let plain = plain1.min(plain2);
    let cli = cli_traces(&server.url(), traces);

    let mut lat = run.latencies.clone();
    lat.sort();
    let pct = |p: f64| -> Duration {
        if lat.is_empty() {
            return Duration::ZERO;
        }
        lat[((lat.len() - 1) as f64 * p).round() as usize]
    };
    let ratio = run.index.as_secs_f64() / plain.as_secs_f64();
    println!();
    println!(
        "browser benchmark: {n} keys in {traces} traces, {groups} trace groups (BENCH_KEYS, BENCH_TRACE_GROUPS to change)"
    );
    println!("{:<44} {:>14} {:>12}", "measure", "value", "target");
    println!("{}", "-".repeat(72));
    row(
        "first frame drawn (from start)",
        ms(run.first_frame),
        "< 50 ms",
    );
    row("index complete (browser scan + index)", secs(run.index), "");
    row(
        "  CPU time of the UI thread until then",
        secs(run.ui_cpu),
        "",
    );
    row(
        "  CPU time of this process until then",
        secs(run.process_cpu),
        "",
    );
    row("plain SCAN COUNT 1000 loop (best of 2)", secs(plain), "");
    let big = n >= 10_000_000;
    row(
        "  ratio",
        format!("{ratio:.2}x"),
        if big { "<= 1.0x" } else { "<= 1.1x" },
    );
    row("CLI `traces`, whole process", secs(cli), "");
    row(
        "  ratio to the plain loop",
        format!("{:.2}x", cli.as_secs_f64() / plain.as_secs_f64()),
        "<= 1.0x",
    );
    row(
        "adapter KeyScanner loop alone (no UI)",
        secs(adapter_scan),
        "",
    );
    row(
        &format!("key press -> screen while scanning (n={})", lat.len()),
        format!("p50 {}", ms(pct(0.5))),
        "",
    );
    row("", format!("p99 {}", ms(pct(0.99))), "p99 < 50 ms");
    row("", format!("max {}", ms(pct(1.0))), "");
    row(
        "resident memory, all indexed (VmRSS)",
        format!("{:.0} MB", run.rss_mb),
        if big { "< 400 MB" } else { "< 80 MB" },
    );
    row(
        "  of which before the browser started",
        format!("{rss_before:.0} MB"),
        "",
    );
    row(
        "  the index, per key",
        format!(
            "{:.0} B",
            (run.rss_mb - rss_before) * 1024.0 * 1024.0 / run.keys.max(1) as f64
        ),
        "",
    );
    row(
        "traces / keys indexed",
        format!("{} / {}", run.traces, run.keys),
        "",
    );
}

/// The inline editor on values up to its limit: key press -> frame drawn (update + draw into a
/// 120x40 TestBackend), typing at the end of the first line of pretty JSON.
fn editor_bench() {
    use browser::action::Action;
    use browser::model::editor::Editor;
    use browser::update::editor::INLINE_EDIT_LIMIT;
    println!("\ninline editor: key press -> screen (n=200 per size, 120x40)");
    println!("{:<44}{:>12}  target", "value", "p99 / max");
    let config = motia_state::Config::from_url("redis://127.0.0.1:6379").expect("url");
    for size in [64 * 1024, 256 * 1024, INLINE_EDIT_LIMIT as usize] {
        let mut text = String::from("{\n");
        let mut i = 0;
        while text.len() < size {
            text.push_str(&format!(
                "  \"field{i}\": \"value number {i} of the bench\",\n"
            ));
            i += 1;
        }
        text.push_str("  \"end\": true\n}");
        let mut m = initial_model(
            &config,
            &BrowserOptions::default(),
            Keymap::default(),
            Arc::new(SystemClock),
        );
        browser::update::update(&mut m, Action::Resize(120, 40));
        let opened = Instant::now();
        m.editor = Some(Editor::new(
            "motia:state:t:big".into(),
            "t:big".into(),
            &text,
            Some(text.clone().into_bytes()),
            false,
        ));
        let open_time = opened.elapsed();
        let mut term = Terminal::new(TestBackend::new(120, 40)).expect("backend");
        let mut times = Vec::new();
        for k in 0..200 {
            let c = if k % 10 == 9 { ' ' } else { 'x' };
            let key =
                KeyEvent::new_with_kind(KeyCode::Char(c), KeyModifiers::NONE, KeyEventKind::Press);
            let t = Instant::now();
            browser::update::update(&mut m, Action::Key(key));
            term.draw(|f| browser::ui::draw(f, &m)).expect("draw");
            times.push(t.elapsed());
        }
        times.sort();
        let p99 = pct(&times, 0.99);
        let max = times.last().copied().unwrap_or_default();
        row(
            &format!("{} KiB (opened in {})", size / 1024, ms(open_time)),
            format!("{} / {}", ms(p99), ms(max)),
            if max < Duration::from_millis(50) {
                "< 50 ms  MET"
            } else {
                "< 50 ms  NOT MET"
            },
        );
    }
}

fn row(name: &str, value: String, target: &str) {
    println!("{name:<44} {value:>14} {target:>12}");
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    cpu_clock(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// CPU time this process has used, every thread.
fn process_cpu() -> Duration {
    cpu_clock(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn cpu_clock(clock: libc::clockid_t) -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Pipelined SETs through `redis-cli --pipe` (raw protocol on stdin).
fn seed(server: &RedisServer, n: usize, traces: usize) {
    let mut child = Command::new("redis-cli")
        .args(["-p", &server.port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-cli");
    let mut stdin = std::io::BufWriter::with_capacity(1 << 20, child.stdin.take().unwrap());
    let per = n.div_ceil(traces);
    let tree = std::env::var("BENCH_NAMES").is_ok_and(|v| v == "tree");
    for i in 0..n {
        let trace = i / per;
        let j = i % per;
        let key = if tree {
            format!("{PREFIX}trace-{trace:06}:step:{}:item-{j}", j % 7)
        } else {
            format!("{PREFIX}trace-{trace:06}:key{j}")
        };
        let value = format!("{{\"i\":{i},\"status\":\"ok\"}}");
        write!(
            stdin,
            "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
            key.len(),
            value.len()
        )
        .unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// Motia's trace records for `groups` flows (trace-000000 ...): the group hash and one hash of
/// three step records per flow, in Motia's shapes.
fn seed_trace_records(server: &RedisServer, groups: usize) {
    if groups == 0 {
        return;
    }
    let mut child = Command::new("redis-cli")
        .args(["-p", &server.port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-cli");
    let mut stdin = std::io::BufWriter::with_capacity(1 << 20, child.stdin.take().unwrap());
    let mut cmd = |args: &[&str]| {
        write!(stdin, "*{}\r\n", args.len()).unwrap();
        for a in args {
            write!(stdin, "${}\r\n{a}\r\n", a.len()).unwrap();
        }
    };
    let t0: i64 = 1_765_432_104_821;
    for g in 0..groups {
        let id = format!("trace-{g:06}");
        let start = t0 + g as i64 * 1000;
        let group = format!(r#"{{"id":"{id}","name":"CreateOrder","startTime":{start}}}"#);
        cmd(&["HSET", "motia:trace:default", &id, &group]);
        for (s, (name, status)) in [
            ("CreateOrder", "completed"),
            ("ProcessPayment", "completed"),
            ("ShipOrder", "running"),
        ]
        .into_iter()
        .enumerate()
        {
            let at = start + s as i64 * 100;
            let end = if status == "running" {
                String::new()
            } else {
                format!(r#","endTime":{}"#, at + 40)
            };
            let doc = format!(
                r#"{{"id":"{g:08x}-{s:04x}-4000-8000-000000000000","name":"{name}","parentTraceId":"{id}","status":"{status}","startTime":{at},"entryPoint":{{"type":"event","stepName":"{name}"}},"events":[{{"type":"state","timestamp":{},"operation":"set","data":{{"traceId":"{id}","key":"order","value":{{"n":{g}}}}}}}]{end}}}"#,
                at + 5
            );
            let field = format!("{g:08x}-{s:04x}-4000-8000-000000000000");
            cmd(&["HSET", &format!("motia:trace:{id}"), &field, &doc]);
        }
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// The baseline: the fastest way to see every key, a bare SCAN loop that keeps nothing.
async fn plain_scan(url: &str) -> Duration {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let t = Instant::now();
    let mut cursor: u64 = 0;
    let mut total = 0usize;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{PREFIX}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut conn)
            .await
            .unwrap();
        total += keys.len();
        cursor = next;
        if cursor == 0 {
            break;
        }
    }
    let d = t.elapsed();
    assert!(total > 0);
    d
}

/// The CLI's `traces` (one line per trace id), the whole process from start to exit.
fn cli_traces(url: &str, traces: usize) -> Duration {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_motia-state"))
        .args(["--url", url, "traces"])
        .env_remove("REDIS_URL")
        .stderr(Stdio::null())
        .output()
        .unwrap();
    let d = t.elapsed();
    assert!(out.status.success());
    assert_eq!(out.stdout.iter().filter(|&&b| b == b'\n').count(), traces);
    d
}

/// The worker's scan without the UI: where the browser's overhead is not.
async fn adapter_scan(server: &RedisServer) -> Duration {
    let adapter = motia_state::RedisStateAdapter::connect(server.config())
        .await
        .unwrap();
    let t = Instant::now();
    let mut scan = adapter.scan_all().allow_duplicates();
    let mut n = 0;
    while let Some(page) = scan.next_page().await.unwrap() {
        n += page.len();
    }
    assert!(n > 0);
    t.elapsed()
}

struct Run {
    first_frame: Duration,
    index: Duration,
    /// CPU time of the UI thread (update, index, frames) and of the whole process until the
    /// index was complete.
    ui_cpu: Duration,
    process_cpu: Duration,
    latencies: Vec<Duration>,
    rss_mb: f64,
    traces: usize,
    keys: usize,
}

fn press(c: char) -> std::io::Result<Event> {
    Ok(Event::Key(KeyEvent::new_with_kind(
        KeyCode::Char(c),
        KeyModifiers::NONE,
        KeyEventKind::Press,
    )))
}

async fn browser_run(server: &RedisServer) -> Run {
    let start = Instant::now();
    let cpu_at_start = (thread_cpu(), process_cpu());
    let config = server.config();
    let opts = BrowserOptions::default();
    let mut model = initial_model(&config, &opts, Keymap::default(), Arc::new(SystemClock));
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).unwrap();
    let (tx, mut input) = tokio::sync::mpsc::unbounded_channel();
    let (mut link, worker) = spawn_worker(config);

    #[derive(Default)]
    struct Shared {
        first_frame: Option<Duration>,
        index: Option<Duration>,
        cpu: (Duration, Duration),
        sent: Vec<Instant>,
        latencies: Vec<Duration>,
        answered: u64,
        rss_mb: f64,
        traces: usize,
        keys: usize,
    }
    let shared = Arc::new(Mutex::new(Shared::default()));

    // Presses j/k every 20 ms while the scan runs, then quits once the index is complete.
    let driver = {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut i = 0u64;
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                let done = {
                    let mut s = shared.lock().unwrap();
                    if s.index.is_some() {
                        true
                    } else {
                        s.sent.push(Instant::now());
                        false
                    }
                };
                if done {
                    let _ = tx.send(press('q'));
                    return;
                }
                let _ = tx.send(press(if i.is_multiple_of(2) { 'j' } else { 'k' }));
                i += 1;
            }
        })
    };

    let after_draw = {
        let shared = shared.clone();
        move |m: &browser::model::Model, at: Instant| {
            let mut s = shared.lock().unwrap();
            if s.first_frame.is_none() {
                s.first_frame = Some(at - start);
            }
            while s.answered < m.keys_handled {
                let i = s.answered as usize;
                if let Some(sent) = s.sent.get(i).copied()
                    && s.index.is_none()
                {
                    s.latencies.push(at - sent);
                }
                s.answered += 1;
            }
            if s.index.is_none() && m.scan.completed_once {
                s.index = m.scan.took;
                s.cpu = (
                    thread_cpu() - cpu_at_start.0,
                    process_cpu() - cpu_at_start.1,
                );
                s.rss_mb = rss_mb();
                s.traces = m.index.traces.len();
                s.keys = m.index.total_keys;
            }
        }
    };
    app::event_loop(&mut terminal, &mut model, &mut input, &mut link, after_draw)
        .await
        .unwrap();
    let _ = link.cmds.send(browser::action::WorkerCmd::Shutdown);
    worker.abort();
    let _ = driver.await;
    let s = shared.lock().unwrap();
    Run {
        first_frame: s.first_frame.unwrap_or_default(),
        index: s.index.unwrap_or_default(),
        ui_cpu: s.cpu.0,
        process_cpu: s.cpu.1,
        latencies: s.latencies.clone(),
        rss_mb: s.rss_mb,
        traces: s.traces,
        keys: s.keys,
    }
}

fn pct(v: &[Duration], p: f64) -> Duration {
    let mut v = v.to_vec();
    v.sort();
    if v.is_empty() {
        return Duration::ZERO;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}
