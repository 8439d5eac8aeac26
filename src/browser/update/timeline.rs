//! The timeline: opening it on the selected trace, following the selection, its list, and the
//! jump from a state event to its key.

use motia_state::adapter::traces::{EventKind, Timeline};

use crate::browser::action::{Effect, TraceRead, WorkerCmd};
use crate::browser::keymap::Command;
use crate::browser::model::keys::Selected;
use crate::browser::model::layout::keys_height;
use crate::browser::model::timeline::{TimelineView, TlLine};
use crate::browser::model::{Model, Pane};
use crate::browser::update::keys::rebuild_keys;
use crate::browser::update::traces::rebuild_traces;
use crate::browser::update::{navigation, note};

/// `T` / `:timeline`: opens the selected trace's timeline, or closes it.
pub fn toggle(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.timeline.is_some() {
        m.timeline = None;
        return;
    }
    let Some(trace) = m.traces.selected.clone() else {
        return note(m, "select a trace first", false);
    };
    m.history = None;
    m.timeline = Some(TimelineView::new(&trace));
    if m.focus == Pane::Traces || m.focus == Pane::Value {
        m.focus = Pane::Keys;
    }
    request(m, fx);
}

fn request(m: &mut Model, fx: &mut Vec<Effect>) {
    m.next_request += 1;
    let id = m.next_request;
    let Some(view) = m.timeline.as_mut() else {
        return;
    };
    view.request = Some(id);
    fx.push(Effect::Worker(WorkerCmd::TraceRecords {
        key: None,
        id,
        trace: view.trace.to_string(),
        full_key: None,
    }));
}

/// The timeline follows the selected trace.
pub fn follow_selection(m: &mut Model, fx: &mut Vec<Effect>) {
    let Some(view) = &m.timeline else { return };
    match m.traces.selected.clone() {
        Some(t) if *t != *view.trace => {
            m.timeline = Some(TimelineView::new(&t));
            request(m, fx);
        }
        _ => {}
    }
}

/// Re-reads the records (with the value refresh), keeping what is open.
pub fn refresh(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.timeline.as_ref().is_some_and(|v| v.request.is_none()) {
        request(m, fx);
    }
}

/// True when `id` is the timeline's read.
pub fn owns(m: &Model, id: u64) -> bool {
    m.timeline.as_ref().is_some_and(|v| v.request == Some(id))
}

pub fn loaded(m: &mut Model, result: Result<TraceRead, String>) {
    let h = keys_height(m.size);
    let Some(view) = m.timeline.as_mut() else {
        return;
    };
    view.request = None;
    match result {
        Ok(read) => {
            view.error = None;
            view.timeline = Timeline::new(&read.records, &read.dead_letters);
            view.records = Some(read.records);
            view.build_lines();
            view.list.fit(view.lines.len(), h);
        }
        Err(e) => view.error = Some(e),
    }
    m.dirty = true;
}

/// Keys while the timeline is shown; false for those it leaves to the panes.
pub fn command(m: &mut Model, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    let h = keys_height(m.size).max(1) as isize;
    let delta = match cmd {
        Command::Down => 1,
        Command::Up => -1,
        Command::PageDown => h,
        Command::PageUp => -h,
        Command::Top => isize::MIN / 2,
        Command::Bottom => isize::MAX / 2,
        Command::Back | Command::Timeline => {
            m.timeline = None;
            return true;
        }
        Command::Open if m.focus == Pane::Keys => {
            open(m, fx);
            return true;
        }
        Command::Open if m.focus == Pane::Value => return true,
        _ => return false,
    };
    let Some(view) = m.timeline.as_mut() else {
        return false;
    };
    let len = view.lines.len();
    navigation::list_and_detail(
        m.focus,
        &mut view.list,
        len,
        &mut view.detail_scroll,
        delta,
        h as usize,
    )
}

/// Enter: opens a step's attempts or events, or jumps from a state event to its key.
fn open(m: &mut Model, fx: &mut Vec<Effect>) {
    let h = keys_height(m.size);
    let Some(view) = m.timeline.as_mut() else {
        return;
    };
    let Some(records) = view.records.clone() else {
        return;
    };
    let Some(line) = view.cursor_line() else {
        return;
    };
    let toggle = |set: &mut std::collections::HashSet<String>, id: &str| {
        if !set.remove(id) {
            set.insert(id.to_string());
        }
    };
    match line {
        TlLine::Row(r) => {
            let Some(row) = view.timeline.rows.get(r) else {
                return;
            };
            let first = records.steps[row.attempts[0]].id.clone();
            if row.attempts.len() > 1 {
                toggle(&mut view.open_rows, &first);
            } else {
                toggle(&mut view.open_steps, &first);
            }
        }
        TlLine::Attempt { step, .. } => {
            let id = records.steps[step].id.clone();
            toggle(&mut view.open_steps, &id);
        }
        TlLine::Event { step, event } => {
            let ev = &records.steps[step].events[event];
            if let EventKind::State {
                group: Some(group),
                key: Some(key),
                ..
            } = &ev.kind
            {
                // The index names traces and keys escaped (see `escape::name`). A trace id
                // that is not UTF-8 can be named in JSON only lossily: that is this trace.
                let own = motia_state::escape::unescape_name(&view.trace);
                let group = if std::str::from_utf8(&own).is_err()
                    && String::from_utf8_lossy(&own) == group.as_str()
                {
                    view.trace.to_string()
                } else {
                    motia_state::escape::name_str(group).into_owned()
                };
                let key = motia_state::escape::name_str(key).into_owned();
                return jump(m, &group, &key, fx);
            }
            return;
        }
    }
    view.build_lines();
    view.list.fit(view.lines.len(), h);
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
