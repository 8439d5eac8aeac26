//! Cluster benchmark: the browser's trace index over BENCH_KEYS keys (default 1,000,000) on a
//! real 3-primary Redis Cluster, against three plain `SCAN COUNT 1000` loops run at the same
//! time, one per primary (the fastest a client can see every key), in the same run; each is
//! measured twice and the better runs are compared.
//! Run with `cargo bench --bench cluster` (BENCH_KEYS=100000 for a quick run).

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

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use browser::keymap::Keymap;
use browser::model::SystemClock;
use browser::{BrowserOptions, app, initial_model, spawn_worker};
use common::cluster::RedisCluster;

const PREFIX: &str = "motia:state:";

fn main() {
    let n: usize = std::env::var("BENCH_KEYS")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let traces = (n / 100).max(1);
    let cluster = RedisCluster::start();
    eprintln!("seeding {n} keys in {traces} traces on a 3-primary cluster ...");
    let t = Instant::now();
    let per = n.div_ceil(traces);
    let mut script = String::with_capacity(n * 64);
    for i in 0..n {
        let trace = i / per;
        let j = i % per;
        script.push_str(&format!(
            "SET {PREFIX}trace-{trace:06}:step:{}:item-{j} {{\"i\":{i}}}\n",
            j % 7
        ));
    }
    cluster.load(&script);
    drop(script);
    let dbsize: usize = cluster.cli(&["DBSIZE"]).parse().unwrap_or(0);
    assert_eq!(dbsize, n, "seeding failed");
    eprintln!("seeded in {:.1}s", t.elapsed().as_secs_f64());

    let rt = tokio::runtime::Runtime::new().unwrap();
    let ports = cluster.ports();
    let cpu = Cpu::now(&ports);
    let plain1 = rt.block_on(plain_scans(&ports, n));
    let cpu_plain = cpu.since(&ports);
    let cpu = Cpu::now(&ports);
    let adapter_scan = rt.block_on(adapter_scan(&cluster, n));
    let cpu_walk = cpu.since(&ports);
    // The browser's index twice, as the plain loops, each with a fresh model: the better run
    // against the better run.
    let first = browser_run(&rt, &cluster);
    let second = browser_run(&rt, &cluster);
    let BrowserRun {
        index,
        keys,
        trace_count,
        ui_cpu,
        cpu_index,
    } = if second.index < first.index {
        second
    } else {
        first
    };
    let plain2 = rt.block_on(plain_scans(&ports, n));
    let plain = plain1.min(plain2);
    let ratio = index.as_secs_f64() / plain.as_secs_f64();
    println!();
    println!(
        "cluster benchmark: {n} keys in {traces} traces on 3 primaries (BENCH_KEYS to change)"
    );
    println!("{:<52} {:>10} {:>10}", "measure", "value", "target");
    println!("{}", "-".repeat(74));
    row("trace index complete (browser, best of 2)", secs(index), "");
    row(
        "  of which the library's walk of every primary",
        secs(adapter_scan),
        "",
    );
    row(
        "  CPU time of the UI thread (update, index, frames)",
        secs(ui_cpu),
        "",
    );
    row(
        "3 plain SCAN COUNT 1000 loops at once (best of 2)",
        secs(plain),
        "",
    );
    row("  ratio", format!("{ratio:.2}x"), "<= 1.2x");
    println!();
    println!("CPU time used (2 cores here: the servers and this process share them)");
    println!("{:<52} {:>10} {:>10}", "phase", "client", "servers");
    for (name, (client, servers)) in [
        ("3 plain SCAN loops", cpu_plain),
        ("the library's walk", cpu_walk),
        ("browser: scan + index", cpu_index),
    ] {
        println!("{name:<52} {:>10} {:>10}", secs(client), secs(servers));
    }
    println!();
    row(
        "traces / keys indexed",
        format!("{trace_count} / {keys}"),
        "",
    );
}

fn row(name: &str, value: String, target: &str) {
    println!("{name:<52} {value:>10} {target:>10}");
}

/// CPU time used so far by this process and by the cluster's servers.
struct Cpu {
    client: Duration,
    servers: Duration,
}

