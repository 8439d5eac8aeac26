//! A key's history: opening it on the selected key, its list, versions and `=` diffs.

use crate::browser::action::{BuiltDiff, Effect, TraceRead, WorkerCmd};
use crate::browser::keymap::Command;
use crate::browser::model::history::{Detail, DiffMode, HistoryView};
use crate::browser::model::layout::{keys_height, value_height};
use crate::browser::model::{Model, Pane};
use crate::browser::update::{list, note};

/// `H` / `:history`: the history of the selected key, or closes it.
pub fn toggle(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.history.is_some() {
        m.history = None;
        return;
    }
    let (Some(trace), Some(key)) = (m.keys.trace.clone(), m.cursor_key().map(str::to_string))
    else {
        return note(m, "select a key first (H shows its history)", false);
    };
    let Some(full) = m.full_key(&key) else { return };
    m.timeline = None;
    m.history = Some(HistoryView::new(&trace, &key, &full));
    if m.focus != Pane::Keys {
        m.focus = Pane::Keys;
    }
    request(m, fx);
}

/// `:history reads`: reads shown or not.
pub fn toggle_reads(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.history.is_none() {
        toggle(m, fx);
    }
    let h = keys_height(m.size);
    if let Some(v) = m.history.as_mut() {
        v.reads = !v.reads;
        v.build();
        v.list.cursor = v.list.cursor.min(v.entries.len().saturating_sub(1));
        v.list.fit(v.entries.len(), h);
    }
    rebuild_detail(m, fx);
}

/// What the Value pane shows for the cursor's entry; a diff is asked of the worker.
fn rebuild_detail(m: &mut Model, fx: &mut Vec<Effect>) {
    let Some(v) = m.history.as_mut() else { return };
    if let Some((old, new)) = v.build_detail() {
        m.next_request += 1;
        let id = m.next_request;
        v.diff_request = Some(id);
        fx.push(Effect::Worker(WorkerCmd::HistoryDiff { id, old, new }));
    }
}

/// The worker's diff: shown if it is still the one asked for, else dropped.
pub fn diff_built(m: &mut Model, id: u64, result: Result<BuiltDiff, String>) {
    let body_h = value_height(m.size);
    let Some(v) = m.history.as_mut().filter(|v| v.diff_request == Some(id)) else {
        return;
    };
    match result {
        Ok(diff) => {
            v.diff_built(id, diff);
            v.detail_scroll = v.detail_scroll.min(max_scroll(v, body_h));
        }
        Err(e) => {
            v.diff_request = None;
            note(m, e, true);
        }
    }
    m.dirty = true;
}

fn request(m: &mut Model, fx: &mut Vec<Effect>) {
    m.next_request += 1;
    let id = m.next_request;
    let Some(view) = m.history.as_mut() else {
        return;
    };
    view.request = Some(id);
    fx.push(Effect::Worker(WorkerCmd::TraceRecords {
        id,
        trace: view.trace.to_string(),
        key: Some(view.key.clone()),
        full_key: Some(view.full_key.clone()),
    }));
}

/// Another trace selected: the history of a key of the old one closes.
pub fn follow_selection(m: &mut Model) {
    if let Some(v) = &m.history
        && m.traces.selected.as_deref() != Some(&*v.trace)
    {
        m.history = None;
    }
}

pub fn refresh(m: &mut Model, fx: &mut Vec<Effect>) {
    // A search of every flow's records is not repeated with each refresh (reopening does it).
    if m.history
        .as_ref()
        .is_some_and(|v| v.request.is_none() && v.search.is_none())
    {
        request(m, fx);
    }
}

/// A search of every flow's records went on.
pub fn searching(m: &mut Model, id: u64, done: usize, total: usize) {
    if let Some(v) = m.history.as_mut().filter(|v| v.request == Some(id)) {
        v.progress = Some((done, total));
        m.dirty = true;
    }
}

pub fn owns(m: &Model, id: u64) -> bool {
    m.history.as_ref().is_some_and(|v| v.request == Some(id))
}

