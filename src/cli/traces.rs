//! The subcommands over Motia's trace records: `traces --json`, `trace`, `history`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::time::Duration;

use motia_state::adapter::traces::{
    FlowStatus, FlowSummary, GroupEntry, MissingRecords, Timeline, TraceLimits, TracePages,
    TraceRecords, Unreadable, key_history,
};
use motia_state::{Config, RedisStateAdapter, format_duration};
use serde_json::{Value, json};

use crate::browser::format::noun;
use crate::cli::commands::{Failure, Out, connect, exit, warn};

/// A listing needs each record's header only (status, times), never the events.
const LISTING_LIMITS: TraceLimits = TraceLimits {
    bytes: 0,
    steps: 0,
    header_bytes: 32 * 1024 * 1024,
};

/// `--status` values: one status, or all (`any`, as `gc` says it, too).
pub fn parse_status(s: &str) -> Result<Option<FlowStatus>, Failure> {
    if s == "all" || s == "any" {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| {
        Failure::new(
            exit::BAD_INPUT,
            format!("invalid --status {s:?}: use failed, running, completed or all"),
        )
    })
}

fn report_unreadable(trace: &str, bad: &[Unreadable]) {
    for u in bad {
        warn(&format!("trace {trace}: unreadable record {u}"));
    }
}

/// `traces` with `--json`, `--all` or `--status`.
pub async fn list(
    config: Config,
    json_out: bool,
    all: bool,
    status: Option<String>,
) -> Result<(), Failure> {
    let wanted = match status.as_deref() {
        Some(s) => parse_status(s)?,
        None => None,
    };
    let state = connect(config).await?;
    // Trace ids that are not UTF-8 have no trace records (Motia writes those with string ids):
    // they are listed after the others, their id in base64.
    let mut counts = BTreeMap::new();
    let mut not_utf8 = Vec::new();
    for (id, n) in state.trace_counts_bytes().await? {
        match String::from_utf8(id) {
            Ok(id) => {
                counts.insert(id, n);
            }
            Err(e) => not_utf8.push((e.into_bytes(), n)),
        }
    }
    let groups: BTreeMap<String, GroupEntry> = groups_or_warn(&state)
        .await?
        .into_iter()
        .map(|g| (g.trace_id.clone(), g))
        .collect();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut ids: BTreeSet<String> = counts.keys().cloned().collect();
    if all {
        ids.extend(groups.keys().cloned());
    }
    let ids: Vec<String> = ids.into_iter().collect();
    let records = state.read_traces(&ids, LISTING_LIMITS).await?;
    let mut out = Out::new();
    for (id, rec) in ids.iter().zip(records) {
        let group = groups.get(id).map(|g| g.group.clone());
        let had_records = group.is_some() || rec.exists();
        let summary = match group {
            Some(Ok(g)) => FlowSummary::new(id, Some(g), rec),
            Some(Err(u)) => {
                let mut s = FlowSummary::new(id, None, rec);
                s.unreadable.insert(0, u);
                s
            }
            None => FlowSummary::new(id, None, rec),
        };
        report_unreadable(id, &summary.unreadable);
        if summary.status == Some(FlowStatus::Unknown) && summary.unreadable.is_empty() {
            warn(&format!(
                "trace {id}: the headers of its {} step records are over the read budget: its status is unknown",
                summary.steps
            ));
        }
        match summary.missing_records(now_ms) {
            Some(MissingRecords::Expired) => warn(&format!(
                "trace {id}: the group record lists it, but its step records have expired"
            )),
            Some(MissingRecords::NotYet) => warn(&format!(
                "trace {id}: the group record lists it, but it has no step records yet (it started {} ago)",
                ms_text(now_ms - summary.start_time.unwrap_or(now_ms))
            )),
            Some(MissingRecords::Unknown) => warn(&format!(
                "trace {id}: the group record lists it without a start time, and it has no step records"
            )),
            None => {}
        }
        let keys = counts.get(id).copied().unwrap_or(0);
        if !all && keys == 0 {
            continue;
        }
        if wanted.is_some() && summary.status != wanted {
            continue;
        }
        if !json_out {
            out.name(id.as_bytes())?;
            out.bytes(b"\n")?;
            continue;
        }
        let line = if had_records {
            json!({
                "traceId": id,
                "keys": keys,
                "flow": summary.flow,
                "status": summary.status,
                "startTime": summary.start_time,
                "steps": summary.steps,
                "failedAttempts": summary.failed_attempts,
            })
        } else {
            json!({"traceId": id, "keys": keys, "flow": null, "status": null, "startTime": null, "steps": null, "failedAttempts": null})
        };
        out.line(&line.to_string())?;
    }
    for (id, keys) in not_utf8.iter().filter(|_| wanted.is_none()) {
        if json_out {
            let id = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, id);
            let line = json!({"traceIdBase64": id, "keys": keys, "flow": null, "status": null, "startTime": null, "steps": null, "failedAttempts": null});
            out.line(&line.to_string())?;
        } else {
            out.name(id)?;
            out.bytes(b"\n")?;
        }
    }
    out.done()
}

