//! History and diff of a large value: the real model, update, worker and drawing (into a
//! TestBackend) against a redis-server of its own.
//!
//! A key holds a 5 MB JSON value (BENCH_VALUE_MB), one step record sets an earlier version of
//! it. The bench opens `H`, then `=` (diff with the version before: all of it added), `=` again
//! (diff with the value now: a few changes), moves through each with `j`, `G`, `g`, `]`, `[`,
//! PageDown, and closes with Esc. It prints the resident memory (VmRSS) before, while open and
//! after Esc, the key press -> frame time (update + draw) p99 of every key, `=` included (the
//! worker builds the diff), and how long until the diff is shown. The issue's targets:
//! at most 10x the value's size over the start while open, back after Esc, p99 < 50 ms.
//!
//! `cargo bench --bench history`.

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

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use browser::action::{Action, Effect, WorkerCmd};
use browser::app::WorkerLink;
use browser::keymap::Keymap;
use browser::model::{Model, SystemClock};
use browser::{BrowserOptions, initial_model, spawn_worker};
use common::RedisServer;

const TRACE: &str = "trace-big";
const KEY: &str = "motia:state:trace-big:doc";

/// A JSON object of about `bytes` bytes: many small items, as an order export would be.
/// `changed` alters every 2,000th item.
fn value(bytes: usize, changed: bool) -> String {
    let mut out = String::from(r#"{"items":["#);
    let mut i = 0usize;
    while out.len() < bytes {
        if i > 0 {
            out.push(',');
        }
        let qty = if changed && i % 2_000 == 7 { 99 } else { i % 7 };
        out.push_str(&format!(
            r#"{{"id":{i},"sku":"SKU-{i:08}","qty":{qty},"price":{}.{:02},"status":"ok"}}"#,
            i % 500,
            i % 100
        ));
        i += 1;
    }
    out.push_str("]}");
    out
}

/// Bytes the allocator has handed out and not had back: what is still referenced, as against
/// what it keeps resident.
fn heap_in_use_mb() -> Option<f64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's counters.
        let i = unsafe { libc::mallinfo2() };
        Some((i.uordblks + i.hblkhd) as f64 / 1e6)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

fn rss_mb() -> f64 {
    status_mb("VmRSS:")
}

/// The resident peak since [`reset_peak`] (VmHWM), so a moment inside the worker counts too.
fn peak_mb() -> f64 {
    status_mb("VmHWM:")
}

/// Starts VmHWM again from the resident size now (Linux: `5` to clear_refs).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new_with_kind(
        code,
        KeyModifiers::NONE,
        KeyEventKind::Press,
    ))
}

/// Applies an action, sending its worker commands on; other effects are not needed here,
/// except the release of memory, done as the event loop does it.
fn apply(m: &mut Model, link: &WorkerLink, action: Action) {
    for fx in browser::update::update(m, action) {
        match fx {
            Effect::Worker(cmd) => {
                let _ = link.cmds.send(cmd);
            }
            Effect::ReleaseMemory => release(),
            _ => {}
        }
    }
}

fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Feeds worker events and ticks to the model until `done` holds (or 60 s pass).
async fn pump(m: &mut Model, link: &mut WorkerLink, done: impl Fn(&Model) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done(m) {
        assert!(Instant::now() < deadline, "the browser did not get there");
        match tokio::time::timeout(Duration::from_millis(50), link.events.recv()).await {
            Ok(Some(ev)) => apply(m, link, Action::Worker(ev)),
            Ok(None) => panic!("the worker stopped"),
            Err(_) => apply(m, link, Action::Tick),
        }
    }
}

