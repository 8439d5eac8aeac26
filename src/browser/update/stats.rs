//! The stats view: asking the worker for the figures (over the complete index, or a scan),
//! taking its snapshots, moving through the top lists and jumping to a trace or key; `:gc`
//! asks for a dry run, shows it, then asks for a confirmation with the totals.

use std::sync::Arc;

use motia_state::adapter::gc::{GcAction, GcFlags, GcPlan, GcReport};
use motia_state::adapter::layout::iii_stats::IiiStats;
use motia_state::adapter::stats::Stats;
use motia_state::format_duration;

use crate::browser::action::{Effect, WorkerCmd, WriteOp};
use crate::browser::format::{human_bytes, noun, thousands};
use crate::browser::keymap::Command;
use crate::browser::model::dialog::Dialog;
use crate::browser::model::keys::Selected;
use crate::browser::model::notifications::ToastKind;
use crate::browser::model::stats::{GcRun, StatsView, TopRow, summary};
use crate::browser::model::{Model, Overlay, Pane};
use crate::browser::update::keys::rebuild_keys;
use crate::browser::update::note;
use crate::browser::update::notifications::toast;
use crate::browser::update::scan::start_scan;
use crate::browser::update::traces::rebuild_traces;

/// `S`: opens the view (computing the figures) or closes it.
pub fn toggle(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.stats.take().is_none() {
        start(m, fx);
    }
}

/// The state's full keys when the index is complete (so the worker needs no scan of its own).
/// The iii layout's figures need every value's size, so its worker reads the scopes itself.
fn index_keys(m: &Model) -> Option<Vec<String>> {
    if m.settings.iii || m.scan.running || !m.scan.completed_once {
        return None;
    }
    let prefix = &m.settings.prefix;
    let mut keys = Vec::with_capacity(m.index.total_keys);
    for (trace, ks) in &m.index.traces {
        keys.extend(ks.keys().map(|k| format!("{prefix}{trace}:{k}")));
    }
    Some(keys)
}

fn next_request(m: &mut Model) -> u64 {
    m.next_request += 1;
    m.next_request
}

/// Opens the view (if closed) and computes the figures again; what was shown stays until the
/// first snapshot arrives.
pub fn start(m: &mut Model, fx: &mut Vec<Effect>) {
    let id = next_request(m);
    let keys = index_keys(m);
    let from_index = keys.is_some();
    let view = m.stats.get_or_insert_with(StatsView::default);
    view.request = id;
    view.running = true;
    view.done = 0;
    view.total = keys.as_ref().map_or(0, |k| k.len() as u64);
    view.error = None;
    view.from_index = from_index;
    fx.push(Effect::Worker(WorkerCmd::Stats { id, keys }));
}

/// Keys while the view is open (dialogs and the help come first).
pub fn key(m: &mut Model, cmd: Option<Command>, fx: &mut Vec<Effect>) {
    let Some(view) = m.stats.as_mut() else {
        return;
    };
    let rows = view.rows().len();
    let last = rows.saturating_sub(1);
    match cmd {
        Some(Command::Back | Command::Stats) => {
            if view.gc.take().is_none() {
                m.stats = None;
            }
        }
        Some(Command::Down) => view.cursor = (view.cursor + 1).min(last),
        Some(Command::Up) => view.cursor = view.cursor.saturating_sub(1),
        Some(Command::PageDown | Command::Bottom) => view.cursor = last,
        Some(Command::PageUp | Command::Top) => view.cursor = 0,
        Some(Command::Open) => jump(m, fx),
        Some(Command::Rescan) => start(m, fx),
        Some(Command::CmdLine) => crate::browser::update::prompt::open_command(m),
        Some(Command::Help) => m.overlay = Some(Overlay::Help { scroll: 0 }),
        Some(Command::Quit) => fx.push(Effect::Quit),
        Some(Command::Dismiss) => crate::browser::update::notifications::dismiss(m),
        _ if m.settings.iii => note(
            m,
            "stats: j/k select, Enter jumps to it, r recomputes, Esc closes",
            false,
        ),
        _ => note(
            m,
            "stats: j/k select, Enter jumps to it, r recomputes, :gc FLAGS cleans up, Esc closes",
            false,
        ),
    }
}

/// Enter on a top row: close the view and show that trace (and key) in the panes.
fn jump(m: &mut Model, fx: &mut Vec<Effect>) {
    let Some(row) = m
        .stats
        .as_ref()
        .and_then(|v| v.rows().into_iter().nth(v.cursor))
    else {
        return;
    };
    let (trace, key) = match row {
        TopRow::Trace(t) => (t, None),
        TopRow::Key { trace, key } => (trace, Some(key)),
    };
    if !m.index.traces.contains_key(trace.as_str()) {
        let what = m.settings.group_noun();
        return note(
            m,
            format!("{what} {trace} is not in the index (gone, or the scan has not reached it)"),
            true,
        );
    }
    m.stats = None;
    if !m.traces.filter.is_empty() {
        m.traces.filter.clear();
    }
    m.traces.selected = Some(trace.as_str().into());
    rebuild_traces(m, fx, true);
    m.focus = Pane::Traces;
    if let Some(key) = key {
        m.keys.filter.clear();
        m.keys.collapsed.clear();
        m.keys.auto_fold = false;
        m.keys.selected = Some(Selected::Key(key));
        rebuild_keys(m, fx);
        m.focus = Pane::Keys;
    }
}

