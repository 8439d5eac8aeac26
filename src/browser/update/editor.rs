//! The in-place editor: opening it (on a key, or on a new one), its keys, saving, `$EDITOR`.
//!
//! A save is a compare-and-set against the exact bytes shown when editing started; a value
//! shown truncated cannot be edited; a failed save never closes the editor, so the text is
//! never lost.

use crossterm::event::KeyEvent;

use crate::browser::action::{Effect, WriteOp};
use crate::browser::doc::{DocKind, WINDOW};
use crate::browser::format::human_bytes;
use crate::browser::keymap::Command;
use crate::browser::model::dialog::{Dialog, Prompt};
use crate::browser::model::editor::Editor;
use crate::browser::model::keys::{label_of, selected_key};
use crate::browser::model::streams::shown;
use crate::browser::model::{Model, Pane};
use crate::browser::update::note;
use crate::browser::update::prompt::reprompt;
use crate::browser::update::writes::{refuse_read_only, send_write};

/// The biggest value `e` opens in the inline editor (target: a key press on screen within
/// 50 ms, measured by `BENCH_EDITOR_ONLY=1 cargo bench --bench browser`); bigger values go to
/// `$EDITOR` (`E`).
pub const INLINE_EDIT_LIMIT: u64 = 1024 * 1024;

pub fn open(m: &mut Model, external: bool, fx: &mut Vec<Effect>) {
    if refuse_read_only(m, "editing") {
        return;
    }
    let Some(full) = selected_key(m).or_else(|| m.value.full_key.clone()) else {
        return note(m, "select a key to edit (n creates one)", false);
    };
    if m.value.full_key.as_deref() != Some(&full) || m.value.doc.is_none() {
        return note(
            m,
            "the value is still loading; try again in a moment",
            false,
        );
    }
    if m.value.gone {
        return note(m, "the key no longer exists; n creates a key", true);
    }
    let Some(doc) = m.value.doc.clone() else {
        return;
    };
    if !external && doc.total_len > INLINE_EDIT_LIMIT {
        return note(
            m,
            format!(
                "the value is {}: the inline editor takes values up to {}; {} edits it in \
                 $VISUAL / $EDITOR, which handles any size",
                human_bytes(doc.total_len),
                human_bytes(INLINE_EDIT_LIMIT),
                m.keymap.keys_of(Command::ExternalEdit)
            ),
            true,
        );
    }
    let (Some(text), Some(raw)) = (doc.edit_text(), doc.raw.clone()) else {
        return note(
            m,
            format!(
                "the value is {} and only the first {} is loaded: it cannot be saved until \
                 loaded in full; press {} to load it all",
                human_bytes(doc.total_len),
                human_bytes(WINDOW as u64),
                m.keymap.keys_of(Command::LoadAll)
            ),
            true,
        );
    };
    let label = label_of(m, &full);
    let mut editor = Editor::new(full, label, &text, Some(raw.to_vec()), false);
    if !matches!(doc.kind, DocKind::Json(_)) && text.as_bytes() != &raw[..] {
        editor.notice =
            Some("not JSON, shown escaped (\\xNN); a save replaces it with JSON".into());
    }
    m.editor = Some(editor);
    if external {
        fx.push(Effect::ExternalEdit { text });
    }
}

pub fn start_new(m: &mut Model) {
    if refuse_read_only(m, "creating a key") {
        return;
    }
    let purpose = match (m.focus, m.keys.trace.as_deref()) {
        (Pane::Traces, _) | (_, None) => Prompt::TraceId,
        (_, Some(t)) => Prompt::KeyName {
            trace: t.to_string(),
        },
    };
    // On a folder, the new key starts with the folder's path (when it is plain text: the
    // prompt takes names as typed, and the model holds them escaped).
    let input = match (&purpose, m.focus, m.keys.rows.get(m.keys.list.cursor)) {
        (Prompt::KeyName { .. }, Pane::Keys, Some(row)) => match &row.kind {
            crate::browser::model::keys::RowKind::Folder { path, .. } if !path.contains('\\') => {
                path.clone()
            }
            _ => String::new(),
        },
        _ => String::new(),
    };
    m.dialog = Some(Dialog::Prompt {
        purpose,
        input,
        fits: Vec::new(),
    });
}

