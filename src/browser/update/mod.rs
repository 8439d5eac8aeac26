//! The only place the model changes, one file per concern with the names of `model/`. No I/O:
//! what needs doing comes back as effects. This file routes an [`Action`] to them.

pub mod command_line;
pub mod connection;
pub mod connections;
pub mod dialog;
pub mod editor;
pub mod filter;
pub mod help;
pub mod history;
pub mod journal;
pub mod keys;
pub mod list;
pub mod live;
pub mod meta;
pub mod mouse;
pub mod navigation;
pub mod notifications;
pub mod other_layout;
pub mod prompt;
pub mod scan;
pub mod stats;
pub mod timeline;
pub mod traces;
pub mod value;
pub mod writes;

use crossterm::event::{KeyEvent, KeyEventKind};

use crate::browser::action::{Action, Effect, WorkerEvent};
use crate::browser::keymap::Command;
use crate::browser::model::{ConnState, Mode, Model, Overlay, Pane};

pub use notifications::note;

/// Applies one action; returns what the event loop must do.
pub fn update(m: &mut Model, action: Action) -> Vec<Effect> {
    let mut fx = Vec::new();
    let views_open = (m.history.is_some(), m.timeline.is_some());
    match action {
        Action::Key(k) => {
            if k.kind == KeyEventKind::Press {
                m.keys_handled += 1;
                on_key(m, k, &mut fx);
                m.dirty = true;
            }
        }
        Action::Mouse(ev) => {
            if mouse::event(m, ev, &mut fx) {
                m.dirty = true;
            }
        }
        Action::Resize(w, h) => {
            m.size = (w, h);
            navigation::fit_all(m);
            meta::request_meta(m, &mut fx, false);
            m.dirty = true;
        }
        Action::Tick => on_tick(m, &mut fx),
        Action::Worker(ev) => on_worker(m, ev, &mut fx),
        Action::ExternalEdited(result) => {
            editor::external_done(m, result, &mut fx);
            m.dirty = true;
        }
    }
    // A closed history or timeline may have held megabytes of values and diffs.
    if (views_open.0 && m.history.is_none()) || (views_open.1 && m.timeline.is_none()) {
        fx.push(Effect::ReleaseMemory);
    }
    fx
}

/// A key goes to what is on top: help, a dialog, the editor, a filter being typed, the panes.
fn on_key(m: &mut Model, k: KeyEvent, fx: &mut Vec<Effect>) {
    let cmd = m.keymap.command(&k);
    if matches!(m.overlay, Some(Overlay::Connections { .. })) {
        return connections::key(m, cmd, fx);
    }
    if matches!(m.overlay, Some(Overlay::Journal { .. })) {
        return journal::key(m, cmd);
    }
    if m.overlay.is_some() {
        return help::key(m, cmd);
    }
    if m.dialog.is_some() {
        m.note = None;
        return dialog::key(m, k, cmd, fx);
    }
    if m.stats.is_some() && m.editor.is_none() {
        m.note = None;
        return stats::key(m, cmd, fx);
    }
    if m.editor.is_some() {
        return editor::key(m, k, cmd, fx);
    }
    if let Mode::Filter(pane) = m.mode {
        return filter::key(m, pane, k, cmd, fx);
    }
    m.note = None;
    if let Some(cmd) = cmd {
        on_command(m, cmd, fx);
    }
}

