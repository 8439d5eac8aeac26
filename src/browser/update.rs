//! The only place the model changes. No I/O: what needs doing comes back as effects.

use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use motia_state::Ttl;

use crate::browser::action::{Action, Effect, WorkerCmd, WorkerEvent};
use crate::browser::doc::WINDOW;
use crate::browser::edit;
use crate::browser::keymap::Command;
use crate::browser::model::{
    ConnState, Matcher, MetaEntry, Mode, Model, Note, Overlay, Pane, RowKind, Selected, TraceSort,
    ValuePane, build_rows, natural_key_cmp,
};
use crate::browser::ui;

/// Moving the key selection loads the value this long after the last move (latest wins).
pub const DEBOUNCE: Duration = Duration::from_millis(80);
/// A key seen missing stays on screen, marked, this long before it is removed.
pub const GONE_GRACE: Duration = Duration::from_secs(3);
/// Fully loaded values bigger than this are not re-read by the periodic refresh.
const REFRESH_FULL_LIMIT: u64 = 4 * 1024 * 1024;
/// Metadata kept for at most this many keys; beyond it only what is on screen stays.
const META_CACHE: usize = 20_000;

/// Applies one action; returns what the event loop must do.
pub fn update(m: &mut Model, action: Action) -> Vec<Effect> {
    let mut fx = Vec::new();
    match action {
        Action::Key(k) => {
            if k.kind == KeyEventKind::Press {
                m.keys_handled += 1;
                on_key(m, k, &mut fx);
                m.dirty = true;
            }
        }
        Action::Resize(w, h) => {
            m.size = (w, h);
            fit_all(m);
            request_meta(m, &mut fx, false);
            m.dirty = true;
        }
        Action::Tick => on_tick(m, &mut fx),
        Action::Worker(ev) => on_worker(m, ev, &mut fx),
        Action::ExternalEdited(result) => {
            edit::external_done(m, result, &mut fx);
            m.dirty = true;
        }
    }
    fx
}

pub(crate) fn note(m: &mut Model, text: impl Into<String>, error: bool) {
    m.note = Some(Note {
        text: text.into(),
        error,
    });
}

fn on_key(m: &mut Model, k: KeyEvent, fx: &mut Vec<Effect>) {
    let cmd = m.keymap.command(&k);
    if let Some(Overlay::Help { scroll }) = &mut m.overlay {
        match cmd {
            Some(Command::Back | Command::Help | Command::Quit) => m.overlay = None,
            Some(Command::Down) => *scroll += 1,
            Some(Command::Up) => *scroll = scroll.saturating_sub(1),
            Some(Command::Top) => *scroll = 0,
            _ => {}
        }
        return;
    }
    if m.dialog.is_some() {
        m.note = None;
        edit::dialog_key(m, k, cmd, fx);
        return;
    }
    if m.editor.is_some() {
        edit::editor_key(m, k, cmd, fx);
        return;
    }
    if let Mode::Filter(pane) = m.mode {
        filter_key(m, pane, k, cmd, fx);
        return;
    }
    m.note = None;
    let Some(cmd) = cmd else {
        return;
    };
    if edit::on_command(m, cmd, fx) {
        return;
    }
    match cmd {
        Command::Quit => fx.push(Effect::Quit),
        Command::Back => {
            if !filter_of(m, m.focus).is_empty() {
                set_filter(m, m.focus, String::new(), fx);
            } else if m.focus == Pane::Value {
                m.focus = Pane::Keys;
            }
        }
        Command::NextPane => m.focus = m.focus.next(),
        Command::PrevPane => m.focus = m.focus.prev(),
        Command::PaneLeft if m.focus != Pane::Traces => m.focus = m.focus.prev(),
        Command::PaneRight if m.focus != Pane::Value => m.focus = m.focus.next(),
        Command::Down => move_by(m, 1, fx),
        Command::Up => move_by(m, -1, fx),
        Command::PageDown => {
            let h = page(m) as isize;
            move_by(m, h, fx)
        }
        Command::PageUp => {
            let h = page(m) as isize;
            move_by(m, -h, fx)
        }
        Command::Top => move_by(m, isize::MIN / 2, fx),
        Command::Bottom => move_by(m, isize::MAX / 2, fx),
        Command::Open => open(m, fx),
        Command::Filter => match m.focus {
            Pane::Traces | Pane::Keys => m.mode = Mode::Filter(m.focus),
            Pane::Value => note(m, "filter works on the Traces and Keys panes", false),
        },
        Command::Sort => {
            if m.focus == Pane::Keys {
                edit::cycle_key_sort(m, fx);
            } else if m.focus == Pane::Traces {
                m.traces.sort = match m.traces.sort {
                    TraceSort::Id => TraceSort::KeyCount,
                    TraceSort::KeyCount => TraceSort::Id,
                };
                m.traces.list.cursor = 0;
                rebuild_traces(m, fx, true);
            } else {
                note(m, "sort works on the Traces and Keys panes", false);
            }
        }
        Command::Rescan => start_scan(m, fx),
        Command::LoadAll => match &m.value.doc {
            Some(doc) if !doc.complete() => {
                m.value.want_full = true;
                m.value.due = Some(m.now());
                issue_value_load(m, fx);
            }
            Some(_) => note(m, "the whole value is already shown", false),
            None => {}
        },
        Command::Wrap => m.wrap = !m.wrap,
        Command::Help => m.overlay = Some(Overlay::Help { scroll: 0 }),
        // Handled by edit::on_command.
        _ => {}
    }
}

