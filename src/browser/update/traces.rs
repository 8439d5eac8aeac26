//! The trace list: filter, sort, the selected trace.

use crate::browser::model::split_shown;
use std::cmp::Reverse;

use motia_state::adapter::traces::{FlowStatus, GroupEntry};

use crate::browser::action::{Effect, StepsSummary, WorkerCmd};
use crate::browser::model::filter::Matcher;
use crate::browser::model::keys::Selected;
use crate::browser::model::layout::traces_height;
use crate::browser::model::streams;
use crate::browser::model::traces::{FlowInfo, TraceSort};
use crate::browser::model::{Mode, Model, Pane};
use crate::browser::update::keys::rebuild_keys;
use crate::browser::update::meta::GONE_GRACE;
use crate::browser::update::note;

/// The Traces pane's `s`: by id, by key count; with trace records also newest first and by
/// status; on the iii layout while live also newest activity first.
pub fn toggle_sort(m: &mut Model, fx: &mut Vec<Effect>) {
    let records = m.index.has_records();
    m.traces.sort = match (m.traces.sort, records) {
        (TraceSort::Newest, _) => TraceSort::Id,
        (TraceSort::Id, _) => TraceSort::KeyCount,
        (TraceSort::KeyCount, true) => TraceSort::Status,
        // iii layout while live: the scopes written last first.
        (TraceSort::KeyCount, false) if m.settings.iii && m.live.is_live() => TraceSort::Newest,
        (TraceSort::KeyCount, false) => TraceSort::Id,
        (TraceSort::Status, _) => TraceSort::Newest,
    };
    m.traces.sort_chosen = true;
    m.traces.list.cursor = 0;
    if m.traces.sort == TraceSort::Status {
        request_all(m, fx);
    }
    rebuild_traces(m, fx, true);
}

fn status_rank(s: Option<FlowStatus>) -> u8 {
    match s {
        Some(FlowStatus::Failed) => 0,
        Some(FlowStatus::Running) => 1,
        Some(FlowStatus::Completed) => 2,
        Some(FlowStatus::Unknown) => 3,
        None => 4,
    }
}

/// Recomputes the trace list (filter, sort), keeping the selected trace by id.
pub fn rebuild_traces(m: &mut Model, fx: &mut Vec<Effect>, force_keys: bool) {
    m.traces.stale = false;
    m.traces.pending.clear();
    let matcher = Matcher::new(&m.traces.filter);
    let flows = &m.index.flows;
    let status = m.traces.status_filter;
    let passes = |t: &str| {
        let info = flows.get(t);
        // A stream group is matched by the name it is shown by.
        let name_ok = matcher.matches(&streams::shown(t))
            || info
                .and_then(|i| i.flow.as_deref())
                .is_some_and(|f| matcher.matches(f));
        name_ok && (status.is_none() || info.and_then(FlowInfo::status) == status)
    };
    let mut view: Vec<Box<str>> = m
        .index
        .traces
        .keys()
        .filter(|t| passes(t))
        .cloned()
        .collect();
    // Flows with records but no state are listed too.
    view.extend(
        flows
            .keys()
            .filter(|t| !m.index.traces.contains_key(*t) && passes(t))
            .cloned(),
    );
    let start = |t: &str| flows.get(t).and_then(|i| i.start_time);
    match m.traces.sort {
        TraceSort::KeyCount => {
            let ix = &m.index;
            view.sort_by(|a, b| ix.count(b).cmp(&ix.count(a)).then_with(|| a.cmp(b)));
        }
        TraceSort::Id if m.settings.iii => view.sort_unstable_by(|a, b| streams::by_id(a, b)),
        TraceSort::Id => view.sort_unstable(),
        TraceSort::Newest if m.settings.iii => {
            let seen = &m.live.activity;
            view.sort_by(|a, b| seen.get(b).cmp(&seen.get(a)).then_with(|| a.cmp(b)));
        }
        TraceSort::Newest => view.sort_by(|a, b| {
            (start(b).is_some(), start(b))
                .cmp(&(start(a).is_some(), start(a)))
                .then_with(|| a.cmp(b))
        }),
        TraceSort::Status => view.sort_by_cached_key(|t| {
            (
                status_rank(flows.get(t).and_then(FlowInfo::status)),
                Reverse(start(t)),
                t.clone(),
            )
        }),
    }
    if m.settings.iii {
        streams::arrange(&mut view);
    }
    // `flows` borrows the index: the anchor is checked before it is looked up.
    let anchor_known = m
        .traces
        .anchor
        .as_deref()
        .is_none_or(|a| m.index.traces.contains_key(a) || m.index.flows.contains_key(a));
    let find = |sel: &str| match m.traces.sort {
        TraceSort::Id => view.binary_search_by(|t| streams::by_id(t, sel)).ok(),
        _ => view.iter().position(|t| &**t == sel),
    };
    let pos = m
        .traces
        .anchor
        .as_deref()
        .filter(|_| anchor_known)
        .and_then(find)
        .or_else(|| m.traces.selected.as_deref().and_then(find));
    if !anchor_known {
        m.traces.anchor = None;
    }
    match pos {
        Some(p) => m.traces.list.cursor = p,
        None => {
            let at = m.traces.list.cursor.min(view.len().saturating_sub(1));
            m.traces.list.cursor = streams::selectable(&view, at, 1);
        }
    }
    m.traces.view = view;
    m.traces
        .list
        .fit(m.traces.view.len(), traces_height(m.size));
    let sel = m.traces.view.get(m.traces.list.cursor).cloned();
    if sel != m.traces.selected || force_keys {
        m.traces.selected = sel;
        select_trace(m, fx);
    } else {
        request_visible(m, fx);
    }
    m.dirty = true;
}

