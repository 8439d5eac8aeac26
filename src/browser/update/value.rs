//! The Value pane: which key it shows, loading it (debounced, latest wins), refreshing it,
//! copying it.

use std::sync::Arc;
use std::time::Duration;

use crate::browser::action::{Effect, WorkerCmd};
use crate::browser::clipboard::MAX_COPY_BYTES;
use crate::browser::doc::{ValueDoc, WINDOW};
use crate::browser::format::human_bytes;
use crate::browser::keymap::Command;
use crate::browser::model::layout::{value_height, value_width};
use crate::browser::model::value::ValuePane;
use crate::browser::model::{ConnState, Model};
use crate::browser::text;
use crate::browser::update::meta::request_meta;
use crate::browser::update::note;
use crate::diff;

/// Moving the key selection loads the value this long after the last move (latest wins).
pub const DEBOUNCE: Duration = Duration::from_millis(80);
/// Fully loaded values bigger than this are not re-read by the periodic refresh.
const REFRESH_FULL_LIMIT: u64 = 4 * 1024 * 1024;
/// Values bigger than this are not compared line by line (the comparison runs in `update`).
const DIFF_LIMIT: usize = 256 * 1024;

/// `L`: reads the whole value instead of its first window.
pub fn load_all(m: &mut Model, fx: &mut Vec<Effect>) {
    match &m.value.doc {
        Some(doc) if !doc.complete() => {
            m.value.want_full = true;
            m.value.due = Some(m.now());
            issue_value_load(m, fx);
        }
        Some(_) => note(m, "the whole value is already shown", false),
        None => {}
    }
}

/// `<` / `>`: long lines of the value, a third of the pane at a time; right only while a line
/// on screen goes on past the edge.
pub fn scroll_sideways(m: &mut Model, right: bool) {
    if m.wrap {
        return note(
            m,
            "long lines wrap (w turns it off): nothing to scroll",
            false,
        );
    }
    let width = value_width(m.size, m.focus);
    let step = (width / 3).max(1);
    if !right {
        m.value.hscroll = m.value.hscroll.saturating_sub(step);
        return;
    }
    let Some(doc) = &m.value.doc else {
        return;
    };
    let first = m.value.scroll;
    let last = (first + value_height(m.size)).min(doc.line_count());
    let edge = m.value.hscroll + width;
    let more = (first..last).any(|i| {
        let line = doc.line(i);
        text::cut(line, edge).0.len() < line.len()
    });
    if more {
        m.value.hscroll += step;
    }
}

/// A value the worker read; answers to any other request are stale and dropped.
pub fn loaded(
    m: &mut Model,
    id: u64,
    full_key: String,
    result: Result<Option<Arc<ValueDoc>>, String>,
    fx: &mut Vec<Effect>,
) {
    if m.value.request != Some(id) || m.value.full_key.as_deref() != Some(&full_key) {
        return;
    }
    m.value.request = None;
    m.value.want_full = false;
    match result {
        Ok(Some(doc)) => {
            m.value.gone = false;
            m.value.error = None;
            let same = m
                .value
                .doc
                .as_ref()
                .is_some_and(|d| d.raw_hash == doc.raw_hash && d.total_len == doc.total_len);
            if !same {
                let lines = doc.line_count();
                // A new version, not more of the same one (`L`).
                if let Some(old) = m.value.doc.take_if(|old| old.complete() == doc.complete()) {
                    value_changed(m, old, &doc);
                }
                m.value.doc = Some(doc);
                m.value.scroll = m.value.scroll.min(lines.saturating_sub(1));
                m.value.scroll_row = 0;
            }
            if let Some(e) = m.meta.get_mut(&full_key) {
                e.gone_since = None;
            }
        }
        Ok(None) => {
            m.value.gone = true;
            let now = m.now();
            if let Some(e) = m.meta.get_mut(&full_key) {
                e.gone_since.get_or_insert(now);
            }
        }
        Err(e) => m.value.error = Some(e),
    }
    if std::mem::take(&mut m.value.copy_pending) {
        match (&m.value.doc, &m.value.error) {
            (_, Some(e)) => {
                let text = format!("nothing copied: reading the value failed: {e}");
                note(m, text, true)
            }
            (Some(_), None) if !m.value.gone => copy(m, fx),
            _ => note(m, "nothing copied: the key no longer exists", true),
        }
    }
}

/// Points the value pane at a key; the load goes out after the debounce.
pub fn set_value_target(m: &mut Model, full_key: Option<String>) {
    if m.value.full_key == full_key {
        return;
    }
    let due = full_key.as_ref().map(|_| m.now() + DEBOUNCE);
    m.value = ValuePane {
        full_key,
        due,
        ..ValuePane::default()
    };
}

pub fn issue_value_load(m: &mut Model, fx: &mut Vec<Effect>) {
    let Some(key) = m.value.full_key.clone() else {
        m.value.due = None;
        return;
    };
    if m.conn != ConnState::Connected {
        return;
    }
    m.next_request += 1;
    m.value.request = Some(m.next_request);
    m.value.due = None;
    let max = if m.value.want_full {
        None
    } else {
        Some(WINDOW)
    };
    fx.push(Effect::Worker(WorkerCmd::LoadValue {
        id: m.next_request,
        full_key: key,
        max,
    }));
}

/// Reads the shown value again now (after a write), whole when it was whole before.
pub fn reload_value(m: &mut Model, fx: &mut Vec<Effect>) {
    m.value.want_full = m.value.doc.as_ref().is_some_and(|d| d.complete());
    m.value.due = Some(m.now());
    issue_value_load(m, fx);
}