fn filter_key(m: &mut Model, pane: Pane, k: KeyEvent, cmd: Option<Command>, fx: &mut Vec<Effect>) {
    let mut text = filter_of(m, pane).to_string();
    match k.code {
        KeyCode::Esc => {
            m.mode = Mode::Normal;
            set_filter(m, pane, String::new(), fx);
            return;
        }
        KeyCode::Enter => {
            m.mode = Mode::Normal;
            return;
        }
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Up => return move_by(m, -1, fx),
        KeyCode::Down => return move_by(m, 1, fx),
        KeyCode::Char(c)
            if !k
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            text.push(c)
        }
        _ => {
            if cmd == Some(Command::Quit) {
                fx.push(Effect::Quit);
            }
            return;
        }
    }
    set_filter(m, pane, text, fx);
}

fn filter_of(m: &Model, pane: Pane) -> &str {
    match pane {
        Pane::Traces => &m.traces.filter,
        Pane::Keys => &m.keys.filter,
        Pane::Value => "",
    }
}

fn set_filter(m: &mut Model, pane: Pane, text: String, fx: &mut Vec<Effect>) {
    match pane {
        Pane::Traces => {
            m.traces.filter = text;
            rebuild_traces(m, fx, false);
        }
        Pane::Keys => {
            m.keys.filter = text;
            rebuild_keys(m, fx);
        }
        Pane::Value => {}
    }
}

fn page(m: &Model) -> usize {
    match m.focus {
        Pane::Traces => ui::traces_height(m.size),
        Pane::Keys => ui::keys_height(m.size),
        Pane::Value => ui::value_height(m.size),
    }
    .max(1)
}

fn step(pos: usize, delta: isize, len: usize) -> usize {
    let max = len.saturating_sub(1) as isize;
    (pos as isize).saturating_add(delta).clamp(0, max.max(0)) as usize
}

fn move_by(m: &mut Model, delta: isize, fx: &mut Vec<Effect>) {
    match m.focus {
        Pane::Traces => {
            if m.traces.view.is_empty() {
                return;
            }
            m.traces.list.cursor = step(m.traces.list.cursor, delta, m.traces.view.len());
            m.traces
                .list
                .fit(m.traces.view.len(), ui::traces_height(m.size));
            let sel = m.traces.view.get(m.traces.list.cursor).cloned();
            m.traces.selected = sel;
            select_trace(m, fx);
        }
        Pane::Keys => {
            if m.keys.rows.is_empty() {
                return;
            }
            m.keys.list.cursor = step(m.keys.list.cursor, delta, m.keys.rows.len());
            after_key_move(m, fx);
        }
        Pane::Value => {
            let lines = m.value.doc.as_ref().map_or(0, |d| d.line_count());
            let max = lines.saturating_sub(ui::value_height(m.size).saturating_sub(1));
            m.value.scroll = step(m.value.scroll, delta, max + 1);
        }
    }
}

