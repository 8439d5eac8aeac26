//! Live mode: the live job's reports, the index kept current from coalesced changes, marks of
//! what changed, `:live on`/`:live off`, `=` (diff against the previous version) and `F`
//! (follow the newest trace).

use crate::browser::model::split_shown;
use std::collections::HashMap;

use motia_state::Ttl;
use motia_state::coalesce::{KeyChange, KeyState};
use motia_state::notify::{NotifyChange, WANTED_FLAGS};

use crate::browser::action::{Effect, LiveCmd, LiveEvent, RowMeta, WorkerCmd};
use crate::browser::model::Model;
use crate::browser::model::dialog::Dialog;
use crate::browser::model::filter::Matcher;
use crate::browser::model::keys::Selected;
use crate::browser::model::live::{LiveState, MARK, MAX_MARKS};
use crate::browser::model::meta::MetaEntry;
use crate::browser::model::notifications::ToastKind;
use crate::browser::model::traces::TraceSort;
use crate::browser::update::keys::rebuild_keys;
use crate::browser::update::meta::request_meta;
use crate::browser::update::note;
use crate::browser::update::notifications::toast;
use crate::browser::update::scan::start_scan;
use crate::browser::update::traces::{merge_traces, rebuild_traces};
use crate::browser::update::value::reload_value;
use crate::browser::update::writes::refuse_read_only;
use crate::browser::update::{history, timeline, traces};

/// What the live job reports.
pub fn event(m: &mut Model, ev: LiveEvent, fx: &mut Vec<Effect>) {
    match ev {
        LiveEvent::Live(setting) => {
            let was_live = m.live.is_live();
            m.live.state = LiveState::Live;
            m.live.setting = Some(setting);
            if m.settings.iii && !m.traces.sort_chosen && m.traces.sort != TraceSort::Newest {
                // Scopes are long-lived names: the one written last comes first.
                m.traces.sort = TraceSort::Newest;
                rebuild_traces(m, fx, false);
            }
            // Changes made while polling were not seen by the index.
            if !was_live && m.scan.completed_once && !m.scan.running {
                start_scan(m, fx);
            }
        }
        LiveEvent::Polling { reason, setting } => {
            if m.live.is_live() {
                // Back to re-reading what is on screen.
                m.next_refresh = m.settings.refresh.map(|r| m.now() + r);
            }
            m.live.state = LiveState::Polling { reason };
            m.live.setting = setting;
        }
        LiveEvent::Reconnecting => m.live.state = LiveState::Reconnecting,
        LiveEvent::Resync => {
            m.live.state = LiveState::Live;
            // One scan brings back what was missed; it replaces a scan that may have started
            // before the subscription was back.
            m.scan.interrupted = true;
            start_scan(m, fx);
        }
        LiveEvent::Changes(changes) => apply_changes(m, changes, fx),
        LiveEvent::Records(flows) => records_written(m, &flows, fx),
        LiveEvent::Switched {
            on,
            changed,
            result,
        } => switched(m, on, changed, result),
        LiveEvent::Owed { before, now, pid } => {
            let what = format!(
                "earlier run of motia-state (process {pid}, no longer running) switched on \
                 keyspace notifications here and was stopped before it restored them: \
                 notify-keyspace-events is {now:?}, it was {before:?}"
            );
            if m.settings.read_only {
                let text = format!(
                    "an {what}; restore it with CONFIG SET notify-keyspace-events '{before}' \
                     (not offered: read-only mode)"
                );
                note(m, text, true);
            } else {
                m.dialog = Some(Dialog::RestoreOwed {
                    text: format!(
                        "An {what}.\n\nRestore it now? (only the flags that run added are taken out)"
                    ),
                });
            }
        }
        LiveEvent::OwedRestored(result) => {
            m.next_write += 1;
            let id = m.next_write;
            match result {
                Ok(text) => toast(m, id, format!("restored: {text}"), ToastKind::Done),
                Err(e) => toast(m, id, format!("restoring failed: {e}"), ToastKind::Failed),
            }
        }
    }
    m.dirty = true;
}

/// The user answered `y` to restoring what an earlier run left changed.
pub fn confirm_owed(m: &mut Model, fx: &mut Vec<Effect>) {
    if refuse_read_only(m, "restoring notify-keyspace-events") {
        return;
    }
    fx.push(Effect::Worker(WorkerCmd::Live(LiveCmd::RestoreOwed)));
}

