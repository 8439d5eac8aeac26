//! Changing Redis: asking for a write (TTL, delete, clear; saves come from the editor),
//! sending it, and what its result does to the screen.
//!
//! Read-only refuses before any command is built; deletes name what they delete and are
//! confirmed.

use crate::browser::model::split_shown;
use motia_state::Expiry;

use crate::browser::action::{Effect, WorkerCmd, WriteOp, WriteOutcome};
use crate::browser::format::{noun, thousands};
use crate::browser::keymap::Command;
use crate::browser::model::dialog::{Dialog, Prompt};
use crate::browser::model::keys::{Selected, label_of, selected_key, trace_keys};
use crate::browser::model::notifications::ToastKind;
use crate::browser::model::streams;
use crate::browser::model::{Model, Pane};
use crate::browser::text;
use crate::browser::update::keys::rebuild_keys;
use crate::browser::update::meta::request_meta_keys;
use crate::browser::update::note;
use crate::browser::update::notifications::toast;
use crate::browser::update::scan::start_scan;
use crate::browser::update::traces::{forget, rebuild_traces};
use crate::browser::update::value::reload_value;

pub use crate::browser::update::notifications::refuse_read_only;

/// Sends a write and shows it as pending.
pub fn send_write(m: &mut Model, op: WriteOp, label: String, fx: &mut Vec<Effect>) -> u64 {
    m.next_write += 1;
    let id = m.next_write;
    toast(m, id, format!("{label}…"), ToastKind::Pending);
    m.write_labels.insert(id, label);
    fx.push(Effect::Worker(WorkerCmd::Write { id, op }));
    id
}

/// `t` (with `expiry: None`, asking for it) or `:ttl` / `:persist`.
pub fn start_ttl(m: &mut Model, expiry: Option<Expiry>, fx: &mut Vec<Effect>) {
    if refuse_read_only(m, "changing a TTL") {
        return;
    }
    let purpose = if m.focus == Pane::Traces {
        let Some(trace) = m.traces.selected.as_deref().map(str::to_string) else {
            {
                let noun = m.settings.group_noun();
                return note(m, format!("select a {noun} first"), false);
            }
        };
        let keys = trace_keys(m, &trace);
        Prompt::Ttl {
            what: format!(
                "every key of {} {} ({} {})",
                streams::noun(&m.settings, &trace),
                streams::shown(&trace),
                thousands(keys.len() as u64),
                noun(keys.len() as u64, "key", "keys")
            ),
            full_keys: keys,
            whole_trace: true,
        }
    } else {
        let Some(full) = selected_key(m) else {
            return note(m, "select a key first", false);
        };
        Prompt::Ttl {
            what: label_of(m, &full),
            full_keys: vec![full],
            whole_trace: false,
        }
    };
    match expiry {
        None => {
            m.dialog = Some(Dialog::Prompt {
                purpose,
                input: String::new(),
                fits: Vec::new(),
            })
        }
        Some(e) => apply_ttl(m, purpose, e, fx),
    }
}

pub fn apply_ttl(m: &mut Model, purpose: Prompt, expiry: Expiry, fx: &mut Vec<Effect>) {
    let Prompt::Ttl {
        full_keys,
        what,
        whole_trace,
    } = purpose
    else {
        return;
    };
    let change = match expiry {
        Expiry::Persist => "remove the TTL of".to_string(),
        e => format!("set TTL {e} on"),
    };
    let op = WriteOp::Expire { full_keys, expiry };
    if whole_trace {
        m.dialog = Some(Dialog::Confirm {
            title: "Change TTLs".into(),
            // Escaped here: the dialog breaks its text into lines at newlines.
            text: format!("{change} {}?", text::line(&what)),
            label: format!("{change} {what}"),
            op,
        });
    } else {
        send_write(m, op, format!("{change} {what}"), fx);
    }
}

pub fn start_delete(m: &mut Model) {
    if refuse_read_only(m, "deleting") {
        return;
    }
    let Some(full) = selected_key(m) else {
        {
            let noun = m.settings.group_noun();
            return note(
                m,
                format!("select a key to delete (D clears a whole {noun})"),
                false,
            );
        }
    };
    let Some((trace, key)) = split_shown(&m.keyspace, &full) else {
        return;
    };
    m.dialog = Some(Dialog::Confirm {
        title: "Delete key".into(),
        text: format!(
            "Delete key {} of {} {}?",
            text::line(key),
            streams::noun(&m.settings, trace),
            text::line(&streams::shown(trace))
        ),
        label: format!("delete {}:{key}", streams::shown(trace)),
        op: WriteOp::Unlink {
            full_keys: vec![full.clone()],
        },
    });
}