fn open(m: &mut Model, fx: &mut Vec<Effect>) {
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
                    rebuild_keys(m, fx);
                }
                RowKind::Key { .. } => {
                    m.focus = Pane::Value;
                    if m.value.due.is_some() {
                        issue_value_load(m, fx);
                    }
                }
            }
        }
        Pane::Value => {
            edit::on_command(m, Command::Edit, fx);
        }
    }
}

/// After the key cursor moved: remember the row, scroll, point the value pane at it.
fn after_key_move(m: &mut Model, fx: &mut Vec<Effect>) {
    m.keys.list.fit(m.keys.rows.len(), ui::keys_height(m.size));
    m.keys.selected = m.keys.rows.get(m.keys.list.cursor).map(|r| match &r.kind {
        RowKind::Folder { path, .. } => Selected::Folder(path.clone()),
        RowKind::Key { key } => Selected::Key(key.clone()),
    });
    let target = m.cursor_key().and_then(|k| m.full_key(k));
    set_value_target(m, target);
    request_meta(m, fx, false);
}

/// Points the value pane at a key; the load goes out after the debounce.
fn set_value_target(m: &mut Model, full_key: Option<String>) {
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

fn issue_value_load(m: &mut Model, fx: &mut Vec<Effect>) {
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

/// Asks for the metadata of these keys (after a write changed them, or for a sort).
pub(crate) fn request_meta_keys(m: &mut Model, mut keys: Vec<String>, fx: &mut Vec<Effect>) {
    if m.conn != ConnState::Connected {
        return;
    }
    keys.retain(|k| !m.meta_inflight.contains(k));
    if keys.is_empty() {
        return;
    }
    m.meta_inflight.extend(keys.iter().cloned());
    fx.push(Effect::Worker(WorkerCmd::FetchMeta { keys }));
}

/// Reads the shown value again now (after a write), whole when it was whole before.
pub(crate) fn reload_value(m: &mut Model, fx: &mut Vec<Effect>) {
    m.value.want_full = m.value.doc.as_ref().is_some_and(|d| d.complete());
    m.value.due = Some(m.now());
    issue_value_load(m, fx);
}

/// Asks for the metadata of the rows on screen (and the open value) that lack it, or all of
/// them with `force`.
fn request_meta(m: &mut Model, fx: &mut Vec<Effect>, force: bool) {
    if m.conn != ConnState::Connected {
        return;
    }
    let mut keys = m.visible_keys();
    if let Some(k) = &m.value.full_key
        && !keys.contains(k)
    {
        keys.push(k.clone());
    }
    if m.meta.len() > META_CACHE {
        m.meta.retain(|k, _| keys.contains(k));
    }
    keys.retain(|k| !m.meta_inflight.contains(k) && (force || !m.meta.contains_key(k)));
    if keys.is_empty() {
        return;
    }
    m.meta_inflight.extend(keys.iter().cloned());
    fx.push(Effect::Worker(WorkerCmd::FetchMeta { keys }));
}

pub(crate) fn start_scan(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.conn != ConnState::Connected {
        m.scan.interrupted = true;
        note(
            m,
            "not connected: the scan starts when the server answers",
            false,
        );
        return;
    }
    m.scan.generation += 1;
    m.scan.running = true;
    m.scan.started = Some(m.now());
    m.scan.took = None;
    m.scan.seen = 0;
    m.scan.error = None;
    m.scan.interrupted = false;
    m.scan.had_keys = m.index.total_keys > 0;
    fx.push(Effect::Worker(WorkerCmd::Scan {
        generation: m.scan.generation,
    }));
}

fn fit_all(m: &mut Model) {
    m.traces
        .list
        .fit(m.traces.view.len(), ui::traces_height(m.size));
    m.keys.list.fit(m.keys.rows.len(), ui::keys_height(m.size));
}

/// Recomputes the trace list (filter, sort), keeping the selected trace by id.
pub(crate) fn rebuild_traces(m: &mut Model, fx: &mut Vec<Effect>, force_keys: bool) {
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
        .fit(m.traces.view.len(), ui::traces_height(m.size));
    let sel = m.traces.view.get(m.traces.list.cursor).cloned();
    if sel != m.traces.selected || force_keys {
        m.traces.selected = sel;
        select_trace(m, fx);
    }
    m.dirty = true;
}

/// Adds new trace ids to the id-sorted list by merging (no full rebuild per scan batch).
fn merge_traces(m: &mut Model, mut new: Vec<Box<str>>, fx: &mut Vec<Effect>) {
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
        .fit(m.traces.view.len(), ui::traces_height(m.size));
    if m.traces.selected.is_none() {
        m.traces.selected = m.traces.view.get(m.traces.list.cursor).cloned();
        select_trace(m, fx);
    }
    m.dirty = true;
}

/// Shows the keys of the selected trace (a different trace starts at the top).
fn select_trace(m: &mut Model, fx: &mut Vec<Effect>) {
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

/// Recomputes the key tree of the shown trace, keeping the selected row by identity.
pub(crate) fn rebuild_keys(m: &mut Model, fx: &mut Vec<Effect>) {
    let rows = match m.keys.trace.as_deref().and_then(|t| m.index.traces.get(t)) {
        Some(keys) => {
            let wanted = m.keys.where_filter.as_ref().map(|w| w.matching.as_ref());
            let keep = |k: &&str| match wanted {
                None => true,
                Some(None) => false,
                Some(Some(set)) => set.contains(*k),
            };
            if m.keys.sort == edit::KeySort::Name {
                let mut names: Vec<&str> = keys.keys().map(|k| &**k).filter(keep).collect();
                names.sort_by(|a, b| natural_key_cmp(a, b));
                build_rows(names.into_iter(), &m.keys.filter, &m.keys.collapsed)
            } else {
                let matcher = Matcher::new(&m.keys.filter);
                let list: Vec<&str> = keys
                    .keys()
                    .map(|k| &**k)
                    .filter(keep)
                    .filter(|k| matcher.matches(k))
                    .collect();
                edit::sorted_rows(m, list)
            }
        }
        None => Vec::new(),
    };
    m.keys.rows = rows;
    if let Some(sel) = &m.keys.selected {
        let found = m.keys.rows.iter().position(|r| match (&r.kind, sel) {
            (RowKind::Folder { path, .. }, Selected::Folder(p)) => path == p,
            (RowKind::Key { key }, Selected::Key(k)) => key == k,
            _ => false,
        });
        if let Some(p) = found {
            m.keys.list.cursor = p;
        }
    }
    after_key_move(m, fx);
    m.dirty = true;
}

fn on_tick(m: &mut Model, fx: &mut Vec<Effect>) {
    let now = m.now();
    if m.value.due.is_some_and(|d| d <= now) {
        issue_value_load(m, fx);
    }
    if m.conn == ConnState::Connected {
        if m.next_refresh.is_some_and(|t| t <= now) {
            m.next_refresh = m.settings.refresh.map(|r| now + r);
            refresh(m, fx);
        }
        if m.next_rescan.is_some_and(|t| t <= now) {
            m.next_rescan = m.settings.rescan.map(|r| now + r);
            if !m.scan.running {
                start_scan(m, fx);
            }
        }
    }
    remove_gone(m, fx);
    if edit::expire_toasts(m) {
        m.dirty = true;
    }
    if m.animating() {
        m.dirty = true;
    }
}

/// Re-reads what is on screen: the visible rows' metadata and the open value.
fn refresh(m: &mut Model, fx: &mut Vec<Effect>) {
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

/// Removes keys that have been marked missing for the grace period.
fn remove_gone(m: &mut Model, fx: &mut Vec<Effect>) {
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
    for full in &expired {
        m.meta.remove(full);
        if let Some((trace, key)) = m.keyspace.split(full) {
            let (trace, key) = (trace.to_string(), key.to_string());
            m.index.remove(&trace, &key);
        }
    }
    rebuild_traces(m, fx, true);
}

fn on_worker(m: &mut Model, ev: WorkerEvent, fx: &mut Vec<Effect>) {
    m.dirty = true;
    match ev {
        WorkerEvent::Connecting { attempt, error } => {
            if !matches!(m.conn, ConnState::Lost { .. }) {
                m.conn = ConnState::Connecting { attempt, error };
            }
        }
        WorkerEvent::Connected { version, dbsize } | WorkerEvent::Restored { version, dbsize } => {
            let first = !matches!(m.conn, ConnState::Lost { .. });
            m.conn = ConnState::Connected;
            m.server_version = Some(version);
            m.scan.dbsize = Some(dbsize);
            let now = m.now();
            m.next_refresh = m.settings.refresh.map(|r| now + r);
            m.next_rescan = m.settings.rescan.map(|r| now + r);
            if (first && !m.scan.completed_once && !m.scan.running) || m.scan.interrupted {
                start_scan(m, fx);
            }
            if m.value.full_key.is_some() && m.value.request.is_none() {
                m.value.due = Some(now);
                issue_value_load(m, fx);
            }
            request_meta(m, fx, true);
        }
        WorkerEvent::Lost { reason } => {
            m.conn = ConnState::Lost { reason };
            m.meta_inflight.clear();
            if m.value.request.take().is_some() {
                m.value.due = Some(m.now());
            }
        }
        WorkerEvent::DbSize(n) => m.scan.dbsize = Some(n),
        WorkerEvent::ScanBatch {
            generation,
            keys,
            seen,
        } => {
            if generation != m.scan.generation || !m.scan.running {
                return;
            }
            m.scan.seen = seen;
            let mut touches_selected = false;
            let mut new_traces: Vec<Box<str>> = Vec::new();
            for full in &keys {
                if let Some((trace, key)) = m.keyspace.split(full) {
                    touches_selected |= m.keys.trace.as_deref() == Some(trace);
                    if m.index.insert(trace, key, generation) {
                        new_traces.push(trace.into());
                    }
                }
            }
            let before = m.traces.selected.clone();
            // Counts are read from the index when drawn; the list itself only changes with
            // new traces (or, sorted by count, with any key).
            if m.traces.sort == TraceSort::KeyCount {
                rebuild_traces(m, fx, false);
            } else if !new_traces.is_empty() {
                merge_traces(m, new_traces, fx);
            }
            if touches_selected && before == m.traces.selected {
                rebuild_keys(m, fx);
            }
        }
        WorkerEvent::ScanDone { generation, seen } => {
            if generation != m.scan.generation || !m.scan.running {
                return;
            }
            m.scan.running = false;
            m.scan.seen = seen;
            m.scan.completed_once = true;
            m.scan.took = m.scan.started.map(|s| m.now().saturating_duration_since(s));
            // Only a rescan can leave keys that are gone.
            if m.scan.had_keys {
                m.index.prune(generation);
            }
            rebuild_traces(m, fx, true);
        }
        WorkerEvent::ScanFailed {
            generation,
            error,
            connection,
        } => {
            if generation != m.scan.generation || !m.scan.running {
                return;
            }
            m.scan.running = false;
            if connection {
                m.scan.interrupted = true;
            } else {
                note(m, format!("scan failed: {error}"), true);
                m.scan.error = Some(error);
            }
        }
        WorkerEvent::Value {
            id,
            full_key,
            result,
        } => {
            if m.value.request != Some(id) || m.value.full_key.as_deref() != Some(&full_key) {
                return;
            }
            m.value.request = None;
            m.value.want_full = false;
            match result {
                Ok(Some(doc)) => {
                    m.value.gone = false;
                    m.value.error = None;
                    let same = m.value.doc.as_ref().is_some_and(|d| {
                        d.raw_hash == doc.raw_hash && d.total_len == doc.total_len
                    });
                    if !same {
                        let lines = doc.line_count();
                        m.value.doc = Some(doc);
                        m.value.scroll = m.value.scroll.min(lines.saturating_sub(1));
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
        }
        WorkerEvent::Meta { rows } => {
            let now = m.now();
            for (key, meta) in rows {
                m.meta_inflight.remove(&key);
                let gone = meta.ttl == Ttl::Missing;
                let gone_since = if gone {
                    Some(m.meta.get(&key).and_then(|e| e.gone_since).unwrap_or(now))
                } else {
                    None
                };
                if gone && m.value.full_key.as_deref() == Some(&key) {
                    m.value.gone = true;
                }
                m.meta.insert(
                    key,
                    MetaEntry {
                        meta,
                        at: now,
                        gone_since,
                    },
                );
            }
            if m.keys.sort != edit::KeySort::Name {
                rebuild_keys(m, fx);
            }
        }
        WorkerEvent::Written { id, op, result } => edit::written(m, id, op, result, fx),
        WorkerEvent::WhereResult { id, result } => edit::where_result(m, id, result, fx),
        WorkerEvent::MetaFailed { keys, error } => {
            for k in &keys {
                m.meta_inflight.remove(k);
            }
            if m.conn == ConnState::Connected {
                note(m, format!("reading key details failed: {error}"), true);
            }
        }
    }
}