/// Changes, one per key: the index, the marks, what is on screen and following.
pub fn apply_changes(m: &mut Model, changes: Vec<KeyChange>, fx: &mut Vec<Effect>) {
    let now = m.now();
    let generation = m.scan.generation;
    let matcher = Matcher::new(&m.traces.filter);
    let mut new_traces: Vec<Box<str>> = Vec::new();
    let mut traces_changed = false;
    let mut shown_keys_changed = false;
    let mut reload = false;
    // Following: the last written key of each trace, and the newest trace.
    let mut last_written: HashMap<Box<str>, String> = HashMap::new();
    let mut newest: Option<Box<str>> = None;
    // State of a flow that the trace records do not list yet (hash writes may send no event).
    let mut unlisted: Vec<String> = Vec::new();
    let records = m.index.has_records();
    let iii = m.settings.iii;
    for c in changes {
        let Some((trace, key)) = split_shown(&m.keyspace, &c.key) else {
            continue;
        };
        let (trace, key): (Box<str>, String) = (trace.into(), key.to_string());
        let shown = m.keys.trace.as_deref() == Some(&*trace);
        let known = m
            .index
            .traces
            .get(&trace)
            .is_some_and(|keys| keys.contains(key.as_str()));
        match c.state {
            KeyState::Written => {
                m.live.removed_while_scanning.remove(&c.key);
                // A scope is a long-lived name: following goes to the one written last.
                if iii && matcher.matches(&trace) {
                    newest = Some(trace.clone());
                }
                if known {
                    // The key exists now, so a running scan must not drop it even if its
                    // SCAN missed it: `del` then `set` in one window fold into this one
                    // change, and the scan may have passed the key between the two.
                    m.index.insert(&trace, &key, generation);
                } else {
                    if m.index.insert(&trace, &key, generation) {
                        if records && !m.index.flows.contains_key(&trace) {
                            unlisted.push(trace.to_string());
                        }
                        new_traces.push(trace.clone());
                        if matcher.matches(&trace) {
                            newest = Some(trace.clone());
                        }
                    } else {
                        traces_changed |= m.traces.sort == TraceSort::KeyCount;
                    }
                    shown_keys_changed |= shown;
                }
                // Size and type may differ now; read again if on screen.
                m.meta.remove(&c.key);
                reload |= m.value.full_key.as_deref() == Some(c.key.as_str());
                last_written.insert(trace.clone(), key);
            }
            KeyState::Removed => {
                if m.scan.running {
                    m.live.removed_while_scanning.insert(c.key.clone());
                }
                if m.value.full_key.as_deref() == Some(c.key.as_str()) {
                    m.value.gone = true;
                }
                if !known {
                    continue;
                }
                if shown {
                    // Shown as gone for a moment, as a key found missing is.
                    let entry = m.meta.entry(c.key.clone()).or_insert_with(|| MetaEntry {
                        meta: RowMeta {
                            kind: "gone".into(),
                            len: None,
                            ttl: Ttl::Missing,
                        },
                        at: now,
                        gone_since: None,
                    });
                    entry.gone_since.get_or_insert(now);
                } else {
                    m.index.remove(&trace, &key);
                    m.meta.remove(&c.key);
                    traces_changed = true;
                }
            }
            KeyState::TtlChanged => {
                if !known {
                    continue;
                }
                m.meta.remove(&c.key);
            }
        }
        if iii {
            m.live.activity.insert(trace.clone(), now);
            traces_changed |= m.traces.sort == TraceSort::Newest;
        }
        if m.live.keys.len() < MAX_MARKS {
            m.live.keys.insert(c.key, now);
        }
        if m.live.traces.len() < MAX_MARKS {
            m.live.traces.insert(trace, now);
        }
    }
    if iii {
        let index = &m.index;
        m.live.activity.retain(|t, _| index.traces.contains_key(t));
    }
    let follow_to = newest.filter(|_| m.live.follow);
    if let Some(t) = &follow_to {
        follow_trace(m, t);
    }
    // Merging keeps an id-sorted list only; any other order is rebuilt. Following always
    // rebuilds: its trace may be listed already (from its records) and still not be shown.
    if traces_changed || follow_to.is_some() {
        rebuild_traces(m, fx, follow_to.is_some());
    } else if !new_traces.is_empty() {
        if m.traces.sort == TraceSort::Id {
            merge_traces(m, new_traces, fx);
        } else {
            rebuild_traces(m, fx, false);
        }
    }
    if !unlisted.is_empty() {
        fx.push(Effect::Worker(WorkerCmd::NewFlows {
            generation,
            ids: unlisted,
        }));
    }
    let follow_key = m
        .live
        .follow
        .then(|| m.keys.trace.as_ref().and_then(|t| last_written.get(t)))
        .flatten()
        .cloned();
    if let Some(k) = follow_key {
        m.keys.selected = Some(Selected::Key(k));
        shown_keys_changed = true;
    }
    if shown_keys_changed {
        rebuild_keys(m, fx);
    }
    request_meta(m, fx, false);
    if reload {
        reload_value(m, fx);
    }
    m.dirty = true;
}