/// Below this many rows the list takes a scan's new traces at once.
const MERGE_AT_ONCE_BELOW: usize = 4096;

/// New trace ids from a scan batch for the id-sorted list. A merge walks the whole list, and
/// per batch that was a fifth of the UI thread's time at 100,000 traces; so a long list takes
/// them once they are an eighth of its length, else on the next tick (within a second).
pub fn add_scanned_traces(m: &mut Model, new: Vec<Box<str>>, fx: &mut Vec<Effect>) {
    m.traces.pending.extend(new);
    let rows = m.traces.view.len();
    if rows < MERGE_AT_ONCE_BELOW || m.traces.pending.len() * 8 >= rows {
        merge_pending(m, fx);
    }
}

/// Merges what [`add_scanned_traces`] held back.
pub fn merge_pending(m: &mut Model, fx: &mut Vec<Effect>) {
    if !m.traces.pending.is_empty() {
        let new = std::mem::take(&mut m.traces.pending);
        merge_traces(m, new, fx);
    }
}

/// Adds new trace ids to the id-sorted list by merging (no full rebuild per scan batch).
pub fn merge_traces(m: &mut Model, mut new: Vec<Box<str>>, fx: &mut Vec<Effect>) {
    let matcher = Matcher::new(&m.traces.filter);
    // A flow of the trace records is listed already; a trace without records has no status.
    let flows = &m.index.flows;
    let by_status = m.traces.status_filter.is_some();
    new.retain(|t| matcher.matches(&streams::shown(t)) && !flows.contains_key(t) && !by_status);
    if new.is_empty() {
        return;
    }
    // The first stream group brings the heading of its section.
    if new.iter().any(|t| streams::is_stream(t))
        && m.traces
            .view
            .binary_search_by(|t| streams::by_id(t, streams::HEADING))
            .is_err()
    {
        new.push(streams::HEADING.into());
    }
    new.sort_by(|a, b| streams::by_id(a, b));
    let old = std::mem::take(&mut m.traces.view);
    let mut merged = Vec::with_capacity(old.len() + new.len());
    let (mut a, mut b) = (old.into_iter().peekable(), new.into_iter().peekable());
    loop {
        let take_old = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => streams::by_id(x, y).is_le(),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_old { a.next() } else { b.next() };
        merged.extend(next);
    }
    m.traces.view = merged;
    if let Some(p) = m.traces.selected.as_ref().and_then(|sel| {
        m.traces
            .view
            .binary_search_by(|t| streams::by_id(t, sel))
            .ok()
    }) {
        m.traces.list.cursor = p;
    }
    m.traces
        .list
        .fit(m.traces.view.len(), traces_height(m.size));
    if m.traces.selected.is_none() {
        m.traces.list.cursor = streams::selectable(&m.traces.view, m.traces.list.cursor, 1);
        m.traces.selected = m.traces.view.get(m.traces.list.cursor).cloned();
        select_trace(m, fx);
    }
    m.dirty = true;
}

/// Shows the keys of the selected trace (a different trace starts at the top).
pub fn select_trace(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.keys.trace != m.traces.selected {
        m.keys.trace = m.traces.selected.clone();
        m.keys.list = Default::default();
        m.keys.selected = None;
        m.keys.anchor = None;
        m.keys.collapsed.clear();
        m.keys.auto_fold = true;
        // A filter typed for one trace's keys would hide another's without a word: both
        // filters go with the trace they were set on, and the status bar says so.
        let name = !m.keys.filter.is_empty();
        m.keys.filter.clear();
        if m.mode == Mode::Filter(Pane::Keys) {
            m.mode = Mode::Normal;
        }
        let noun = m.settings.group_noun();
        let cleared = match (name, m.keys.where_filter.take().is_some()) {
            (true, true) => "key filter and value filter (:where)",
            (true, false) => "key filter",
            (false, true) => "value filter (:where)",
            (false, false) => "",
        };
        if !cleared.is_empty() {
            note(m, format!("{cleared} cleared: another {noun}"), false);
        }
    }
    rebuild_keys(m, fx);
    request_visible(m, fx);
    crate::browser::update::timeline::follow_selection(m, fx);
    crate::browser::update::history::follow_selection(m);
}