impl Cpu {
    fn now(ports: &[u16]) -> Self {
        // SAFETY: getrusage writes one struct we own.
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
        let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        let servers: f64 = ports
            .iter()
            .map(|p| {
                let out = std::process::Command::new("redis-cli")
                    .args(["-p", &p.to_string(), "INFO", "cpu"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .filter_map(|l| {
                        l.strip_prefix("used_cpu_user:")
                            .or_else(|| l.strip_prefix("used_cpu_sys:"))
                    })
                    .filter_map(|v| v.trim().parse::<f64>().ok())
                    .sum::<f64>()
            })
            .sum();
        Self {
            client: tv(ru.ru_utime) + tv(ru.ru_stime),
            servers: Duration::from_secs_f64(servers),
        }
    }

    /// (client, servers) used since `self`.
    fn since(&self, ports: &[u16]) -> (Duration, Duration) {
        let now = Self::now(ports);
        (
            now.client.saturating_sub(self.client),
            now.servers.saturating_sub(self.servers),
        )
    }
}

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// One bare SCAN loop per primary, all at once; done when the slowest is.
async fn plain_scans(ports: &[u16], n: usize) -> Duration {
    let t = Instant::now();
    let loops = ports.iter().map(|&port| async move {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
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
                return total;
            }
        }
    });
    let total: usize = futures::future::join_all(loops).await.into_iter().sum();
    let d = t.elapsed();
    assert!(total >= n, "the plain loops saw {total} of {n} keys");
    d
}

/// The library's de-duplicated walk of every primary alone, as the browser's worker runs it.
async fn adapter_scan(cluster: &RedisCluster, n: usize) -> Duration {
    let mut config = motia_state::Config::from_url(&cluster.url()).unwrap();
    config.connect_timeout = Duration::from_secs(5);
    let state = motia_state::RedisStateAdapter::connect(config)
        .await
        .unwrap();
    let t = Instant::now();
    let mut scanner = state.scan_all().allow_duplicates();
    let mut total = 0usize;
    while let Some(page) = scanner.next_page().await.unwrap() {
        total += page.len();
    }
    let d = t.elapsed();
    assert!(total >= n, "the library's walk saw {total} of {n} keys");
    d
}

struct BrowserRun {
    index: Duration,
    keys: usize,
    trace_count: usize,
    /// CPU time of the thread running the event loop.
    ui_cpu: Duration,
    /// (client, servers) CPU time.
    cpu_index: (Duration, Duration),
}

fn browser_run(rt: &tokio::runtime::Runtime, cluster: &RedisCluster) -> BrowserRun {
    let ports = cluster.ports();
    let cpu = Cpu::now(&ports);
    let ui_cpu_before = thread_cpu();
    let (index, keys, trace_count, ui_cpu_done, cpu_done) = rt.block_on(browser_index(cluster));
    // The event loop runs on this thread (`block_on`): its CPU time until the index was
    // complete is the UI's share.
    BrowserRun {
        index,
        keys,
        trace_count,
        ui_cpu: ui_cpu_done.saturating_sub(ui_cpu_before),
        cpu_index: (
            cpu_done.client.saturating_sub(cpu.client),
            cpu_done.servers.saturating_sub(cpu.servers),
        ),
    }
}

/// The browser (model, update, worker, event loop, TestBackend) on a plain URL to one node:
/// cluster mode is detected, every primary walked; the time the model reports for the scan,
/// and the CPU used when it was complete (this thread's, and all of it).
async fn browser_index(cluster: &RedisCluster) -> (Duration, usize, usize, Duration, Cpu) {
    let ports = cluster.ports();
    let mut config = motia_state::Config::from_url(&cluster.url()).unwrap();
    config.connect_timeout = Duration::from_secs(5);
    let opts = BrowserOptions::default();
    let mut model = initial_model(&config, &opts, Keymap::default(), Arc::new(SystemClock));
    let mut terminal = Terminal::new(TestBackend::new(160, 45)).unwrap();
    let (tx, mut input) = tokio::sync::mpsc::unbounded_channel();
    let (mut link, worker) = spawn_worker(config);
    let result = Arc::new(Mutex::new(None));
    let after_draw = {
        let result = result.clone();
        move |m: &browser::model::Model, _at: Instant| {
            let mut r = result.lock().unwrap();
            if r.is_none() && m.scan.completed_once {
                *r = Some((
                    m.scan.took.unwrap_or_default(),
                    m.index.total_keys,
                    m.index.traces.len(),
                    thread_cpu(),
                    Cpu::now(&ports),
                ));
                let _ = tx.send(Ok(Event::Key(KeyEvent::new_with_kind(
                    KeyCode::Char('q'),
                    KeyModifiers::NONE,
                    KeyEventKind::Press,
                ))));
            }
        }
    };
    app::event_loop(&mut terminal, &mut model, &mut input, &mut link, after_draw)
        .await
        .unwrap();
    let _ = link.cmds.send(browser::action::WorkerCmd::Shutdown);
    worker.abort();
    let r = result.lock().unwrap().take();
    r.expect("the scan completed")
}