pub fn start_clear(m: &mut Model) {
    if refuse_read_only(
        m,
        if m.settings.iii {
            "clearing a scope"
        } else {
            "clearing a trace"
        },
    ) {
        return;
    }
    let Some(trace) = m.traces.selected.as_deref().map(str::to_string) else {
        {
            let noun = m.settings.group_noun();
            return note(m, format!("select a {noun} first"), false);
        }
    };
    let keys = trace_keys(m, &trace);
    let group = streams::noun(&m.settings, &trace);
    let trace = streams::shown(&trace).into_owned();
    m.dialog = Some(Dialog::Confirm {
        title: format!("Clear {group}"),
        text: format!(
            "Clear {group} {}: delete all {} {}?",
            text::line(&trace),
            thousands(keys.len() as u64),
            noun(keys.len() as u64, "key", "keys")
        ),
        label: format!(
            "clear {group} {trace} ({} {})",
            thousands(keys.len() as u64),
            noun(keys.len() as u64, "key", "keys")
        ),
        op: WriteOp::Unlink { full_keys: keys },
    });
}

/// A write finished: its notification, then what it changed on screen.
pub fn written(
    m: &mut Model,
    id: u64,
    op: WriteOp,
    result: Result<WriteOutcome, String>,
    fx: &mut Vec<Effect>,
) {
    let label = m.write_labels.remove(&id).unwrap_or_else(|| "write".into());
    let ours = m.editor.as_ref().is_some_and(|e| e.saving == Some(id));
    if ours && let Some(ed) = &mut m.editor {
        ed.saving = None;
    }
    let outcome = match result {
        Ok(o) => o,
        Err(e) => return failed(m, id, &label, ours, e),
    };
    // Confirmed without the journal: its outcome is the write's own.
    let op = match op {
        WriteOp::Unjournalled(inner) if !matches!(outcome, WriteOutcome::NotJournalled { .. }) => {
            *inner
        }
        op => op,
    };
    match (outcome, op) {
        (WriteOutcome::Saved, WriteOp::Save { full_key, .. }) => {
            saved(m, id, &label, ours, full_key, fx)
        }
        (WriteOutcome::Conflict(current), WriteOp::Save { full_key, .. }) => {
            conflict(m, id, &label, ours, &full_key, current)
        }
        (WriteOutcome::Expired(n), WriteOp::Expire { full_keys, .. }) => {
            let missing = full_keys.len() as u64 - n.min(full_keys.len() as u64);
            let extra = if missing > 0 {
                format!(" ({missing} unchanged: missing or already without TTL)")
            } else {
                String::new()
            };
            toast(
                m,
                id,
                format!("{label}: {n} changed{extra}"),
                ToastKind::Done,
            );
            request_meta_keys(m, full_keys, fx);
        }
        (WriteOutcome::Unlinked(n), WriteOp::Unlink { full_keys }) => {
            unlinked(m, id, &label, n, full_keys, fx)
        }
        (WriteOutcome::Exported(n), _) => toast(
            m,
            id,
            format!(
                "{label}: {} {} written",
                thousands(n),
                noun(n, "item", "items")
            ),
            ToastKind::Done,
        ),
        (WriteOutcome::Imported(n), _) => {
            toast(
                m,
                id,
                format!(
                    "{label}: {} {} written",
                    thousands(n),
                    noun(n, "item", "items")
                ),
                ToastKind::Done,
            );
            start_scan(m, fx);
        }
        (
            WriteOutcome::ImportPrefix { from, to },
            WriteOp::Import {
                path, overwrite, ..
            },
        ) => {
            // Asked only now: the worker read the file's prefix, nothing is written yet.
            let name = |p: &str| motia_state::adapter::escape::name_str(p).into_owned();
            m.toasts.retain(|t| t.id != id);
            m.dialog = Some(Dialog::Confirm {
                title: "Import under another prefix".into(),
                text: format!(
                    "{} was exported under the prefix \"{}\"; import its items under \"{}\"?",
                    path.display(),
                    name(&from),
                    name(&to)
                ),
                label,
                op: WriteOp::Import {
                    path,
                    overwrite,
                    other_prefix: true,
                },
            });
        }
        (
            WriteOutcome::Undone {
                restored,
                conflicts,
            },
            _,
        ) => crate::browser::update::journal::undone(m, id, &label, restored, conflicts, fx),
        (WriteOutcome::NotJournalled { what }, op) => {
            // Asked only now: the worker measured the before-images, nothing is written yet.
            m.toasts.retain(|t| t.id != id);
            m.dialog = Some(Dialog::Confirm {
                title: "Not journalled".into(),
                text: format!("{what}. Write anyway?"),
                label,
                op: WriteOp::Unjournalled(Box::new(op)),
            });
        }
        (WriteOutcome::Collected(report), WriteOp::Gc { plan }) => {
            crate::browser::update::stats::collected(m, id, &label, plan.action, report, fx)
        }
        (_, _) => toast(m, id, format!("{label}: done"), ToastKind::Done),
    }
}