/// Marks older than [`MARK`] go; true when any went (the screen changes).
pub fn expire_marks(m: &mut Model) -> bool {
    let now = m.now();
    let fresh = |t: &std::time::Instant| now.saturating_duration_since(*t) < MARK;
    let before = m.live.keys.len() + m.live.traces.len();
    m.live.keys.retain(|_, t| fresh(t));
    m.live.traces.retain(|_, t| fresh(t));
    let mut changed = before != m.live.keys.len() + m.live.traces.len();
    if m.value.changed_at.is_some_and(|t| !fresh(&t)) {
        m.value.changed_at = None;
        m.value.changed_lines.clear();
        changed = true;
    }
    changed
}

/// The selection moves to `trace`, whatever the user last chose.
fn follow_trace(m: &mut Model, trace: &str) {
    m.traces.selected = Some(trace.into());
    m.traces.anchor = None;
}

/// Motia wrote trace records of `flows`: what is shown of them is read again now rather than
/// at the next periodic re-read. A flow not listed yet gets its group record read (its name
/// and start) and is followed.
fn records_written(m: &mut Model, flows: &[String], fx: &mut Vec<Effect>) {
    let new: Vec<String> = flows
        .iter()
        .filter(|f| !m.index.flows.contains_key(f.as_str()))
        .cloned()
        .collect();
    let matcher = Matcher::new(&m.traces.filter);
    let follow_to = new
        .iter()
        .rev()
        .find(|f| m.live.follow && matcher.matches(f))
        .cloned();
    traces::reread_flows(m, flows, fx);
    if let Some(t) = follow_to {
        follow_trace(m, &t);
        rebuild_traces(m, fx, true);
    }
    if !new.is_empty() {
        fx.push(Effect::Worker(WorkerCmd::NewFlows {
            generation: m.scan.generation,
            ids: new,
        }));
    }
    let written = |trace: &str| flows.iter().any(|f| f == trace);
    if m.timeline.as_ref().is_some_and(|v| written(&v.trace)) {
        timeline::refresh(m, fx);
    }
    if m.history.as_ref().is_some_and(|v| written(&v.trace)) {
        history::refresh(m, fx);
    }
}

/// How long a DBSIZE below the index's count must last before the index is rebuilt: events of
/// keys removed a moment ago may still be on their way.
pub const FLUSH_CONFIRM: std::time::Duration = std::time::Duration::from_millis(1500);

/// The heartbeat's DBSIZE. Keys that go without events (FLUSHDB and FLUSHALL publish none
/// per key) leave the index counting more keys under the prefix than the whole database has.
pub fn db_size(m: &mut Model, n: u64) {
    m.scan.dbsize = Some(n);
    if m.live.flush_check.is_none() && index_exceeds_db(m) {
        m.live.flush_check = Some(m.now() + FLUSH_CONFIRM);
    }
}

fn index_exceeds_db(m: &Model) -> bool {
    if !m.live.is_live()
        || m.scan.running
        || !m.scan.completed_once
        || !m.server.unreachable.is_empty()
    {
        return false;
    }
    // Keys of the shown trace seen removed stay listed (as gone) for a moment.
    let gone = m.meta.values().filter(|e| e.gone_since.is_some()).count();
    let listed = if m.settings.iii {
        // One hash per scope: the scopes are the keys (the shown one may be all gone).
        let shown_gone = m
            .keys
            .trace
            .as_deref()
            .is_some_and(|t| gone > 0 && m.index.count(t) <= gone);
        m.index.traces.len() - usize::from(shown_gone)
    } else {
        m.index.total_keys.saturating_sub(gone)
    };
    m.scan.dbsize.is_some_and(|n| n < listed as u64)
}

/// A DBSIZE below the index's count that lasted: the keys went without events. The index is
/// read again and the open value with it.
pub fn check_flush(m: &mut Model, fx: &mut Vec<Effect>) {
    if m.live.flush_check.is_none_or(|t| t > m.now()) {
        return;
    }
    m.live.flush_check = None;
    if !index_exceeds_db(m) {
        return;
    }
    let n = m.scan.dbsize.unwrap_or(0);
    let text = format!(
        "the database has {} {}, fewer than listed here: keys went without notifications \
         (FLUSHDB or FLUSHALL?); reading them again",
        crate::browser::format::thousands(n),
        crate::browser::format::noun(n, "key", "keys")
    );
    note(m, text, false);
    m.meta.clear();
    m.scan.interrupted = true;
    start_scan(m, fx);
    if m.value.full_key.is_some() {
        reload_value(m, fx);
    }
}