/// A command of the normal mode.
fn on_command(m: &mut Model, cmd: Command, fx: &mut Vec<Effect>) {
    if matches!(
        cmd,
        Command::Down
            | Command::Up
            | Command::PageDown
            | Command::PageUp
            | Command::Top
            | Command::Bottom
            | Command::Open
            | Command::PaneLeft
            | Command::PaneRight
            | Command::Filter
    ) {
        live::manual_move(m);
    }
    if !acts_here(m, cmd) {
        return;
    }
    // The timeline and the history stand in for the keys and take their keys first.
    if m.timeline.is_some() {
        match timeline::command(m, cmd) {
            timeline::Took::No => {}
            timeline::Took::Yes => return,
            timeline::Took::Jump(group, key) => return traces::jump(m, &group, &key, fx),
        }
    }
    if m.history.is_some() {
        // Restoring writes through the journal, which sits above the history's update.
        if cmd == Command::Restore {
            return journal::start_restore(m);
        }
        if history::command(m, cmd, fx) {
            return;
        }
    }
    match cmd {
        Command::Quit => fx.push(Effect::Quit),
        Command::Back => filter::back(m, fx),
        Command::NextPane => m.focus = m.focus.next(),
        Command::PrevPane => m.focus = m.focus.prev(),
        Command::PaneLeft => navigation::left(m),
        Command::PaneRight => navigation::right(m),
        Command::Down => navigation::move_by(m, 1, fx),
        Command::Up => navigation::move_by(m, -1, fx),
        Command::PageDown => navigation::page_by(m, 1, fx),
        Command::PageUp => navigation::page_by(m, -1, fx),
        Command::Top => navigation::move_by(m, isize::MIN / 2, fx),
        Command::Bottom => navigation::move_by(m, isize::MAX / 2, fx),
        Command::Open => navigation::open(m, fx),
        Command::Filter => filter::start(m),
        Command::Sort => match m.focus {
            Pane::Keys => keys::cycle_key_sort(m, fx),
            Pane::Traces => traces::toggle_sort(m, fx),
            Pane::Value => note(m, "sort works on the Traces and Keys panes", false),
        },
        Command::Rescan => scan::start_scan(m, fx),
        Command::LoadAll => value::load_all(m, fx),
        Command::Wrap => {
            m.wrap = !m.wrap;
            m.value.scroll_row = 0;
        }
        Command::ScrollLeft => value::scroll_sideways(m, false),
        Command::ScrollRight => value::scroll_sideways(m, true),
        Command::Help => m.overlay = Some(Overlay::Help { scroll: 0 }),
        Command::Connections => connections::open(m),
        Command::Undo => journal::start_undo(m, None),
        Command::Restore => note(m, "R writes back a version in the History view (H)", false),
        Command::Edit => editor::open(m, false, fx),
        Command::ExternalEdit => editor::open(m, true, fx),
        Command::New => editor::start_new(m),
        Command::SetTtl => writes::start_ttl(m, None, fx),
        Command::Delete => writes::start_delete(m),
        Command::ClearTrace => writes::start_clear(m),
        Command::CmdLine => prompt::open_command(m),
        Command::Copy => value::copy(m, fx),
        Command::CopyKey => keys::copy_key(m, fx),
        Command::Dismiss => notifications::dismiss(m),
        Command::Save => note(m, "Ctrl-S saves in the editor (e opens it)", false),
        Command::Stats => stats::toggle(m, fx),
        Command::Timeline | Command::History if m.settings.iii => notifications::note(
            m,
            "no timeline or history on the iii layout: the iii engine keeps traces as \
             OpenTelemetry spans in the engine, not in Redis",
            false,
        ),
        Command::Timeline => timeline::toggle(m, fx),
        Command::History => history::toggle(m, fx),
        Command::Diff => live::toggle_diff(m),
        Command::NextChange => value::jump_to_change(m, true),
        Command::PrevChange => value::jump_to_change(m, false),
        Command::Follow => live::toggle_follow(m),
        Command::CollapseAll => keys::fold_all(m, true, fx),
        Command::ExpandAll => keys::fold_all(m, false, fx),
    }
}

/// True when `cmd` acts where the focus is; otherwise it does nothing and says so (a key
/// never acts on a key or value hidden behind the timeline or the history).
pub fn acts_here(m: &mut Model, cmd: Command) -> bool {
    let place = m.place();
    if cmd.acts_in(place) {
        return true;
    }
    let key = m.keymap.first_key(cmd);
    let close = m.keymap.first_key(Command::Back);
    let key = if key.is_empty() {
        cmd.name().to_string()
    } else {
        key
    };
    note(
        m,
        format!(
            "{key} does nothing in {}: it would act on the key behind it ({close} closes it)",
            place.name()
        ),
        false,
    );
    false
}

