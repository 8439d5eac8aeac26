//! `motia-state stats`: the memory and TTL figures as a table or one JSON document.

use std::io::IsTerminal;

use motia_state::RedisStateAdapter;
use motia_state::adapter::stats::{KeySource, Stats};
use motia_state::escape::line_str;

use crate::browser::format::{human_bytes, noun, percent};
use crate::cli::out::{Failure, Out, exit};
use crate::cli::progress::Progress;

type Outcome = Result<(), Failure>;

pub async fn run(state: RedisStateAdapter, json: bool) -> Outcome {
    let mut progress = Progress::new("reading keys");
    let stats = state
        .stats(KeySource::Scan, |done, total, _| {
            progress.update(done, total)
        })
        .await?;
    progress.finish();
    let mut out = Out::new();
    if json {
        let text = serde_json::to_string_pretty(&stats)
            .map_err(|e| Failure::new(exit::SERVER, format!("cannot encode the figures: {e}")))?;
        out.line(&text)?;
    } else {
        let colour = std::io::stdout().is_terminal();
        for line in table(&stats, state.key_space().prefix(), state.addr(), colour) {
            out.line(&line)?;
        }
    }
    out.done()
}

fn bytes(b: Option<u64>) -> String {
    b.map_or_else(|| "?".into(), human_bytes)
}

/// A bar of `width` cells for `part` of `whole`.
fn bar(part: u64, whole: u64, width: usize) -> String {
    let cells = (part as f64 / whole.max(1) as f64 * width as f64).round() as usize;
    let cells = if part > 0 { cells.max(1) } else { 0 };
    "█".repeat(cells.min(width))
}

/// The readable table; `colour` adds ANSI colours for warnings.
pub fn table(s: &Stats, prefix: &str, addr: &str, colour: bool) -> Vec<String> {
    let (warn_on, off) = if colour {
        ("\x1b[33m", "\x1b[0m")
    } else {
        ("", "")
    };
    let mut l = Vec::new();
    l.push(format!("State under {prefix} on {addr}"));
    let traces = noun(s.traces, "trace", "traces");
    l.push(format!(
        "  {:<14}{} in {} {traces}",
        "keys", s.keys, s.traces
    ));
    let share = s
        .share_of_server_memory
        .map(|x| format!(" ({} of the server's used memory)", percent(x)))
        .unwrap_or_default();
    l.push(format!("  {:<14}{}{share}", "bytes", bytes(s.bytes)));
    l.push(format!(
        "  {:<14}{} {}, {}",
        "without TTL",
        s.keys_without_ttl
            .map_or_else(|| "?".into(), |n| n.to_string()),
        noun(s.keys_without_ttl.unwrap_or(0), "key", "keys"),
        bytes(s.bytes_without_ttl)
    ));
    let m = &s.server;
    let max = match m.maxmemory {
        Some(0) => "no maxmemory".to_string(),
        Some(n) => format!(
            "maxmemory {}{}",
            human_bytes(n),
            m.fill()
                .map(|f| format!(" ({} used)", percent(f)))
                .unwrap_or_default()
        ),
        None => "maxmemory ?".into(),
    };
    l.push(format!(
        "  {:<14}used {}, peak {}, {max}, policy {}",
        "server",
        bytes(m.used_memory),
        bytes(m.peak_memory),
        m.policy.as_deref().unwrap_or("?")
    ));
    l.push(String::new());
    let unknown = s.traces - s.traces_with_records - s.traces_by_idle_time;
    l.push(format!(
        "Traces by age (from records: {}, from idle time: {}, unknown: {unknown})",
        s.traces_with_records, s.traces_by_idle_time
    ));
    let most = s.age_buckets.iter().map(|b| b.traces).max().unwrap_or(0);
    for b in &s.age_buckets {
        l.push(format!(
            "  {:<12}{:>8} {:<6} {:>9} {:<4} {:>11}  {}",
            b.label,
            b.traces,
            noun(b.traces, "trace", "traces"),
            b.keys,
            noun(b.keys, "key", "keys"),
            bytes(b.bytes),
            bar(b.traces, most, 24)
        ));
    }
    l.push(String::new());
    l.push("Keys by remaining TTL".into());
    let most = s.ttl_buckets.iter().map(|b| b.keys).max().unwrap_or(0);
    for b in &s.ttl_buckets {
        l.push(format!(
            "  {:<12}{:>8} {:<4} {:>11}  {}",
            b.label,
            b.keys,
            noun(b.keys, "key", "keys"),
            bytes(b.bytes),
            bar(b.keys, most, 24)
        ));
    }
    if !s.top_traces.is_empty() {
        l.push(String::new());
        l.push("Biggest traces".into());
        for t in &s.top_traces {
            l.push(format!(
                "  {:>11} {:>8} {:<4}  {}",
                bytes(t.bytes),
                t.keys,
                noun(t.keys, "key", "keys"),
                line_str(&t.trace_id)
            ));
        }
    }
    if !s.top_keys.is_empty() {
        l.push(String::new());
        l.push("Biggest keys".into());
        for k in &s.top_keys {
            l.push(format!(
                "  {:>11}  {} {}",
                bytes(k.bytes),
                line_str(&k.trace_id),
                line_str(&k.key)
            ));
        }
    }
    if !s.warnings.is_empty() {
        l.push(String::new());
        for w in &s.warnings {
            l.push(format!("{warn_on}warning: {w}{off}"));
        }
    }
    l
}