/// The id of a new trace was typed: ask for its first key.
pub fn submit_trace_id(m: &mut Model, input: String) {
    if let Err(e) = motia_state::adapter::keys::validate_group(&input) {
        return reprompt(
            m,
            Prompt::TraceId,
            input,
            format!("{e}; nothing was created"),
        );
    }
    // Names in the model are escaped (see worker::raw_key); typed names are taken as typed.
    let trace = motia_state::escape::name_str(&input).into_owned();
    m.dialog = Some(Dialog::Prompt {
        purpose: Prompt::KeyName { trace },
        input: String::new(),
        fits: Vec::new(),
    });
}

/// The name of a new key was typed: open the editor on it (it must not exist yet).
pub fn submit_key_name(m: &mut Model, trace: String, input: String) {
    if input.is_empty() {
        let problem = "a key name cannot be empty; nothing was created".to_string();
        return reprompt(m, Prompt::KeyName { trace }, input, problem);
    }
    let name = motia_state::escape::name_str(&input).into_owned();
    if m.index
        .traces
        .get(trace.as_str())
        .is_some_and(|keys| keys.contains(name.as_str()))
    {
        let problem = format!(
            "{}:{name} exists already; nothing was created ({} edits it)",
            shown(&trace),
            m.keymap.keys_of(Command::Edit)
        );
        return reprompt(m, Prompt::KeyName { trace }, input, problem);
    }
    let full = match m.keyspace.full_key(&trace, &name) {
        // Both parts are text, so the full key is too.
        Ok(f) => String::from_utf8_lossy(&f).into_owned(),
        Err(e) => {
            let problem = format!("{e}; nothing was created");
            return reprompt(m, Prompt::KeyName { trace }, input, problem);
        }
    };
    m.editor = Some(Editor::new(
        full,
        format!("{}:{name}", shown(&trace)),
        "{}",
        None,
        true,
    ));
}

/// Keys while the editor is open (and no dialog is).
pub fn key(m: &mut Model, k: KeyEvent, cmd: Option<Command>, fx: &mut Vec<Effect>) {
    match cmd {
        Some(Command::Save) => return save(m, fx),
        Some(Command::Back) => {
            let dirty = m.editor.as_ref().is_some_and(|e| e.dirty());
            if dirty {
                m.dialog = Some(Dialog::Discard);
            } else {
                m.editor = None;
            }
            return;
        }
        _ => {}
    }
    if let Some(ed) = &mut m.editor
        && ed.area.input(k)
    {
        ed.error = None;
    }
}

/// Validates the editor's text and sends the compare-and-set.
pub fn save(m: &mut Model, fx: &mut Vec<Effect>) {
    if refuse_read_only(m, "saving") {
        return;
    }
    let Some(ed) = &mut m.editor else {
        return;
    };
    if ed.saving.is_some() {
        return;
    }
    let text = ed.text();
    if let Err(e) = motia_state::json::parse_input(&text) {
        ed.error = Some(format!("not saved: {e}"));
        return;
    }
    ed.error = None;
    let op = WriteOp::Save {
        full_key: ed.full_key.clone(),
        expected: ed.expected.clone(),
        text,
    };
    let label = if ed.creating {
        format!("create {}", ed.label)
    } else {
        format!("save {}", ed.label)
    };
    let id = send_write(m, op, label, fx);
    if let Some(ed) = &mut m.editor {
        ed.saving = Some(id);
    }
}

pub fn overwrite(m: &mut Model, current: Option<Vec<u8>>, fx: &mut Vec<Effect>) {
    if let Some(ed) = &mut m.editor {
        ed.creating = current.is_none();
        ed.expected = current;
    }
    save(m, fx);
}

/// `$EDITOR` returned: the same checks and save as the in-place editor.
pub fn external_done(m: &mut Model, result: Result<String, String>, fx: &mut Vec<Effect>) {
    let Some(ed) = &mut m.editor else {
        return;
    };
    match result {
        Ok(text) => {
            if text.trim_end() == ed.original.trim_end() {
                m.editor = None;
                return note(m, "no changes; nothing was written", false);
            }
            ed.set_text(&text);
            save(m, fx);
        }
        Err(e) => {
            if !ed.dirty() {
                m.editor = None;
            }
            note(m, e, true);
        }
    }
}
