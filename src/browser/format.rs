//! Numbers as people read them (counts, byte sizes, TTLs), for every layer that shows one.

use motia_state::{Ttl, format_duration};

/// The word for `n` things: `noun(1, "key", "keys")` is "key".
pub fn noun(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// What a search of every flow's records read, as a phrase for "(searched …)": the CLI's
/// `history` and the History view say it alike.
pub fn searched_flows(listed: usize, searched: usize) -> String {
    let n = listed as u64;
    if listed == 0 {
        "no flow: the group record lists none".into()
    } else if searched >= listed {
        format!(
            "{} {n} {} listed",
            noun(n, "the", "all"),
            noun(n, "flow", "flows")
        )
    } else {
        format!("the newest {searched} of {listed} flows listed; older ones were not searched")
    }
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `512 B`, `4.0 KiB`, `50.0 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let (v, u) = scaled(n);
    format!("{v:.1} {}", UNITS[u])
}

/// A share as `12.3%`; a share too small to show as 0.1% is `<0.1%`, never a false `0.0%`.
pub fn percent(share: f64) -> String {
    if share > 0.0 && share < 0.001 {
        "<0.1%".into()
    } else {
        format!("{:.1}%", share * 100.0)
    }
}

/// `512B`, `4.0K`, `50.0M`: for the narrow size column.
pub fn short_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["K", "M", "G", "T"];
    if n < 1024 {
        return format!("{n}B");
    }
    let (v, u) = scaled(n);
    format!("{v:.1}{}", UNITS[u])
}

fn scaled(n: u64) -> (f64, usize) {
    const UNITS: usize = 4;
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS - 1 {
        v /= 1024.0;
        u += 1;
    }
    (v, u)
}

/// `59s`, `1h 2m`, `-` for none.
pub fn ttl_text(ttl: Ttl) -> String {
    match ttl {
        Ttl::Missing => "gone".into(),
        Ttl::Persistent => "-".into(),
        Ttl::Expires(d) if d.is_zero() => "expired".into(),
        // Round up so a countdown reads 3, 2, 1 and not 2, 1, 0.
        Ttl::Expires(d) => format_duration(std::time::Duration::from_secs(
            d.as_millis().div_ceil(1000) as u64,
        )),
    }
}

/// How long ago `ms` (epoch milliseconds) was, seen at `now_ms`: `12s`, `5m`, `3h`, `2d`.
pub fn ago(ms: i64, now_ms: i64) -> String {
    let s = (now_ms - ms).max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3_600 => format!("{}m", s / 60),
        3_600..86_400 => format!("{}h", s / 3_600),
        _ => format!("{}d", s / 86_400),
    }
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM:SS` in the time zone of `zone` (the clock's).
pub fn local_time(ms: i64, zone: &chrono::FixedOffset) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(zone)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        })
        .unwrap_or_default()
}

/// Epoch milliseconds as `HH:MM:SS.mmm` in the time zone of `zone`.
pub fn clock_time(ms: i64, zone: &chrono::FixedOffset) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(zone).format("%H:%M:%S%.3f").to_string())
        .unwrap_or_default()
}

/// `+1.2s`, `+350ms`, `+2m 5s`: an offset or a duration in milliseconds.
pub fn millis(ms: i64) -> String {
    format_duration(std::time::Duration::from_millis(ms.max(0) as u64))
}