/// The periodic re-read of what is on screen is not needed while changes arrive as events.
pub fn refresh_needed(m: &Model) -> bool {
    !m.live.is_live()
}

/// `=`: the diff against the previous version of the open value, or the value again.
pub fn toggle_diff(m: &mut Model) {
    if m.value.show_diff {
        m.value.show_diff = false;
        return;
    }
    if m.value.previous.is_none() {
        return note(
            m,
            "no earlier version of this value yet: a diff shows once it changes while open",
            false,
        );
    }
    if m.value.diff.is_none() {
        return note(m, "the value is too big to compare line by line", false);
    }
    m.value.show_diff = true;
}

/// `F`: follow the newest trace (and its last written key) as it appears.
pub fn toggle_follow(m: &mut Model) {
    m.live.follow = !m.live.follow;
    if !m.live.follow {
        return note(m, "follow off", false);
    }
    let text = if m.live.is_live() && m.settings.iii {
        "follow on: the scope written last and its last written field are selected as they \
         change; moving turns it off"
    } else if m.live.is_live() {
        "follow on: the newest trace and its last written key are selected as they appear; \
         moving turns it off"
    } else {
        "follow on, but live mode is off: it follows once live updates arrive (:live on)"
    };
    note(m, text, false);
}

/// Any movement by the user ends following.
pub fn manual_move(m: &mut Model) {
    if m.live.follow {
        m.live.follow = false;
    }
}

/// `:live on`: says what will change on the server and asks first.
pub fn start_on(m: &mut Model) {
    if refuse_read_only(m, ":live on (it changes a server setting)") {
        return;
    }
    let setting = match (&m.live.setting, &m.live.state) {
        (Some(s), _) => s.clone(),
        (None, LiveState::Polling { reason }) => {
            let text = format!("live mode cannot be switched on here: {reason}");
            return note(m, text, true);
        }
        (None, _) => return note(m, "the server's setting is not known yet; try again", false),
    };
    let plan = NotifyChange::plan(&setting);
    if plan.is_noop() {
        return note(
            m,
            format!("notify-keyspace-events is {setting}: it has {WANTED_FLAGS} already"),
            false,
        );
    }
    m.dialog = Some(Dialog::ConfirmLive {
        text: format!(
            "{}\n\n:live off, or quitting the browser, restores {}.",
            plan.explain(),
            plan.before
        ),
    });
}

/// The user confirmed `:live on`.
pub fn confirm_on(m: &mut Model, fx: &mut Vec<Effect>) {
    if refuse_read_only(m, ":live on") {
        return;
    }
    switch(
        m,
        LiveCmd::On,
        "live on: adding notification flags".into(),
        fx,
    );
}

/// `:live off`: restores the setting `:live on` found.
pub fn start_off(m: &mut Model, fx: &mut Vec<Effect>) {
    if refuse_read_only(m, ":live off (it changes a server setting)") {
        return;
    }
    if !m.live.switched_on {
        let setting = m
            .live
            .setting
            .as_ref()
            .map(|s| format!(" (notify-keyspace-events is {s})"))
            .unwrap_or_default();
        return note(
            m,
            format!("nothing to restore: :live off undoes :live on of this browser{setting}"),
            false,
        );
    }
    switch(
        m,
        LiveCmd::Off,
        "live off: restoring notify-keyspace-events".into(),
        fx,
    );
}

fn switch(m: &mut Model, cmd: LiveCmd, label: String, fx: &mut Vec<Effect>) {
    m.next_write += 1;
    let id = m.next_write;
    toast(m, id, format!("{label}…"), ToastKind::Pending);
    m.live.switching = Some(id);
    fx.push(Effect::Worker(WorkerCmd::Live(cmd)));
}

fn switched(m: &mut Model, on: bool, changed: bool, result: Result<String, String>) {
    let id = m.live.switching.take().unwrap_or_else(|| {
        m.next_write += 1;
        m.next_write
    });
    let what = if on { ":live on" } else { ":live off" };
    match result {
        Ok(text) => {
            m.live.switched_on = on && changed;
            toast(m, id, format!("{what}: {text}"), ToastKind::Done);
        }
        Err(e) => toast(m, id, format!("{what} failed: {e}"), ToastKind::Failed),
    }
}