/// Presses each key, timing update + draw.
fn presses(
    m: &mut Model,
    link: &WorkerLink,
    term: &mut Terminal<TestBackend>,
    keys: &[KeyCode],
) -> Vec<Duration> {
    keys.iter()
        .map(|&k| {
            let t = Instant::now();
            apply(m, link, key(k));
            term.draw(|f| browser::ui::draw(f, m)).expect("draw");
            t.elapsed()
        })
        .collect()
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v.get(((v.len() as f64 * p).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or_default()
}

#[tokio::main]
async fn main() {
    let mb: usize = std::env::var("BENCH_VALUE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    // As the browser starts.
    browser::app::tune_allocator();
    let server = RedisServer::start();
    let (old, now) = (value(mb << 20, false), value(mb << 20, true));
    let size_mb = now.len() as f64 / 1e6;
    {
        let client = redis::Client::open(server.url()).expect("url");
        let mut c = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        let t0: i64 = 1_765_432_104_821;
        let step = format!(
            r#"{{"id":"s1","name":"ExportOrders","parentTraceId":"{TRACE}","status":"completed","startTime":{t0},"endTime":{},"entryPoint":{{"type":"event","stepName":"ExportOrders"}},"events":[{{"type":"state","timestamp":{},"operation":"set","data":{{"traceId":"{TRACE}","key":"doc","value":{old}}}}}]}}"#,
            t0 + 900,
            t0 + 800
        );
        let group = format!(r#"{{"id":"{TRACE}","name":"ExportOrders","startTime":{t0}}}"#);
        let _: () = redis::pipe()
            .set(KEY, &now)
            .hset("motia:trace:default", TRACE, group)
            .hset(format!("motia:trace:{TRACE}"), "s1", step)
            .query_async(&mut c)
            .await
            .expect("seed");
    }
    drop(old);
    release();

    let config = server.config();
    let mut m = initial_model(
        &config,
        &BrowserOptions::default(),
        Keymap::default(),
        Arc::new(SystemClock),
    );
    let mut term = Terminal::new(TestBackend::new(160, 45)).expect("backend");
    let (mut link, worker) = spawn_worker(config);
    apply(&mut m, &link, Action::Resize(160, 45));
    pump(&mut m, &mut link, |m| {
        m.keys.trace.as_deref() == Some(TRACE) && m.cursor_key() == Some("doc")
    })
    .await;
    apply(&mut m, &link, key(KeyCode::Enter));
    // The key's own value in the Value pane is part of the start, not of the history.
    pump(&mut m, &mut link, |m| m.value.doc.is_some()).await;
    term.draw(|f| browser::ui::draw(f, &m)).expect("draw");
    release();
    let before = rss_mb();
    let heap_before = heap_in_use_mb();
    let hwm = reset_peak();

    let opened = Instant::now();
    apply(&mut m, &link, key(KeyCode::Char('H')));
    pump(&mut m, &mut link, |m| {
        m.history.as_ref().is_some_and(|h| h.loaded)
    })
    .await;
    term.draw(|f| browser::ui::draw(f, &m)).expect("draw");
    let open_time = opened.elapsed();
    let mut peak = rss_mb();

    use KeyCode::{Char, End, Home, PageDown};
    let moves = [
        Char('j'),
        Char('j'),
        PageDown,
        PageDown,
        End,
        Home,
        Char('G'),
        Char('g'),
        Char(']'),
        Char(']'),
        Char(']'),
        Char('['),
        Char('['),
        Char('j'),
        PageDown,
    ];
    let (mut times, mut builds) = (Vec::new(), Vec::new());
    // The version, then the diff with the version before, then with the value now.
    m.focus = browser::model::Pane::Value;
    for round in 0..3 {
        if round > 0 {
            // The press itself (the worker builds the diff), then until the diff is shown.
            let t = Instant::now();
            times.extend(presses(&mut m, &link, &mut term, &[Char('=')]));
            pump(&mut m, &mut link, |m| {
                m.history.as_ref().is_some_and(|h| {
                    matches!(h.detail, Some(browser::model::history::Detail::Diff { .. }))
                })
            })
            .await;
            term.draw(|f| browser::ui::draw(f, &m)).expect("draw");
            builds.push(t.elapsed());
            peak = peak.max(rss_mb());
        }
        for _ in 0..4 {
            times.extend(presses(&mut m, &link, &mut term, &moves));
        }
        peak = peak.max(rss_mb());
    }
    if hwm {
        peak = peak.max(peak_mb());
    }
    let diff_switch = builds.iter().copied().max().unwrap_or_default();
    // A refresh's read still under way would be taken after Esc and dropped; its answer
    // waiting in the queue is not what the closed view keeps.
    pump(&mut m, &mut link, |m| {
        m.history
            .as_ref()
            .is_some_and(|h| h.request.is_none() && h.diff_request.is_none())
    })
    .await;
    apply(&mut m, &link, key(KeyCode::Esc));
    term.draw(|f| browser::ui::draw(f, &m)).expect("draw");
    let after = rss_mb();
    let heap_after = heap_in_use_mb();
    let _ = link.cmds.send(WorkerCmd::Shutdown);
    worker.abort();

    let n = times.len();
    let p99 = pct(&mut times, 0.99);
    let growth = peak - before;
    println!("\nhistory and diff of a {size_mb:.1} MB value (160x45, {n} key presses)");
    println!("{:<52}{:>14}  target", "", "");
    let row = |name: &str, v: String, target: String| println!("{name:<52}{v:>14}  {target}");
    row("RSS before H", format!("{before:.0} MB"), String::new());
    if !hwm {
        println!("(VmHWM could not be reset: the peak is sampled after each step)");
    }
    row(
        "H: records read and shown",
        format!("{:.0} ms", open_time.as_secs_f64() * 1e3),
        String::new(),
    );
    row(
        "RSS while open (peak)",
        format!("{peak:.0} MB"),
        format!(
            "+{growth:.0} MB <= {:.0} MB (10x)  {}",
            10.0 * size_mb,
            if growth <= 10.0 * size_mb {
                "MET"
            } else {
                "NOT MET"
            }
        ),
    );
    row(
        "RSS after Esc",
        format!("{after:.0} MB"),
        format!(
            "back to {before:.0} MB (+5)  {}",
            if after <= before + 5.0 {
                "MET"
            } else {
                "NOT MET"
            }
        ),
    );
    if let (Some(b), Some(a)) = (heap_before, heap_after) {
        row(
            "allocated and not freed, before H / after Esc",
            format!("{b:.0} / {a:.0} MB"),
            String::new(),
        );
    }
    row(
        "any key (moves, =): press -> frame p99",
        format!("{:.1} ms", p99.as_secs_f64() * 1e3),
        format!(
            "< 50 ms  {}",
            if p99 < Duration::from_millis(50) {
                "MET"
            } else {
                "NOT MET"
            }
        ),
    );
    row(
        "= until the worker's diff is shown, slowest",
        format!("{:.1} ms", diff_switch.as_secs_f64() * 1e3),
        String::new(),
    );
}
