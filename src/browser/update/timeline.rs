//! The timeline: opening it on the selected trace, following the selection, its list, and the
//! jump from a state event to its key.

use motia_state::adapter::traces::{EventKind, Timeline};

use crate::browser::action::{Effect, TraceRead, WorkerCmd};
use crate::browser::keymap::Command;
use crate::browser::model::layout::keys_height;
use crate::browser::model::timeline::{TimelineView, TlLine};
use crate::browser::model::{Model, Pane};
use crate::browser::update::{list, note};

/// `T` / `:timeline`: opens the selected trace's timeline, or closes it.
pub fn toggle(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.timeline.is_some() {
        m.timeline = None;
        return;
    }
    let Some(trace) = m.traces.selected.clone() else {
        {
            let noun = m.settings.group_noun();
            return note(m, format!("select a {noun} first"), false);
        }
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

/// What the timeline made of a key.
pub enum Took {
    /// Not a timeline key: the panes take it.
    No,
    Yes,
    /// Enter on a state event: its key (trace, key) is to be shown in the panes, which the
    /// traces' update does (the timeline stays below the panes it stands in for).
    Jump(String, String),
}

/// Keys while the timeline is shown.
pub fn command(m: &mut Model, cmd: Command) -> Took {
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
            return Took::Yes;
        }
        Command::Open if m.focus == Pane::Keys => {
            return match open(m) {
                Some((group, key)) => Took::Jump(group, key),
                None => Took::Yes,
            };
        }
        Command::Open if m.focus == Pane::Value => return Took::Yes,
        _ => return Took::No,
    };
    let Some(view) = m.timeline.as_mut() else {
        return Took::No;
    };
    let len = view.lines.len();
    let focus = m.focus;
    let moved = list::list_and_detail(
        focus,
        &mut view.list,
        len,
        &mut view.detail_scroll,
        delta,
        h as usize,
    );
    if moved { Took::Yes } else { Took::No }
}

/// Enter: opens a step's attempts or events; on a state event, the key to jump to.
fn open(m: &mut Model) -> Option<(String, String)> {
    let h = keys_height(m.size);
    let view = m.timeline.as_mut()?;
    let records = view.records.clone()?;
    let line = view.cursor_line()?;
    let toggle = |set: &mut std::collections::HashSet<String>, id: &str| {
        if !set.remove(id) {
            set.insert(id.to_string());
        }
    };
    match line {
        TlLine::Row(r) => {
            let row = view.timeline.rows.get(r)?;
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
                return Some((group, key));
            }
            return None;
        }
    }
    view.build_lines();
    view.list.fit(view.lines.len(), h);
    None
}