/// A snapshot of the figures while the walk goes on.
pub fn progress(m: &mut Model, id: u64, done: u64, total: u64, stats: Option<Arc<Stats>>) {
    if let Some(view) = m.stats.as_mut().filter(|v| v.request == id && v.running) {
        (view.done, view.total) = (done, total);
        if stats.is_some() {
            view.stats = stats;
        }
        clamp(view);
    }
}

/// The final figures (or why there are none).
pub fn finished(m: &mut Model, id: u64, result: Result<Arc<Stats>, String>) {
    if let Some(view) = m.stats.as_mut().filter(|v| v.request == id) {
        view.running = false;
        match result {
            Ok(s) => {
                view.done = s.keys;
                view.total = s.keys;
                view.stats = Some(s);
            }
            Err(e) => view.error = Some(e),
        }
        clamp(view);
    }
}

/// The iii layout's final figures (or why there are none).
pub fn finished_iii(m: &mut Model, id: u64, result: Result<Arc<IiiStats>, String>) {
    if let Some(view) = m.stats.as_mut().filter(|v| v.request == id) {
        view.running = false;
        match result {
            Ok(s) => {
                view.done = s.scopes;
                view.total = s.scopes;
                view.iii = Some(s);
            }
            Err(e) => view.error = Some(e),
        }
        clamp(view);
    }
}

fn clamp(view: &mut StatsView) {
    view.cursor = view.cursor.min(view.rows().len().saturating_sub(1));
}

/// `:stats`: open (or recompute) the view.
pub fn command(m: &mut Model, fx: &mut Vec<Effect>) {
    start(m, fx);
}

/// `:gc FLAGS`: a dry run in the view, then a confirmation with the totals.
pub fn start_gc(m: &mut Model, words: &str, fx: &mut Vec<Effect>) {
    if m.settings.iii {
        return note(
            m,
            ":gc does not apply to the iii layout: the engine keeps no trace records and sets \
             no TTL (d / D delete fields and scopes)",
            true,
        );
    }
    let parsed =
        GcFlags::from_words(&words.split_whitespace().collect::<Vec<_>>()).and_then(|f| f.parse());
    let (selection, action) = match parsed {
        Ok(p) => p,
        Err(e) => return note(m, format!(":gc {words}: {e}"), true),
    };
    let id = next_request(m);
    let keys = index_keys(m);
    if m.stats.is_none() {
        start(m, fx);
    }
    if let Some(view) = m.stats.as_mut() {
        view.gc = Some(GcRun {
            request: id,
            flags: words.trim().to_string(),
            running: true,
            ..GcRun::default()
        });
    }
    fx.push(Effect::Worker(WorkerCmd::GcPlan {
        id,
        selection,
        action,
        keys,
    }));
}

pub fn gc_progress(m: &mut Model, id: u64, done: u64, total: u64) {
    if let Some(run) = gc_run(m, id) {
        (run.done, run.total) = (done, total);
    }
}

fn gc_run(m: &mut Model, id: u64) -> Option<&mut GcRun> {
    m.stats
        .as_mut()
        .and_then(|v| v.gc.as_mut())
        .filter(|g| g.request == id)
}

/// The dry run is in: shown in the view, then the confirmation (unless there is nothing to do
/// or the browser is read-only).
pub fn gc_planned(m: &mut Model, id: u64, result: Result<Arc<GcPlan>, String>) {
    let read_only = m.settings.read_only;
    let Some(run) = gc_run(m, id) else {
        return;
    };
    run.running = false;
    let plan = match result {
        Ok(p) => p,
        Err(e) => {
            run.error = Some(e.clone());
            return note(m, format!(":gc failed: {e}"), true);
        }
    };
    run.plan = Some(plan.clone());
    let flags = run.flags.clone();
    let (keys, _) = plan.totals();
    if keys == 0 {
        return note(m, format!(":gc {flags}: nothing to do"), false);
    }
    if read_only {
        return note(
            m,
            format!("dry run only: --read-only refuses gc ({})", summary(&plan)),
            false,
        );
    }
    let label = format!("gc {flags}");
    m.dialog = Some(Dialog::Confirm {
        title: "Clean up state".into(),
        text: format!(
            "{}? Keys changed since the dry run are skipped.",
            capitalise(&summary(&plan))
        ),
        op: WriteOp::Gc { plan },
        label,
    });
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The confirmed gc ran: its result, then a rescan and fresh figures.
pub fn collected(
    m: &mut Model,
    id: u64,
    label: &str,
    action: GcAction,
    report: GcReport,
    fx: &mut Vec<Effect>,
) {
    let done = match action {
        GcAction::Delete => "deleted".to_string(),
        GcAction::Expire(d) => format!("given a TTL of {}", format_duration(d)),
    };
    let mut text = format!(
        "{label}: {} {} {done} ({})",
        thousands(report.written),
        noun(report.written, "key", "keys"),
        human_bytes(report.bytes)
    );
    if !report.changed.is_empty() {
        text.push_str(&format!(
            ", {} skipped: changed after the dry run",
            report.changed.len()
        ));
    }
    if report.gone > 0 {
        text.push_str(&format!(", {} gone already", report.gone));
    }
    toast(m, id, text, ToastKind::Done);
    if let Some(view) = m.stats.as_mut() {
        view.gc = None;
    }
    start_scan(m, fx);
    if m.stats.is_some() {
        start(m, fx);
    }
}