/// Removes keys that have been marked missing for the grace period.
pub fn remove_gone(m: &mut Model, fx: &mut Vec<Effect>) {
    let now = m.now();
    let expired: Vec<String> = m
        .meta
        .iter()
        .filter(|(_, e)| {
            e.gone_since
                .is_some_and(|t| now.saturating_duration_since(t) >= GONE_GRACE)
        })
        .map(|(k, _)| k.clone())
        .collect();
    if expired.is_empty() {
        return;
    }
    forget(m, &expired, fx);
}

/// Keys that no longer exist (removed, or seen missing) leave the index and the lists at once.
pub fn forget(m: &mut Model, full_keys: &[String], fx: &mut Vec<Effect>) {
    for full in full_keys {
        m.meta.remove(full);
        if let Some((trace, key)) = split_shown(&m.keyspace, full) {
            let (trace, key) = (trace.to_string(), key.to_string());
            m.index.remove(&trace, &key);
        }
    }
    rebuild_traces(m, fx, true);
}

/// Entries of the group hash from the scan `generation`: the flows' names and start times.
pub fn groups(
    m: &mut Model,
    generation: u64,
    entries: Vec<GroupEntry>,
    done: bool,
    error: Option<String>,
    fx: &mut Vec<Effect>,
) {
    if generation != m.scan.generation {
        return;
    }
    let had_records = m.index.has_records();
    for e in entries {
        // Named as the index names the state's traces, so records and state join exactly.
        let id = motia_state::escape::name_owned(e.trace_id_bytes);
        let info = m.index.flows.entry(id.into()).or_default();
        info.generation = generation;
        match e.group {
            Ok(g) => {
                info.flow = Some(g.name);
                info.start_time = g.start_time.or(info.start_time);
                info.group_status = g.status;
                info.group_unreadable = None;
            }
            Err(u) => info.group_unreadable = Some(u.reason),
        }
    }
    if done {
        // Flows the group hash no longer lists are gone (expired or trimmed).
        m.index.flows.retain(|_, i| i.generation >= generation);
    }
    if let Some(e) = error {
        note(m, format!("reading the trace records failed: {e}"), true);
    }
    if !had_records && m.index.has_records() && !m.traces.sort_chosen {
        // Records found: newest first, from the top, unless the user moved already.
        m.traces.sort = TraceSort::Newest;
        if m.traces.list.cursor == 0 {
            m.traces.selected = None;
        }
        m.traces.list.cursor = 0;
    }
    if m.traces.sort == TraceSort::Status || m.traces.status_filter.is_some() {
        request_all(m, fx);
    }
    rebuild_traces(m, fx, false);
}

/// Step summaries arrived.
pub fn summaries(
    m: &mut Model,
    rows: Vec<(String, StepsSummary)>,
    error: Option<String>,
    fx: &mut Vec<Effect>,
) {
    let mut reorder = false;
    for (id, s) in rows {
        let Some(info) = m.index.flows.get_mut(id.as_str()) else {
            continue;
        };
        info.requested = false;
        if info.flow.is_none() {
            info.flow = s.first_step.clone();
        }
        if info.start_time.is_none() {
            info.start_time = s.start_time;
            reorder = true;
        }
        if info.steps.as_ref().map(|o| o.status) != Some(s.status) {
            reorder = true;
        }
        info.steps = Some(s);
    }
    if let Some(e) = error {
        for info in m.index.flows.values_mut() {
            info.requested = false;
        }
        note(m, format!("reading trace records failed: {e}"), true);
    }
    let by_status = m.traces.sort == TraceSort::Status || m.traces.status_filter.is_some();
    if reorder && (by_status || m.traces.sort == TraceSort::Newest) {
        // Many batches may follow: the list is rebuilt on the next tick, not per batch.
        m.traces.stale = true;
    }
    let _ = fx;
    m.dirty = true;
}

fn send_summaries(m: &mut Model, ids: Vec<String>, fx: &mut Vec<Effect>) {
    if ids.is_empty() {
        return;
    }
    for id in &ids {
        if let Some(info) = m.index.flows.get_mut(id.as_str()) {
            info.requested = true;
        }
    }
    fx.push(Effect::Worker(WorkerCmd::TraceSummaries { ids }));
}