/// The group hash's entries; a group hash of another type is named on stderr and read as
/// empty, so the traces with state are still listed.
async fn groups_or_warn(state: &RedisStateAdapter) -> Result<Vec<GroupEntry>, Failure> {
    let mut scanner = state.scan_trace_groups();
    let key = scanner.key().to_string();
    let mut all = Vec::new();
    loop {
        match scanner.next_page().await {
            Ok(Some(page)) => all.extend(page),
            Ok(None) => return Ok(all),
            Err(e) if e.to_string().contains("WRONGTYPE") => {
                warn(&format!(
                    "{key} is not a hash of trace groups (WRONGTYPE): flows are listed from their state only"
                ));
                return Ok(Vec::new());
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S%.3f")
                .to_string()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn ms_text(ms: i64) -> String {
    format_duration(Duration::from_millis(ms.max(0) as u64))
}

/// Every record's header (the flow's status from all of them), or exit 1 when there are none.
async fn pages_or_exit(
    state: &RedisStateAdapter,
    trace: &str,
    limits: TraceLimits,
) -> Result<TracePages, Failure> {
    let pages = state.trace_pages(trace, limits).await?;
    let records = pages.headers();
    report_unreadable(trace, &records.unreadable);
    if records.not_read > 0 {
        warn(&format!(
            "trace {trace}: the headers of its {} step records are over the read budget ({} MiB): they were not read, so its status is unknown",
            records.not_read,
            limits.header_bytes / (1024 * 1024)
        ));
    }
    if !records.exists() {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let why = match state.trace_group(trace).await? {
            Some(group) => {
                let start = group.ok().and_then(|g| g.start_time);
                match MissingRecords::of(start, now_ms) {
                    MissingRecords::Expired => {
                        ": its step records have expired (Motia keeps them 3 days)".to_string()
                    }
                    MissingRecords::NotYet => format!(
                        " has no step records yet (it started {} ago)",
                        ms_text(now_ms - start.unwrap_or(now_ms))
                    ),
                    MissingRecords::Unknown => " has no step records (its group record has no start time: expired, or not written yet)".to_string(),
                }
            }
            None => {
                " has no step records (Motia keeps them 3 days; is --trace-prefix right?)".into()
            }
        };
        return Err(Failure::new(
            exit::NOT_FOUND,
            format!("trace {trace:?}{why}"),
        ));
    }
    Ok(pages)
}

/// The next page of whole records, its problems named on stderr.
async fn next_page(
    state: &RedisStateAdapter,
    trace: &str,
    pages: &mut TracePages,
) -> Result<Option<TraceRecords>, Failure> {
    let Some(page) = pages.next_page(state).await? else {
        return Ok(None);
    };
    report_unreadable(trace, &page.unreadable);
    for s in page.steps.iter().filter(|s| s.omitted_bytes.is_some()) {
        warn(&format!(
            "trace {trace}: step {} ({}) is {} bytes, over the read budget: its events were not read",
            s.name,
            s.id,
            s.omitted_bytes.unwrap_or(0)
        ));
    }
    Ok(Some(page))
}

/// `trace TRACE [--json]`: the timeline.
pub async fn timeline(config: Config, trace: &str, json_out: bool) -> Result<(), Failure> {
    RedisStateAdapter::check_group(trace)?;
    let state = connect(config).await?;
    let limits = TraceLimits::default();
    let mut pages = pages_or_exit(&state, trace, limits).await?;
    let mut out = Out::new();
    if json_out {
        // Page by page in start order: a flow of any size, at most a page in memory.
        while let Some(page) = next_page(&state, trace, &mut pages).await? {
            for s in &page.steps {
                let error = s
                    .error
                    .as_ref()
                    .map(|e| json!({"message": e.message, "code": e.code, "stack": e.stack}));
                let events: Vec<&Value> = s.events.iter().map(|e| &e.raw).collect();
                let line = json!({
                    "id": s.id, "name": s.name, "type": s.entry_type(), "status": s.status,
                    "startTime": s.start_time, "endTime": s.end_time, "error": error, "events": events,
                });
                out.line(&line.to_string())?;
            }
        }
        return out.done();
    }
    // The table needs no events: each page's are dropped once its steps are whole.
    let mut records = TraceRecords {
        steps: Vec::with_capacity(pages.headers().steps.len()),
        ..pages.headers().clone()
    };
    while let Some(page) = next_page(&state, trace, &mut pages).await? {
        records.unreadable.extend(page.unreadable);
        records.steps.extend(page.steps.into_iter().map(|mut s| {
            s.events = Vec::new();
            s
        }));
    }
    // Only a failed flow can have dead letters: the walk for them is skipped otherwise.
    let status = pages.headers().status();
    let dead = if status == Some(FlowStatus::Failed) {
        state.dead_letters().await?
    } else {
        Vec::new()
    };
    let tl = Timeline::new(&records, &dead);
    let flow = match state.trace_group(trace).await? {
        Some(Ok(g)) => g.name,
        _ => records
            .steps
            .first()
            .map(|s| s.name.clone())
            .unwrap_or_default(),
    };
    let steps = records.step_count();
    out.line(&format!(
        "trace {trace}  flow {flow}  {}  started {}  {steps} {}",
        status.map(FlowStatus::as_str).unwrap_or("?"),
        tl.start_time.map(time_text).unwrap_or_default(),
        noun(steps as u64, "step", "steps")
    ))?;
    let name_w = tl
        .rows
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    out.line(&format!(
        "{:>9}  {:<name_w$}  {:<6}  {:<9}  {:>8}  NOTES",
        "START", "STEP", "TYPE", "STATUS", "TOOK"
    ))?;
    for r in &tl.rows {
        let mut note = Vec::new();
        if let Some(a) = r.attempts_text() {
            note.push(a);
        }
        if let Some(e) = &r.error_line {
            note.push(e.clone());
        }
        if let Some(d) = &r.dead_letter {
            note.push(format!("sent to the dead-letter queue ({})", d.key));
        }
        let row = format!(
            "{:>9}  {:<name_w$}  {:<6}  {:<9}  {:>8}  {}",
            format!("+{}", ms_text(r.offset_ms)),
            r.name,
            r.entry_type.as_deref().unwrap_or("-"),
            r.status.as_str(),
            r.duration_ms.map(ms_text).unwrap_or_else(|| "-".into()),
            note.join("; ")
        );
        out.line(row.trim_end())?;
    }
    out.done()
}

/// `history TRACE KEY [--json] [--reads]`.
pub async fn history(
    config: Config,
    trace: &str,
    key: &str,
    json_out: bool,
    reads: bool,
) -> Result<(), Failure> {
    state_key_check(&config, trace, key)?;
    let state = connect(config).await?;
    let limits = TraceLimits::default();
    let mut pages = pages_or_exit(&state, trace, limits).await?;
    let mut entries = Vec::new();
    while let Some(page) = next_page(&state, trace, &mut pages).await? {
        entries.extend(key_history(&page, trace, key, reads));
    }
    // Pages come in start order; stable, as within one page.
    entries.sort_by_key(|e| e.timestamp);
    if entries.is_empty() {
        return Err(Failure::new(
            exit::NOT_FOUND,
            format!(
                "no trace record of {trace:?} touches key {key:?}{}",
                if reads {
                    ""
                } else {
                    " (reads are left out; add --reads)"
                }
            ),
        ));
    }
    let mut out = Out::new();
    let tty = std::io::stdout().is_terminal();
    for e in &entries {
        if json_out {
            let mut line =
                json!({"timestamp": e.timestamp, "step": e.step, "operation": e.operation});
            if e.operation == "set" {
                line["value"] = e.value.clone().unwrap_or(Value::Null);
            }
            out.line(&line.to_string())?;
        } else {
            let value = match (&e.value, e.operation.as_str()) {
                (Some(v), _) => motia_state::json::to_compact(v),
                (None, "set") => "null".into(),
                _ => String::new(),
            };
            let value = if tty && value.chars().count() > 200 {
                format!("{}…", value.chars().take(200).collect::<String>())
            } else {
                value
            };
            out.line(&format!(
                "{}  {}  {}  {}",
                time_text(e.timestamp),
                e.step,
                e.operation,
                value
            ))?;
        }
    }
    out.done()
}

fn state_key_check(config: &Config, trace: &str, key: &str) -> Result<(), Failure> {
    motia_state::KeySpace::new(config.key_prefix.clone()).full_key(trace, key)?;
    Ok(())
}