/// Re-reads what is on screen: the visible rows' metadata and the open value.
pub fn refresh(m: &mut Model, fx: &mut Vec<Effect>) {
    request_meta(m, fx, true);
    let Some(doc) = &m.value.doc else {
        return;
    };
    if m.value.request.is_some() || m.value.due.is_some() {
        return;
    }
    let full = doc.complete() && doc.total_len > WINDOW as u64;
    if full && doc.total_len > REFRESH_FULL_LIMIT {
        return;
    }
    m.value.want_full = full;
    m.value.due = Some(m.now());
    issue_value_load(m, fx);
}

pub fn copy(m: &mut Model, fx: &mut Vec<Effect>) {
    let Some(doc) = m.value.doc.clone() else {
        if m.value.full_key.is_some() {
            // Right after moving the value is on its way: copy it when it arrives.
            m.value.copy_pending = true;
            return note(m, "loading the value; it is copied when it arrives", false);
        }
        return note(m, "select a key first", false);
    };
    let Some(raw) = &doc.raw else {
        return note(
            m,
            format!(
                "only part of the value is loaded: press {} to load all of it, then copy",
                m.keymap.keys_of(Command::LoadAll)
            ),
            true,
        );
    };
    if raw.len() > MAX_COPY_BYTES {
        return note(
            m,
            format!(
                "the value is {}; terminals accept at most {} on the clipboard",
                human_bytes(raw.len() as u64),
                human_bytes(MAX_COPY_BYTES as u64)
            ),
            true,
        );
    }
    note(
        m,
        format!(
            "copied {} of the value to the clipboard (OSC 52)",
            human_bytes(raw.len() as u64)
        ),
        false,
    );
    fx.push(Effect::Copy(String::from_utf8_lossy(raw).into_owned()));
}

/// `]` / `[` on the value's diff with its previous version (`=`): scrolls to the start of the
/// next / previous change.
pub fn jump_to_change(m: &mut Model, forward: bool) {
    let diff = match (&m.value.diff, m.value.show_diff) {
        (Some(d), true) => d.clone(),
        _ => {
            let key = m.keymap.first_key(crate::browser::keymap::Command::Diff);
            return note(
                m,
                format!("] and [ move between the changes of a diff ({key} shows one)"),
                false,
            );
        }
    };
    match diff.next_change(m.value.scroll, forward) {
        Some(at) => {
            m.value.scroll = at;
            m.value.scroll_row = 0;
        }
        None => {
            let which = if forward { "after" } else { "before" };
            note(m, format!("no change {which} this one"), false)
        }
    }
}

/// Moves the wrapped value by `delta` rows (not lines: one line of a large value wraps into
/// thousands), the last row at most at the bottom of the pane.
pub fn scroll_wrapped(m: &mut Model, delta: isize) {
    let Some(doc) = m.value.doc.clone() else {
        return;
    };
    let width = value_width(m.size, m.focus).max(1);
    let count = doc.line_count().max(1);
    let rows = |i: usize| text::wrapped_rows(doc.line(i), width);
    let at = (m.value.scroll.min(count - 1), m.value.scroll_row);
    let at = (at.0, at.1.min(rows(at.0) - 1));
    let to = if delta >= 0 {
        let last_line = count - 1;
        let end = (last_line, rows(last_line) - 1);
        // Like the lines without wrapping: the last one shows above the pane's bottom row.
        let max = rows_back(end, value_height(m.size).saturating_sub(2), &rows);
        let to = rows_forward(at, delta.unsigned_abs(), count, &rows);
        if to > max { max.max(at) } else { to }
    } else {
        rows_back(at, delta.unsigned_abs(), &rows)
    };
    (m.value.scroll, m.value.scroll_row) = to;
}

/// `n` rows down from (line, row), stopping at the last row.
fn rows_forward(
    (mut line, mut row): (usize, usize),
    mut n: usize,
    count: usize,
    rows: &impl Fn(usize) -> usize,
) -> (usize, usize) {
    loop {
        let here = rows(line);
        if row + n < here {
            return (line, row + n);
        }
        if line + 1 >= count {
            return (line, here - 1);
        }
        n -= here - row;
        line += 1;
        row = 0;
    }
}

/// `n` rows up from (line, row), stopping at the first.
fn rows_back(
    (mut line, mut row): (usize, usize),
    mut n: usize,
    rows: &impl Fn(usize) -> usize,
) -> (usize, usize) {
    loop {
        if row >= n {
            return (line, row - n);
        }
        if line == 0 {
            return (0, 0);
        }
        n -= row + 1;
        line -= 1;
        row = rows(line) - 1;
    }
}

/// A new version of the open value replaced `old`: remember it for `=`, mark changed lines.
pub fn value_changed(m: &mut Model, old: Arc<ValueDoc>, new: &ValueDoc) {
    let (diff, lines) = match (&old.raw, &new.raw) {
        (Some(a), Some(b)) if a.len() <= DIFF_LIMIT && b.len() <= DIFF_LIMIT => {
            let d = diff::values(a, b);
            let changed = d.changed_in_new();
            (Some(Arc::new(d)), changed)
        }
        _ => (None, Vec::new()),
    };
    m.value.previous = Some(old);
    m.value.diff = diff;
    m.value.changed_lines = lines;
    m.value.changed_at = Some(m.now());
}