/// Time passed: due loads, refreshes and rescans go out, marked keys and notifications expire.
fn on_tick(m: &mut Model, fx: &mut Vec<Effect>) {
    let now = m.now();
    if m.value.due.is_some_and(|d| d <= now) {
        value::issue_value_load(m, fx);
    }
    if m.conn == ConnState::Connected {
        if m.next_refresh.is_some_and(|t| t <= now) {
            m.next_refresh = m.settings.refresh.map(|r| now + r);
            if live::refresh_needed(m) {
                value::refresh(m, fx);
            }
            traces::refresh_visible(m, fx);
            timeline::refresh(m, fx);
            history::refresh(m, fx);
        }
        if m.next_rescan.is_some_and(|t| t <= now) {
            m.next_rescan = m.settings.rescan.map(|r| now + r);
            if !m.scan.running {
                scan::start_scan(m, fx);
            }
        }
    }
    if m.conn == ConnState::Connected {
        live::check_flush(m, fx);
    }
    traces::remove_gone(m, fx);
    if m.traces.stale {
        traces::rebuild_traces(m, fx, false);
    }
    traces::merge_pending(m, fx);
    if live::expire_marks(m) {
        m.dirty = true;
    }
    if notifications::expire_toasts(m) {
        m.dirty = true;
    }
    if m.animating() {
        m.dirty = true;
    }
}

/// What the worker reports, one handler per event.
fn on_worker(m: &mut Model, ev: WorkerEvent, fx: &mut Vec<Effect>) {
    m.dirty = true;
    match ev {
        WorkerEvent::Connecting { attempt, error } => connection::connecting(m, attempt, error),
        WorkerEvent::GaveUp { error } => connection::gave_up(m, error),
        WorkerEvent::Connected(facts) | WorkerEvent::Restored(facts) => {
            connection::connected(m, facts, fx)
        }
        WorkerEvent::Unreachable(nodes) => connection::unreachable(m, nodes, fx),
        WorkerEvent::Mode(mode) => m.server.mode = mode,
        WorkerEvent::Switched { profile } => connections::switched(m, profile),
        WorkerEvent::SwitchFailed { profile, error } => {
            connections::switch_failed(m, profile, error)
        }
        WorkerEvent::Lost { reason } => connection::lost(m, reason),
        WorkerEvent::DbSize(n) => live::db_size(m, n),
        WorkerEvent::ScanBatch {
            generation,
            keys,
            seen,
        } => scan::batch(m, generation, keys, seen, fx),
        WorkerEvent::ScanDone { generation, seen } => scan::done(m, generation, seen, fx),
        WorkerEvent::OtherLayout(result) => other_layout::answered(m, result),
        WorkerEvent::ScanFailed {
            generation,
            error,
            connection,
        } => scan::failed(m, generation, error, connection),
        WorkerEvent::Value {
            id,
            full_key,
            result,
        } => value::loaded(m, id, full_key, result, fx),
        WorkerEvent::Meta { rows } => keys::meta_received(m, rows, fx),
        WorkerEvent::MetaFailed { keys, error } => meta::failed(m, keys, error),
        WorkerEvent::Written { id, op, result } => writes::written(m, id, op, result, fx),
        WorkerEvent::Journalled(entry) => journal::journalled(m, entry),
        WorkerEvent::WhereResult { id, result } => keys::where_result(m, id, result, fx),
        WorkerEvent::StatsProgress {
            id,
            done,
            total,
            stats,
        } => stats::progress(m, id, done, total, stats),
        WorkerEvent::Stats { id, result } => stats::finished(m, id, result),
        WorkerEvent::IiiStats { id, result } => stats::finished_iii(m, id, result),
        WorkerEvent::Layout {
            label,
            iii,
            prefix,
            look,
        } => {
            connections::layout_chosen(m, label, iii, prefix);
            if look {
                m.other_layout = crate::browser::model::other_layout::OtherLayout::Deferred;
            }
        }
        WorkerEvent::GcProgress { id, done, total } => stats::gc_progress(m, id, done, total),
        WorkerEvent::GcPlanned { id, result } => stats::gc_planned(m, id, result),
        WorkerEvent::TraceGroups {
            generation,
            entries,
            done,
            error,
        } => traces::groups(m, generation, entries, done, error, fx),
        WorkerEvent::TraceSummaries { rows, error } => traces::summaries(m, rows, error, fx),
        WorkerEvent::TraceRecords { id, result } => {
            if timeline::owns(m, id) {
                timeline::loaded(m, result);
            } else if history::owns(m, id) {
                history::loaded(m, result, fx);
            }
        }
        WorkerEvent::HistoryDiff { id, diff } => history::diff_built(m, id, diff),
        WorkerEvent::TraceSearch { id, done, total } => history::searching(m, id, done, total),
        WorkerEvent::Live(ev) => live::event(m, ev, fx),
    }
}
