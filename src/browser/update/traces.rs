//! The trace list: filter, sort, the selected trace.

use crate::browser::action::Effect;
use crate::browser::model::Model;
use crate::browser::model::filter::Matcher;
use crate::browser::model::layout::traces_height;
use crate::browser::model::traces::TraceSort;
use crate::browser::update::keys::rebuild_keys;
use crate::browser::update::meta::GONE_GRACE;
use crate::browser::update::note;

/// The Traces pane's `s`: by id, by key count.
pub fn toggle_sort(m: &mut Model, fx: &mut Vec<Effect>) {
    m.traces.sort = match m.traces.sort {
        TraceSort::Id => TraceSort::KeyCount,
        TraceSort::KeyCount => TraceSort::Id,
    };
    m.traces.list.cursor = 0;
    rebuild_traces(m, fx, true);
}

/// Recomputes the trace list (filter, sort), keeping the selected trace by id.
pub fn rebuild_traces(m: &mut Model, fx: &mut Vec<Effect>, force_keys: bool) {
    let matcher = Matcher::new(&m.traces.filter);
    let mut view: Vec<Box<str>> = m
        .index
        .traces
        .keys()
        .filter(|t| matcher.matches(t))
        .cloned()
        .collect();
    if m.traces.sort == TraceSort::KeyCount {
        let ix = &m.index;
        view.sort_by(|a, b| ix.count(b).cmp(&ix.count(a)).then_with(|| a.cmp(b)));
    } else {
        view.sort_unstable();
    }
    let pos = m
        .traces
        .selected
        .as_ref()
        .and_then(|sel| match m.traces.sort {
            TraceSort::Id => view.binary_search(sel).ok(),
            TraceSort::KeyCount => view.iter().position(|t| t == sel),
        });
    match pos {
        Some(p) => m.traces.list.cursor = p,
        None => m.traces.list.cursor = m.traces.list.cursor.min(view.len().saturating_sub(1)),
    }
    m.traces.view = view;
    m.traces
        .list
        .fit(m.traces.view.len(), traces_height(m.size));
    let sel = m.traces.view.get(m.traces.list.cursor).cloned();
    if sel != m.traces.selected || force_keys {
        m.traces.selected = sel;
        select_trace(m, fx);
    }
    m.dirty = true;
}

/// Adds new trace ids to the id-sorted list by merging (no full rebuild per scan batch).
pub fn merge_traces(m: &mut Model, mut new: Vec<Box<str>>, fx: &mut Vec<Effect>) {
    let matcher = Matcher::new(&m.traces.filter);
    new.retain(|t| matcher.matches(t));
    if new.is_empty() {
        return;
    }
    new.sort();
    let old = std::mem::take(&mut m.traces.view);
    let mut merged = Vec::with_capacity(old.len() + new.len());
    let (mut a, mut b) = (old.into_iter().peekable(), new.into_iter().peekable());
    loop {
        let take_old = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => x <= y,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_old { a.next() } else { b.next() };
        merged.extend(next);
    }
    m.traces.view = merged;
    if let Some(p) = m
        .traces
        .selected
        .as_ref()
        .and_then(|sel| m.traces.view.binary_search(sel).ok())
    {
        m.traces.list.cursor = p;
    }
    m.traces
        .list
        .fit(m.traces.view.len(), traces_height(m.size));
    if m.traces.selected.is_none() {
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
        m.keys.collapsed.clear();
        if m.keys.where_filter.take().is_some() {
            note(m, "value filter (:where) cleared: another trace", false);
        }
    }
    rebuild_keys(m, fx);
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
        if let Some((trace, key)) = m.keyspace.split(full) {
            let (trace, key) = (trace.to_string(), key.to_string());
            m.index.remove(&trace, &key);
        }
    }
    rebuild_traces(m, fx, true);
}