pub fn loaded(m: &mut Model, result: Result<TraceRead, String>, fx: &mut Vec<Effect>) {
    let h = keys_height(m.size);
    let Some(view) = m.history.as_mut() else {
        return;
    };
    view.request = None;
    match result {
        Ok(read) => {
            let first = !view.loaded;
            view.error = None;
            view.search = read.search;
            view.progress = None;
            // A refresh that changes nothing keeps what the Value pane shows, or the diff the
            // worker is building: rebuilding megabytes each time would only flicker, and a diff
            // slower than the refresh would never be shown.
            let before = (view.entries.clone(), view.current.clone());
            view.take_history(read.history, read.current);
            let same = !first && before == (view.entries.clone(), view.current.clone());
            if first {
                // Opened on the newest entry.
                view.list.cursor = view.entries.len().saturating_sub(1);
            }
            view.list.cursor = view.list.cursor.min(view.entries.len().saturating_sub(1));
            view.list.fit(view.entries.len(), h);
            if !same {
                rebuild_detail(m, fx);
            }
            let body_h = value_height(m.size);
            if let Some(view) = m.history.as_mut() {
                view.detail_scroll = view.detail_scroll.min(max_scroll(view, body_h));
            }
        }
        Err(e) => view.error = Some(e),
    }
    m.dirty = true;
}

/// Keys while the history is shown; false for those it leaves to the panes.
pub fn command(m: &mut Model, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    let h = keys_height(m.size).max(1) as isize;
    let delta = match cmd {
        Command::Down => 1,
        Command::Up => -1,
        Command::PageDown => h,
        Command::PageUp => -h,
        Command::Top => isize::MIN / 2,
        Command::Bottom => isize::MAX / 2,
        Command::Back | Command::History => {
            m.history = None;
            return true;
        }
        Command::Open => {
            m.focus = Pane::Value;
            return true;
        }
        Command::Diff => {
            if let Some(v) = m.history.as_mut() {
                v.diff = match v.diff {
                    DiffMode::Off => DiffMode::Previous,
                    DiffMode::Previous => DiffMode::Now,
                    DiffMode::Now => DiffMode::Off,
                };
                v.detail_scroll = 0;
            }
            rebuild_detail(m, fx);
            return true;
        }
        Command::NextChange | Command::PrevChange => {
            jump_to_change(m, cmd == Command::NextChange);
            return true;
        }
        _ => return false,
    };
    let body_h = value_height(m.size);
    let Some(view) = m.history.as_mut() else {
        return false;
    };
    let len = view.entries.len();
    let cursor = view.list.cursor;
    let handled = list::list_and_detail(
        m.focus,
        &mut view.list,
        len,
        &mut view.detail_scroll,
        delta,
        h as usize,
    );
    if view.list.cursor != cursor {
        rebuild_detail(m, fx);
    }
    if let Some(view) = m.history.as_mut() {
        view.detail_scroll = view.detail_scroll.min(max_scroll(view, body_h));
    }
    handled
}

/// The furthest the detail scrolls: its last line at the bottom of the pane.
fn max_scroll(v: &HistoryView, value_height: usize) -> usize {
    let Some(d) = &v.detail else { return 0 };
    d.len()
        .saturating_sub(value_height.saturating_sub(v.detail_header()).max(1))
}

/// `]` / `[`: the diff scrolls to the start of the next / previous change.
fn jump_to_change(m: &mut Model, forward: bool) {
    let Some(v) = m.history.as_mut() else { return };
    let Some(Detail::Diff { lines, .. }) = &v.detail else {
        let diff = m.keymap.first_key(Command::Diff);
        return note(
            m,
            format!("{diff} shows a diff; ] and [ move between its changes"),
            false,
        );
    };
    match lines.next_change(v.detail_scroll, forward) {
        Some(at) => v.detail_scroll = at,
        None => {
            let which = if forward { "after" } else { "before" };
            note(m, format!("no change {which} this one"), false)
        }
    }
}