/// A write failed: the notification stays until dismissed; a failed save keeps the editor
/// open with the reason.
fn failed(m: &mut Model, id: u64, label: &str, ours: bool, e: String) {
    if ours && let Some(ed) = &mut m.editor {
        ed.error = Some(format!("not saved: {e}"));
    }
    let dismiss = m.keymap.keys_of(Command::Dismiss);
    toast(
        m,
        id,
        format!("{label} failed: {e} ({dismiss} dismisses)"),
        ToastKind::Failed,
    )
}

/// A value was saved: the editor closes, the key is shown (a new one without a rescan).
fn saved(m: &mut Model, id: u64, label: &str, ours: bool, full_key: String, fx: &mut Vec<Effect>) {
    if ours {
        m.editor = None;
    }
    toast(m, id, format!("{label}: done"), ToastKind::Done);
    if let Some((trace, key)) = split_shown(&m.keyspace, &full_key) {
        let (trace, key) = (trace.to_string(), key.to_string());
        let generation = m.scan.generation;
        if m.index.insert(&trace, &key, generation)
            || m.keys.trace.as_deref() != Some(trace.as_str())
        {
            m.traces.selected = Some(trace.as_str().into());
            m.traces.anchor = m.traces.selected.clone();
            rebuild_traces(m, fx, true);
        }
        m.keys.selected = Some(Selected::Key(key));
        rebuild_keys(m, fx);
    }
    m.meta.remove(&full_key);
    request_meta_keys(m, vec![full_key.clone()], fx);
    if m.value.full_key.as_deref() == Some(&full_key) {
        reload_value(m, fx);
    }
}

/// The save found other bytes than those loaded (or, creating, a key that exists).
fn conflict(
    m: &mut Model,
    id: u64,
    label: &str,
    ours: bool,
    full_key: &str,
    current: Option<Vec<u8>>,
) {
    let creating = m.editor.as_ref().is_some_and(|e| e.creating);
    if creating {
        let text = format!(
            "{} exists already; nothing was written",
            label_of(m, full_key)
        );
        if let Some(ed) = &mut m.editor {
            ed.error = Some(text.clone());
        }
        let dismiss = m.keymap.keys_of(Command::Dismiss);
        toast(
            m,
            id,
            format!("{label} refused: {text} ({dismiss} dismisses)"),
            ToastKind::Failed,
        );
    } else {
        // Nothing was written: a failure, never shown as a success.
        let dismiss = m.keymap.keys_of(Command::Dismiss);
        toast(
            m,
            id,
            format!(
                "{label}: not written, the value changed since it was loaded ({dismiss} dismisses)"
            ),
            ToastKind::Failed,
        );
        if ours {
            m.dialog = Some(Dialog::Conflict { current });
        }
    }
}

/// Keys were removed: they leave the index at once.
fn unlinked(
    m: &mut Model,
    id: u64,
    label: &str,
    n: u64,
    full_keys: Vec<String>,
    fx: &mut Vec<Effect>,
) {
    toast(
        m,
        id,
        format!("{label}: {} removed", thousands(n)),
        ToastKind::Done,
    );
    forget(m, &full_keys, fx);
}