/// Trace ids of the rows on screen and the selected trace.
fn visible_ids(m: &Model) -> Vec<&str> {
    let h = traces_height(m.size);
    let start = m.traces.list.offset.min(m.traces.view.len());
    let end = (start + h).min(m.traces.view.len());
    let mut ids: Vec<&str> = m.traces.view[start..end].iter().map(|t| &**t).collect();
    if let Some(sel) = m.traces.selected.as_deref()
        && !ids.contains(&sel)
    {
        ids.push(sel);
    }
    ids
}

/// Step records are read only for the rows on screen and the selected trace.
pub fn request_visible(m: &mut Model, fx: &mut Vec<Effect>) {
    if !m.index.has_records() {
        return;
    }
    let ids: Vec<String> = visible_ids(m)
        .into_iter()
        .filter(|t| {
            m.index
                .flows
                .get(*t)
                .is_some_and(|i| i.steps.is_none() && !i.requested)
        })
        .map(str::to_string)
        .collect();
    send_summaries(m, ids, fx);
}

/// The statuses on screen are read again (flows move on while we look).
pub fn refresh_visible(m: &mut Model, fx: &mut Vec<Effect>) {
    if !m.index.has_records() {
        return;
    }
    let ids: Vec<String> = visible_ids(m)
        .into_iter()
        .filter(|t| m.index.flows.get(*t).is_some_and(|i| !i.requested))
        .map(str::to_string)
        .collect();
    send_summaries(m, ids, fx);
}

/// Trace records of `flows` were written: the statuses of those on screen are read again
/// (one already being read is not asked twice). A flow not listed yet is a new one: it is
/// listed at once and its steps are read for its name, start and status (its group entry
/// comes with the next scan).
pub fn reread_flows(m: &mut Model, flows: &[String], fx: &mut Vec<Effect>) {
    let generation = m.scan.generation;
    let mut new: Vec<&str> = Vec::new();
    for f in flows {
        if !m.index.flows.contains_key(f.as_str()) {
            let info = FlowInfo {
                generation,
                ..FlowInfo::default()
            };
            m.index.flows.insert(f.as_str().into(), info);
            new.push(f);
        }
    }
    if !new.is_empty() {
        rebuild_traces(m, fx, false);
    }
    let visible = visible_ids(m);
    let ids: Vec<String> = flows
        .iter()
        .filter(|f| visible.contains(&f.as_str()) || new.contains(&f.as_str()))
        .filter(|f| m.index.flows.get(f.as_str()).is_some_and(|i| !i.requested))
        .cloned()
        .collect();
    send_summaries(m, ids, fx);
}

/// Sorting or filtering by status needs every flow's status: read those not known yet.
pub fn request_all(m: &mut Model, fx: &mut Vec<Effect>) {
    let ids: Vec<String> = m
        .index
        .flows
        .iter()
        .filter(|(_, i)| i.steps.is_none() && !i.requested)
        .map(|(t, _)| t.to_string())
        .collect();
    send_summaries(m, ids, fx);
}

/// `:status failed|running|completed|unknown|all`.
pub fn set_status_filter(m: &mut Model, status: Option<FlowStatus>, fx: &mut Vec<Effect>) {
    if status.is_some() && !m.index.has_records() {
        note(
            m,
            "no trace records here: statuses come from Motia's trace records",
            false,
        );
        return;
    }
    m.traces.status_filter = status;
    m.traces.list.cursor = 0;
    if status.is_some() {
        request_all(m, fx);
    }
    rebuild_traces(m, fx, true);
}

/// Selects `key` of trace `group` in the Keys pane, or says it no longer exists.
pub fn jump(m: &mut Model, group: &str, key: &str, fx: &mut Vec<Effect>) {
    let exists = m
        .index
        .traces
        .get(group)
        .is_some_and(|keys| keys.contains(key));
    if !exists {
        return note(
            m,
            format!("{key} no longer exists in trace {group} (deleted, cleared or expired)"),
            false,
        );
    }
    m.timeline = None;
    m.history = None;
    m.traces.selected = Some(group.into());
    rebuild_traces(m, fx, true);
    if m.traces.selected.as_deref() != Some(group) {
        // Hidden by a filter: show every trace again.
        m.traces.filter.clear();
        m.traces.status_filter = None;
        m.traces.selected = Some(group.into());
        rebuild_traces(m, fx, true);
    }
    m.keys.filter.clear();
    m.keys.collapsed.clear();
    m.keys.auto_fold = false;
    m.keys.where_filter = None;
    m.keys.selected = Some(Selected::Key(key.to_string()));
    rebuild_keys(m, fx);
    m.focus = Pane::Keys;
}
