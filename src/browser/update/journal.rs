//! Undo: `u` asks to undo this session's newest write that is not undone; `:journal` lists the
//! session's writes, `u` or Enter there undoes the selected one. The worker restores
//! compare-and-set and journals the undo.

use crate::browser::action::{Effect, WriteOp};
use crate::browser::keymap::Command;
use crate::browser::model::dialog::Dialog;
use crate::browser::model::journal::{SessionEntry, listed, newest_undoable};
use crate::browser::model::notifications::ToastKind;
use crate::browser::model::{Model, Overlay};
use crate::browser::update::notifications::{note, refuse_read_only, toast};
use crate::browser::update::scan::start_scan;
use crate::diff::LineKind;

/// Asks to undo entry `id`, or the newest undoable one.
pub fn start_undo(m: &mut Model, id: Option<u64>) {
    if refuse_read_only(m, "undo") {
        return;
    }
    let entry = match id {
        Some(id) => m.journal.iter().find(|e| e.id == id),
        None => newest_undoable(m),
    };
    let Some(entry) = entry.cloned() else {
        let text = if m.journal.is_empty() {
            "nothing to undo: this session made no journalled write"
        } else {
            "nothing left to undo in this session (:journal lists its writes)"
        };
        return note(m, text, false);
    };
    if !entry.undoable() {
        let why = if entry.undone {
            "it was undone already"
        } else {
            "it is an undo (undo the write it undid again instead)"
        };
        return note(m, format!("cannot undo {}: {why}", entry.id), false);
    }
    let mut text = format!(
        "Undo {} {} of {}? It will:",
        entry.operation, entry.id, entry.keys
    );
    for line in &entry.undo {
        text.push_str("\n  ");
        text.push_str(line);
    }
    text.push_str("\nKeys changed since then are left as they are.");
    m.dialog = Some(Dialog::Confirm {
        title: "Undo".into(),
        text,
        label: format!("undo {} {}", entry.operation, entry.id),
        op: WriteOp::Undo { entry: entry.id },
    });
}

/// `:journal`.
pub fn open(m: &mut Model) {
    if m.journal.is_empty() {
        return note(m, "no journalled write in this session yet", false);
    }
    m.overlay = Some(Overlay::Journal { selected: 0 });
}

/// Keys while the journal overlay is open.
pub fn key(m: &mut Model, cmd: Option<Command>) {
    let Some(Overlay::Journal { selected }) = &mut m.overlay else {
        return;
    };
    let last = m.journal.len().saturating_sub(1);
    match cmd {
        Some(Command::Back | Command::Quit) => m.overlay = None,
        Some(Command::Down) => *selected = (*selected + 1).min(last),
        Some(Command::Up) => *selected = selected.saturating_sub(1),
        Some(Command::Top) => *selected = 0,
        Some(Command::Bottom) => *selected = last,
        Some(Command::Open | Command::Undo) => {
            let at = *selected;
            let id = listed(m).nth(at).map(|e| e.id);
            m.overlay = None;
            start_undo(m, id);
        }
        _ => {}
    }
}

/// The worker journalled a write of this session.
pub fn journalled(m: &mut Model, entry: SessionEntry) {
    if let Some(undid) = entry.undoes
        && let Some(e) = m.journal.iter_mut().find(|e| e.id == undid)
    {
        e.undone = true;
    }
    m.journal.push(entry);
}

/// An undo finished: what it restored, and the keys it left because they changed since.
pub fn undone(
    m: &mut Model,
    id: u64,
    label: &str,
    restored: u64,
    conflicts: Vec<String>,
    fx: &mut Vec<Effect>,
) {
    if conflicts.is_empty() {
        toast(
            m,
            id,
            format!("{label}: {restored} restored"),
            ToastKind::Done,
        );
    } else {
        let shown: Vec<&str> = conflicts.iter().take(3).map(String::as_str).collect();
        let more = conflicts.len().saturating_sub(3);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        let dismiss = m.keymap.keys_of(Command::Dismiss);
        toast(
            m,
            id,
            format!(
                "{label}: {restored} restored; left {} as they are, changed since the write: \
                 {}{more} ({dismiss} dismisses)",
                conflicts.len(),
                shown.join(", ")
            ),
            ToastKind::Failed,
        );
    }
    // Keys may have come back or gone: the index and the panes follow.
    start_scan(m, fx);
}

/// `R` in the History view: asks to write the selected version back, showing its diff against
/// the value read with the history; the save is compare-and-set against that value.
pub fn start_restore(m: &mut Model) {
    if refuse_read_only(m, "restoring a version") {
        return;
    }
    let Some(view) = m.history.as_ref() else {
        return;
    };
    let Some(entry) = view.entries.get(view.list.cursor) else {
        return note(m, "select a version first", false);
    };
    let Some(text) = entry.value.as_deref().filter(|_| entry.operation == "set") else {
        return note(m, "only a set has a version to restore", false);
    };
    let Some(current) = view.current.clone() else {
        return note(m, "the history is still being read", false);
    };
    let now = current.as_deref().unwrap_or(b"");
    let diff = crate::diff::values(now, text.as_bytes());
    let (added, removed) = diff.counts();
    if added + removed == 0 && current.is_some() {
        return note(m, "the key holds this version already", false);
    }
    let zone = *m.clock.wall().offset();
    let when = crate::browser::format::local_time(entry.timestamp, &zone);
    let mut question = format!(
        "Write back the value {} set at {when} to {}:{}?\nAgainst the value now: +{added} -{removed}",
        entry.step, view.trace, view.key
    );
    const SHOWN: usize = 8;
    for (kind, text) in diff
        .lines_from(0)
        .filter(|l| l.0 != LineKind::Same)
        .take(SHOWN)
    {
        let mark = if kind == LineKind::Added { '+' } else { '-' };
        question.push_str(&format!("\n  {mark} {text}"));
    }
    if added + removed > SHOWN {
        question.push_str(&format!(
            "\n  … {} more (= shows the whole diff)",
            added + removed - SHOWN
        ));
    }
    let label = format!("restore {}:{}", view.trace, view.key);
    let op = WriteOp::Save {
        full_key: view.full_key.clone(),
        expected: current.map(|c| c.to_vec()),
        text: text.to_string(),
    };
    m.dialog = Some(Dialog::Confirm {
        title: "Restore a version".into(),
        text: question,
        label,
        op,
    });
}
