//! The subcommands over Motia's trace records: `traces --json`, `trace`, `history`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::time::Duration;

use motia_state::adapter::traces::{
    FlowStatus, FlowSummary, GroupEntry, GroupSearch, HistoryEntry, MissingRecords, SearchLimits,
    Timeline, TraceLimits, TracePages, TraceRecords, Unreadable, key_history,
};
use motia_state::{RedisStateAdapter, escape, format_duration};
use serde_json::{Value, json};

use crate::browser::format::noun;
use crate::cli::out::{Failure, Link, Out, exit, warn};
use crate::cli::progress::Progress;

/// A listing needs each record's name, status and start only: its start up to the events is
/// read, never the events nor the end time and error written after them.
const LISTING_LIMITS: TraceLimits = TraceLimits {
    bytes: 0,
    steps: 0,
    header_bytes: 32 * 1024 * 1024,
    after_events: false,
};

/// `--status` values: one status, or all (`any`, as `gc` says it, too).
pub fn parse_status(s: &str) -> Result<Option<FlowStatus>, Failure> {
    if s == "all" || s == "any" {
        return Ok(None);
    }
    s.parse().map(Some).map_err(|_| {
        Failure::new(
            exit::BAD_INPUT,
            format!("invalid --status {s:?}: use failed, running, completed, unknown or all"),
        )
    })
}

fn report_unreadable(trace: &[u8], bad: &[Unreadable]) {
    for u in bad {
        warn(&format!(
            "trace {}: unreadable record {u}",
            escape::name(trace)
        ));
    }
}

/// `traces` with `--json`, `--all` or `--status`.
pub async fn list(
    link: Link,
    json_out: bool,
    all: bool,
    status: Option<String>,
) -> Result<(), Failure> {
    let wanted = match status.as_deref() {
        Some(s) => parse_status(s)?,
        None => None,
    };
    let state = link.state()?;
    // The state and the group hash are walked at once; state, group records and step records
    // are joined by the exact bytes of the trace id.
    let (counts, groups) = tokio::join!(state.trace_counts(), groups_or_warn(&state));
    let counts: BTreeMap<Vec<u8>, u64> = counts?
        .into_iter()
        .map(|(t, n)| (t.into_bytes(), n))
        .collect();
    let groups: BTreeMap<Vec<u8>, GroupEntry> = groups?
        .into_iter()
        .map(|g| (g.trace_id_bytes.clone(), g))
        .collect();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let mut ids: BTreeSet<Vec<u8>> = counts.keys().cloned().collect();
    if all {
        ids.extend(groups.keys().cloned());
    }
    // As before: ids that are not UTF-8 after the others.
    let mut ids: Vec<Vec<u8>> = ids.into_iter().collect();
    ids.sort_by_key(|id| std::str::from_utf8(id).is_err());
    let records = state.read_traces(&ids, LISTING_LIMITS).await?;
    let mut out = Out::new();
    for (id_bytes, rec) in ids.iter().zip(records) {
        let id = &escape::shown(id_bytes);
        let group = groups.get(id_bytes).map(|g| g.group.clone());
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
        report_unreadable(id_bytes, &summary.unreadable);
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
        let keys = counts.get(id_bytes).copied().unwrap_or(0);
        if !all && keys == 0 {
            continue;
        }
        if wanted.is_some() && summary.status != wanted {
            continue;
        }
        if !json_out {
            out.name(id_bytes)?;
            out.bytes(b"\n")?;
            continue;
        }
        let base64 = std::str::from_utf8(id_bytes).is_err().then(|| {
            // Exact bytes in base64, in place of the escaped text (see `keys --json`).
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, id_bytes)
        });
        let line = Line {
            trace_id: base64.is_none().then_some(id.as_ref()),
            trace_id_base64: base64,
            keys,
            flow: summary.flow.as_deref().filter(|_| had_records),
            status: summary.status.filter(|_| had_records),
            start_time: summary.start_time.filter(|_| had_records),
            steps: had_records.then_some(summary.steps),
            failed_attempts: summary.failed_attempts.filter(|_| had_records),
        };
        let line = serde_json::to_string(&line)
            .map_err(|e| Failure::new(exit::SERVER, format!("writing a line: {e}")))?;
        out.line(&line)?;
    }
    out.done()
}

