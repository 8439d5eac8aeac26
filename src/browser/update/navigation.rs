//! Moving between and within the panes.

use crate::browser::action::Effect;
use crate::browser::model::keys::RowKind;
use crate::browser::model::layout::{keys_height, traces_height, value_height};
use crate::browser::model::streams;
use crate::browser::model::{Model, Pane};
use crate::browser::update::{editor, keys, note, traces, value};

/// The pane to the left, if there is one.
pub fn left(m: &mut Model) {
    if m.focus != Pane::Traces {
        m.focus = m.focus.prev();
    }
}

/// The pane to the right, if there is one.
pub fn right(m: &mut Model) {
    if m.focus != Pane::Value {
        m.focus = m.focus.next();
    }
}

/// A page down (`dir` 1) or up (`dir` -1) in the focused pane.
pub fn page_by(m: &mut Model, dir: isize, fx: &mut Vec<Effect>) {
    let h = page(m) as isize;
    move_by(m, dir * h, fx)
}

fn page(m: &Model) -> usize {
    match m.focus {
        Pane::Traces => traces_height(m.size),
        Pane::Keys => keys_height(m.size),
        Pane::Value => value_height(m.size),
    }
    .max(1)
}

fn step(pos: usize, delta: isize, len: usize) -> usize {
    let max = len.saturating_sub(1) as isize;
    (pos as isize).saturating_add(delta).clamp(0, max.max(0)) as usize
}

pub fn move_by(m: &mut Model, delta: isize, fx: &mut Vec<Effect>) {
    match m.focus {
        Pane::Traces => {
            if m.traces.view.is_empty() {
                return;
            }
            let at = step(m.traces.list.cursor, delta, m.traces.view.len());
            m.traces.list.cursor = streams::selectable(&m.traces.view, at, delta.signum());
            m.traces
                .list
                .fit(m.traces.view.len(), traces_height(m.size));
            let sel = m.traces.view.get(m.traces.list.cursor).cloned();
            m.traces.anchor = sel.clone();
            m.traces.selected = sel;
            traces::select_trace(m, fx);
        }
        Pane::Keys => {
            if m.keys.rows.is_empty() {
                return;
            }
            m.keys.list.cursor = step(m.keys.list.cursor, delta, m.keys.rows.len());
            keys::after_key_move(m, fx);
            m.keys.anchor = m.keys.selected.clone();
        }
        Pane::Value => {
            let diff = m.value.show_diff && m.value.diff.is_some();
            if m.wrap && !diff {
                return value::scroll_wrapped(m, delta);
            }
            m.value.scroll_row = 0;
            let lines = match (&m.value.diff, m.value.show_diff) {
                (Some(d), true) => d.len(),
                _ => m.value.doc.as_ref().map_or(0, |d| d.line_count()),
            };
            let max = lines.saturating_sub(value_height(m.size).saturating_sub(1));
            m.value.scroll = step(m.value.scroll, delta, max + 1);
        }
    }
}

pub fn open(m: &mut Model, fx: &mut Vec<Effect>) {
    match m.focus {
        Pane::Traces => {
            if m.traces.selected.is_some() {
                m.focus = Pane::Keys;
            }
        }
        Pane::Keys => {
            let Some(row) = m.keys.rows.get(m.keys.list.cursor) else {
                return;
            };
            match &row.kind {
                RowKind::Folder { path, .. } => {
                    let path = path.clone();
                    if !m.keys.filter.is_empty() {
                        note(m, "folders stay open while a filter is set", false);
                    } else if !m.keys.collapsed.remove(&path) {
                        m.keys.collapsed.insert(path);
                    }
                    m.keys.auto_fold = false;
                    keys::rebuild_keys(m, fx);
                }
                RowKind::Key { .. } => {
                    m.focus = Pane::Value;
                    if m.value.due.is_some() {
                        value::issue_value_load(m, fx);
                    }
                }
            }
        }
        Pane::Value => {
            editor::open(m, false, fx);
        }
    }
}

pub fn fit_all(m: &mut Model) {
    m.traces
        .list
        .fit(m.traces.view.len(), traces_height(m.size));
    m.keys.list.fit(m.keys.rows.len(), keys_height(m.size));
}