/// One flow of `traces --json`, its fields in this order.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id_base64: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<&'a str>,
    keys: u64,
    flow: Option<&'a str>,
    status: Option<FlowStatus>,
    start_time: Option<i64>,
    steps: Option<usize>,
    failed_attempts: Option<usize>,
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
            Err(e) if e.is_wrong_type() => {
                warn(&format!(
                    "{key} is not a hash of trace groups (WRONGTYPE): flows are listed from their state only"
                ));
                return Ok(Vec::new());
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Local time with its UTC offset, so a reader in another zone (or a log) reads it right.
pub(crate) fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S%.3f %:z")
                .to_string()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// A name in a message: quoted as before for UTF-8, escaped when it is not.
fn quoted(name: &[u8]) -> String {
    match std::str::from_utf8(name) {
        Ok(s) => format!("{s:?}"),
        Err(_) => format!("\"{}\"", escape::name(name)),
    }
}

/// Terminal cells of `s` as a terminal shows it (escaped; wide characters count two).
fn cells(s: &str) -> usize {
    crate::browser::text::width(&escape::text_str(s))
}

/// `s` padded with spaces to `cells` terminal cells.
fn pad(s: &str, cells_wanted: usize) -> String {
    let w = cells(s);
    format!("{s}{}", " ".repeat(cells_wanted.saturating_sub(w)))
}

fn ms_text(ms: i64) -> String {
    format_duration(Duration::from_millis(ms.max(0) as u64))
}

/// Every record's header (the flow's status from all of them), or exit 1 when there are none.
async fn pages_or_exit(
    state: &RedisStateAdapter,
    trace_bytes: &[u8],
    limits: TraceLimits,
) -> Result<TracePages, Failure> {
    let pages = pages_reported(state, trace_bytes, limits).await?;
    if !pages.headers().exists() {
        let trace = quoted(trace_bytes);
        let now_ms = chrono::Utc::now().timestamp_millis();
        let why = match state.trace_group(trace_bytes).await? {
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
        return Err(Failure::new(exit::NOT_FOUND, format!("trace {trace}{why}")));
    }
    Ok(pages)
}

/// Every record's header, what could not be read named on stderr.
async fn pages_reported(
    state: &RedisStateAdapter,
    trace_bytes: &[u8],
    limits: TraceLimits,
) -> Result<TracePages, Failure> {
    let pages = state.trace_pages(trace_bytes, limits).await?;
    let records = pages.headers();
    report_unreadable(trace_bytes, &records.unreadable);
    if records.not_read > 0 {
        warn(&format!(
            "trace {}: the headers of its {} step records are over the read budget ({} MiB): they were not read, so its status is unknown",
            escape::name(trace_bytes),
            records.not_read,
            limits.header_bytes / (1024 * 1024)
        ));
    }
    Ok(pages)
}

/// The next page of whole records, its problems named on stderr.
async fn next_page(
    state: &RedisStateAdapter,
    trace_bytes: &[u8],
    pages: &mut TracePages,
) -> Result<Option<TraceRecords>, Failure> {
    let Some(page) = pages.next_page(state).await? else {
        return Ok(None);
    };
    let trace = escape::name(trace_bytes);
    report_unreadable(trace_bytes, &page.unreadable);
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
pub async fn timeline(link: Link, trace_bytes: &[u8], json_out: bool) -> Result<(), Failure> {
    RedisStateAdapter::check_group(trace_bytes)?;
    let state = link.state()?;
    let limits = TraceLimits::default();
    let mut pages = pages_or_exit(&state, trace_bytes, limits).await?;
    // One line whatever the id holds: escaped as names are on a terminal.
    let trace = escape::name(trace_bytes);
    let mut out = Out::new();
    if json_out {
        // Page by page in start order: a flow of any size, at most a page in memory.
        while let Some(page) = next_page(&state, trace_bytes, &mut pages).await? {
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
    while let Some(page) = next_page(&state, trace_bytes, &mut pages).await? {
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
    let flow = match state.trace_group(trace_bytes).await? {
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
    // Widths in terminal cells, so names in wide scripts (CJK) align.
    let name_w = tl
        .rows
        .iter()
        .map(|r| cells(&r.name))
        .max()
        .unwrap_or(4)
        .max(4);
    out.line(&format!(
        "{:>9}  {}  {:<6}  {:<9}  {:>8}  NOTES",
        "START",
        pad("STEP", name_w),
        "TYPE",
        "STATUS",
        "TOOK"
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
            "{:>9}  {}  {:<6}  {:<9}  {:>8}  {}",
            format!("+{}", ms_text(r.offset_ms)),
            pad(&r.name, name_w),
            r.entry_type.as_deref().unwrap_or("-"),
            r.status.as_str(),
            r.duration_ms.map(ms_text).unwrap_or_else(|| "-".into()),
            note.join("; ")
        );
        out.line(row.trim_end())?;
    }
    out.done()
}

/// `history TRACE KEY [--json] [--reads]`: from the trace's own records, or, when the group
/// has none (a group such as `orders` that steps of other flows write to), from the records
/// of every flow.
pub async fn history(
    link: Link,
    trace_bytes: &[u8],
    key_bytes: &[u8],
    json_out: bool,
    reads: bool,
) -> Result<(), Failure> {
    motia_state::KeySpace::new(link.config.key_prefix.clone()).full_key(trace_bytes, key_bytes)?;
    let (trace, key) = (quoted(trace_bytes), quoted(key_bytes));
    // Motia's records are JSON text: no event names a key that is not UTF-8, and a trace id
    // that is not UTF-8 only lossily (its own records still do, so they are read).
    let Ok(key_text) = std::str::from_utf8(key_bytes) else {
        return Err(Failure::new(
            exit::NOT_FOUND,
            format!(
                "no trace record can name key {key}: it is not UTF-8, and Motia's records are \
                 JSON text"
            ),
        ));
    };
    let state = link.state()?;
    match key_records(&state, trace_bytes, key_text, reads).await? {
        (entries, None) => print_history(&entries, None, json_out),
        (entries, Some(found)) => {
            let searched = crate::browser::format::searched_flows(found.listed, found.searched);
            warn(&format!(
                "{trace} has no step records of its own: found in the step records of other flows \
                 ({searched})"
            ));
            print_history(&entries, Some(&found), json_out)
        }
    }
}

/// What the trace records say happened to a key, oldest first: from the trace's own records,
/// else (with the search) from every flow's. Status 1 when none touches it.
pub(crate) async fn key_records(
    state: &RedisStateAdapter,
    trace_bytes: &[u8],
    key_text: &str,
    reads: bool,
) -> Result<(Vec<HistoryEntry>, Option<GroupSearch>), Failure> {
    let (trace, key) = (quoted(trace_bytes), quoted(key_text.as_bytes()));
    let reads_note = if reads {
        ""
    } else {
        " (reads are left out; add --reads)"
    };
    let limits = TraceLimits::default();
    let mut pages = pages_reported(state, trace_bytes, limits).await?;
    if pages.headers().exists() {
        let group = String::from_utf8_lossy(trace_bytes);
        let mut entries = Vec::new();
        while let Some(page) = next_page(state, trace_bytes, &mut pages).await? {
            entries.extend(key_history(&page, &group, key_text, reads));
        }
        // Pages come in start order; stable, as within one page.
        entries.sort_by_key(|e| e.timestamp);
        if entries.is_empty() {
            return Err(Failure::new(
                exit::NOT_FOUND,
                format!("no trace record of {trace} touches key {key}{reads_note}"),
            ));
        }
        return Ok((entries, None));
    }
    let Ok(group) = std::str::from_utf8(trace_bytes) else {
        return Err(Failure::new(
            exit::NOT_FOUND,
            format!(
                "trace {trace} has no step records, and other flows' records cannot name a group \
                 that is not UTF-8 (Motia's records are JSON text)"
            ),
        ));
    };
    let mut progress = Progress::new("searching the trace records of every flow");
    let found = state
        .search_group_records(
            group,
            Some(trace_bytes),
            SearchLimits::default(),
            |done, total| progress.update(done as u64, total as u64),
        )
        .await?;
    progress.finish();
    let searched = crate::browser::format::searched_flows(found.listed, found.searched);
    let entries = key_history(&found.records, group, key_text, reads);
    if entries.is_empty() {
        return Err(Failure::new(
            exit::NOT_FOUND,
            format!(
                "no trace record touches key {key} of group {trace}: {trace} has no step records \
                 of its own, and none of the step records of the other flows ({searched}) \
                 does{reads_note}"
            ),
        ));
    }
    Ok((entries, Some(found)))
}

/// The entries, oldest first; with `search`, each names the flow whose records hold it.
fn print_history(
    entries: &[HistoryEntry],
    search: Option<&GroupSearch>,
    json_out: bool,
) -> Result<(), Failure> {
    let mut out = Out::new();
    let tty = std::io::stdout().is_terminal();
    let flow_of = |e: &HistoryEntry| search.and_then(|s| s.flow_of(e.step_index));
    for e in entries {
        if json_out {
            let mut line =
                json!({"timestamp": e.timestamp, "step": e.step, "operation": e.operation});
            if let Some(flow) = flow_of(e) {
                line["traceId"] = flow.into();
            }
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
            let step = match flow_of(e) {
                Some(flow) => format!("{} (trace {})", e.step, escape::line_str(flow)),
                None => e.step.clone(),
            };
            out.line(&format!(
                "{}  {}  {}  {}",
                time_text(e.timestamp),
                step,
                e.operation,
                value
            ))?;
        }
    }
    out.done()
}
