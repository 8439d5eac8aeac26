//! Changing state by hand, as part of `update` (pure): the editor, prompts, confirmations, the
//! `:` command line, writes and the notifications that report them.
//!
//! Safety rules kept here: read-only refuses before any command is built; a save is a
//! compare-and-set against the exact bytes shown when editing started; a value shown truncated
//! cannot be edited; deletes name what they delete and are confirmed; a failed save never
//! closes the editor, so the text is never lost.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use motia_state::{Expiry, StateFilter};
use ratatui_textarea::TextArea;

use crate::browser::action::{Effect, WorkerCmd, WriteOp, WriteOutcome};
use crate::browser::clipboard::MAX_COPY_BYTES;
use crate::browser::command::{self, Command as Cmd};
use crate::browser::doc::{ValueDoc, WINDOW};
use crate::browser::keymap::Command;
use crate::browser::model::{Model, Pane, RowKind, Selected};
use crate::browser::ui::{human_bytes, theme, thousands};
use crate::browser::update::{note, rebuild_keys, rebuild_traces, reload_value, request_meta_keys};

/// Successful notifications disappear after this long; failures stay until dismissed.
pub const TOAST_TIME: Duration = Duration::from_secs(4);
/// At most this many keys get their metadata fetched for a sort by size or TTL.
const SORT_META_LIMIT: usize = 20_000;

/// The in-place editor of one value.
pub struct Editor {
    /// The key being edited (full Redis key) and how it is shown (`trace:key`).
    pub full_key: String,
    pub label: String,
    pub area: TextArea<'static>,
    /// The text when editing started; leaving with other text asks first.
    pub original: String,
    /// The bytes the save compares against; `None` creates the key (it must not exist).
    pub expected: Option<Vec<u8>>,
    pub creating: bool,
    /// Why the last save did not happen (bad JSON, a failure).
    pub error: Option<String>,
    /// Something to know before saving (the value changed in Redis).
    pub notice: Option<String>,
    /// The save in flight.
    pub saving: Option<u64>,
}

impl Editor {
    pub fn new(
        full_key: String,
        label: String,
        text: &str,
        expected: Option<Vec<u8>>,
        creating: bool,
    ) -> Self {
        let mut ed = Self {
            full_key,
            label,
            area: TextArea::default(),
            original: text.to_string(),
            expected,
            creating,
            error: None,
            notice: None,
            saving: None,
        };
        ed.set_text(text);
        ed
    }

    /// Replaces the text (after `$EDITOR`), cursor at the top.
    pub fn set_text(&mut self, text: &str) {
        let mut area = TextArea::new(text.lines().map(str::to_string).collect());
        area.set_line_number_style(theme::dim());
        area.set_cursor_line_style(ratatui::style::Style::new());
        area.set_tab_length(2);
        self.area = area;
    }

    pub fn text(&self) -> String {
        self.area.lines().join("\n")
    }

    /// The text differs from what was loaded.
    pub fn dirty(&self) -> bool {
        self.text().trim_end() != self.original.trim_end()
    }
}

/// What a one-line prompt is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Prompt {
    /// The `:` command line.
    Command,
    /// The id of a new trace (then its first key).
    TraceId,
    /// The name of a new key in `trace`.
    KeyName { trace: String },
    /// A TTL for `full_keys`; `whole_trace` asks for a confirmation first.
    Ttl {
        full_keys: Vec<String>,
        what: String,
        whole_trace: bool,
    },
}

/// A box over the panes (and over the editor) that takes the keys until it closes.
pub enum Dialog {
    Prompt {
        purpose: Prompt,
        input: String,
        /// Command names that fit what is typed (the command line only).
        fits: Vec<&'static str>,
    },
    /// `y` performs `op`; anything else cancels.
    Confirm {
        title: String,
        text: String,
        op: WriteOp,
        label: String,
    },
    /// Leaving the editor with unsaved changes.
    Discard,
    /// The save found other bytes than those loaded.
    Conflict { current: Option<Vec<u8>> },
    /// The value as it is now in Redis, shown after a conflict.
    Current {
        current: Option<Vec<u8>>,
        doc: Option<Arc<ValueDoc>>,
        scroll: usize,
    },
}

/// How a notification ended (or not yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Pending,
    Done,
    Failed,
}

/// One write and its result.
#[derive(Debug, Clone)]
pub struct Toast {
    pub id: u64,
    pub text: String,
    pub kind: ToastKind,
    pub at: Instant,
}

/// Key order of the Keys pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeySort {
    /// A tree, by name.
    #[default]
    Name,
    /// Flat, biggest first.
    Size,
    /// Flat, soonest expiry first.
    Ttl,
}

/// A `:where` filter on the keys of one trace.
#[derive(Debug, Clone)]
pub struct WhereFilter {
    pub text: String,
    pub trace: Box<str>,
    pub request: u64,
    /// Keys (without prefix and trace) whose value matches; `None` while loading.
    pub matching: Option<HashSet<String>>,
}

fn label_of(m: &Model, full: &str) -> String {
    match m.keyspace.split(full) {
        Some((t, k)) => format!("{t}:{k}"),
        None => full.to_string(),
    }
}

/// True (and says so) when the browser runs read-only: nothing is sent.
fn refuse_read_only(m: &mut Model, what: &str) -> bool {
    if m.settings.read_only {
        note(
            m,
            format!("read-only mode: {what} refused, nothing was sent to Redis"),
            true,
        );
    }
    m.settings.read_only
}

fn toast(m: &mut Model, id: u64, text: String, kind: ToastKind) {
    let at = m.now();
    match m.toasts.iter_mut().find(|t| t.id == id) {
        Some(t) => {
            t.text = text;
            t.kind = kind;
            t.at = at;
        }
        None => m.toasts.push(Toast { id, text, kind, at }),
    }
    // Old successes make room; failures stay.
    while m.toasts.len() > 6 {
        match m.toasts.iter().position(|t| t.kind != ToastKind::Failed) {
            Some(i) => {
                m.toasts.remove(i);
            }
            None => break,
        }
    }
}

/// Sends a write and shows it as pending.
fn send_write(m: &mut Model, op: WriteOp, label: String, fx: &mut Vec<Effect>) -> u64 {
    m.next_write += 1;
    let id = m.next_write;
    toast(m, id, format!("{label}…"), ToastKind::Pending);
    m.write_labels.insert(id, label);
    fx.push(Effect::Worker(WorkerCmd::Write { id, op }));
    id
}

/// Drops finished notifications whose time is up; true when any went.
pub fn expire_toasts(m: &mut Model) -> bool {
    let now = m.now();
    let before = m.toasts.len();
    m.toasts
        .retain(|t| t.kind != ToastKind::Done || now.saturating_duration_since(t.at) < TOAST_TIME);
    before != m.toasts.len()
}

/// When the next successful notification should go.
pub fn next_toast_expiry(m: &Model) -> Option<Instant> {
    m.toasts
        .iter()
        .filter(|t| t.kind == ToastKind::Done)
        .map(|t| t.at + TOAST_TIME)
        .min()
}

/// The key the user means: the key row on the Keys pane, the shown key on the Value pane.
fn selected_key(m: &Model) -> Option<String> {
    match m.focus {
        Pane::Traces => None,
        Pane::Keys => m.cursor_key().and_then(|k| m.full_key(k)),
        Pane::Value => m.value.full_key.clone(),
    }
}

fn trace_keys(m: &Model, trace: &str) -> Vec<String> {
    m.index
        .traces
        .get(trace)
        .map(|keys| {
            keys.keys()
                .map(|k| format!("{}{trace}:{k}", m.settings.prefix))
                .collect()
        })
        .unwrap_or_default()
}

// ---- commands from the normal mode ----

/// Handles the commands of this module; false when `cmd` is not one of them.
pub fn on_command(m: &mut Model, cmd: Command, fx: &mut Vec<Effect>) -> bool {
    match cmd {
        Command::Edit => open_editor(m, false, fx),
        Command::ExternalEdit => open_editor(m, true, fx),
        Command::New => start_new(m),
        Command::SetTtl => start_ttl(m, None, fx),
        Command::Delete => start_delete(m),
        Command::ClearTrace => start_clear(m),
        Command::CmdLine => {
            m.dialog = Some(Dialog::Prompt {
                purpose: Prompt::Command,
                input: String::new(),
                fits: Vec::new(),
            })
        }
        Command::Copy => copy_value(m, fx),
        Command::CopyKey => match selected_key(m) {
            Some(k) => {
                note(m, format!("copied the key {k} to the clipboard"), false);
                fx.push(Effect::Copy(k));
            }
            None => note(m, "select a key first", false),
        },
        Command::Dismiss => {
            m.toasts.retain(|t| t.kind == ToastKind::Pending);
            m.note = None;
        }
        Command::Save => note(m, "Ctrl-S saves in the editor (e opens it)", false),
        _ => return false,
    }
    true
}

fn copy_value(m: &mut Model, fx: &mut Vec<Effect>) {
    let Some(doc) = m.value.doc.clone() else {
        return note(m, "select a key first", false);
    };
    let Some(raw) = &doc.raw else {
        return note(
            m,
            format!(
                "only part of the value is loaded: press {} to load all of it, then copy",
                m.keymap.keys_of(Command::LoadAll)
            ),
            true,
        );
    };
    if raw.len() > MAX_COPY_BYTES {
        return note(
            m,
            format!(
                "the value is {}; terminals accept at most {} on the clipboard",
                human_bytes(raw.len() as u64),
                human_bytes(MAX_COPY_BYTES as u64)
            ),
            true,
        );
    }
    note(
        m,
        format!(
            "copied {} of the value to the clipboard (OSC 52)",
            human_bytes(raw.len() as u64)
        ),
        false,
    );
    fx.push(Effect::Copy(String::from_utf8_lossy(raw).into_owned()));
}

fn open_editor(m: &mut Model, external: bool, fx: &mut Vec<Effect>) {
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
    m.editor = Some(Editor::new(full, label, &text, Some(raw.to_vec()), false));
    if external {
        fx.push(Effect::ExternalEdit { text });
    }
}

fn start_new(m: &mut Model) {
    if refuse_read_only(m, "creating a key") {
        return;
    }
    let purpose = match (m.focus, m.keys.trace.as_deref()) {
        (Pane::Traces, _) | (_, None) => Prompt::TraceId,
        (_, Some(t)) => Prompt::KeyName {
            trace: t.to_string(),
        },
    };
    m.dialog = Some(Dialog::Prompt {
        purpose,
        input: String::new(),
        fits: Vec::new(),
    });
}

/// `t` (with `expiry: None`, asking for it) or `:ttl` / `:persist`.
fn start_ttl(m: &mut Model, expiry: Option<Expiry>, fx: &mut Vec<Effect>) {
    if refuse_read_only(m, "changing a TTL") {
        return;
    }
    let purpose = if m.focus == Pane::Traces {
        let Some(trace) = m.traces.selected.as_deref().map(str::to_string) else {
            return note(m, "select a trace first", false);
        };
        let keys = trace_keys(m, &trace);
        Prompt::Ttl {
            what: format!(
                "every key of trace {trace} ({} keys)",
                thousands(keys.len() as u64)
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

fn apply_ttl(m: &mut Model, purpose: Prompt, expiry: Expiry, fx: &mut Vec<Effect>) {
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
            text: format!("{change} {what}?"),
            label: format!("{change} {what}"),
            op,
        });
    } else {
        send_write(m, op, format!("{change} {what}"), fx);
    }
}

fn start_delete(m: &mut Model) {
    if refuse_read_only(m, "deleting") {
        return;
    }
    let Some(full) = selected_key(m) else {
        return note(m, "select a key to delete (D clears a whole trace)", false);
    };
    let Some((trace, key)) = m.keyspace.split(&full) else {
        return;
    };
    m.dialog = Some(Dialog::Confirm {
        title: "Delete key".into(),
        text: format!("Delete key {key} of trace {trace}?"),
        label: format!("delete {trace}:{key}"),
        op: WriteOp::Unlink {
            full_keys: vec![full.clone()],
        },
    });
}

fn start_clear(m: &mut Model) {
    if refuse_read_only(m, "clearing a trace") {
        return;
    }
    let Some(trace) = m.traces.selected.as_deref().map(str::to_string) else {
        return note(m, "select a trace first", false);
    };
    let keys = trace_keys(m, &trace);
    m.dialog = Some(Dialog::Confirm {
        title: "Clear trace".into(),
        text: format!(
            "Clear trace {trace}: delete all {} keys?",
            thousands(keys.len() as u64)
        ),
        label: format!(
            "clear trace {trace} ({} keys)",
            thousands(keys.len() as u64)
        ),
        op: WriteOp::Unlink { full_keys: keys },
    });
}

// ---- keys while a dialog or the editor is open ----

/// Keys for the open dialog.
pub fn dialog_key(m: &mut Model, k: KeyEvent, cmd: Option<Command>, fx: &mut Vec<Effect>) {
    let Some(dialog) = m.dialog.take() else {
        return;
    };
    let plain_char = match k.code {
        KeyCode::Char(c)
            if !k
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    };
    match dialog {
        Dialog::Prompt {
            purpose,
            mut input,
            mut fits,
        } => match k.code {
            KeyCode::Esc => {}
            KeyCode::Enter => submit_prompt(m, purpose, input.trim().to_string(), fx),
            KeyCode::Tab if purpose == Prompt::Command => {
                let (line, f) = command::complete(&input);
                m.dialog = Some(Dialog::Prompt {
                    purpose,
                    input: line,
                    fits: f,
                });
            }
            KeyCode::Backspace => {
                if input.pop().is_none() && purpose == Prompt::Command {
                    return;
                }
                fits.clear();
                m.dialog = Some(Dialog::Prompt {
                    purpose,
                    input,
                    fits,
                });
            }
            _ => {
                if let Some(c) = plain_char {
                    input.push(c);
                    fits.clear();
                }
                m.dialog = Some(Dialog::Prompt {
                    purpose,
                    input,
                    fits,
                });
            }
        },
        Dialog::Confirm { op, label, .. } => {
            if matches!(plain_char, Some('y' | 'Y')) {
                if !refuse_read_only(m, &label) {
                    send_write(m, op, label, fx);
                }
            } else {
                note(m, format!("cancelled: {label}"), false);
            }
        }
        Dialog::Discard => match plain_char {
            Some('y' | 'Y') => {
                m.editor = None;
                note(m, "changes discarded, nothing was written", false);
            }
            _ if cmd == Some(Command::Save) => save(m, fx),
            // Anything else goes back to the text.
            _ => {}
        },
        Dialog::Conflict { current } => match plain_char {
            Some('s' | 'S') => {
                let doc = current
                    .as_ref()
                    .map(|b| Arc::new(ValueDoc::build(b, b.len() as u64)));
                m.dialog = Some(Dialog::Current {
                    current,
                    doc,
                    scroll: 0,
                });
            }
            Some('o' | 'O') => overwrite(m, current, fx),
            Some('c' | 'C') => {}
            _ if k.code == KeyCode::Esc => {}
            _ => m.dialog = Some(Dialog::Conflict { current }),
        },
        Dialog::Current {
            current,
            doc,
            mut scroll,
        } => match (plain_char, cmd) {
            (Some('o' | 'O'), _) => overwrite(m, current, fx),
            (_, Some(Command::Down)) | (Some('j'), _) => {
                scroll += 1;
                m.dialog = Some(Dialog::Current {
                    current,
                    doc,
                    scroll,
                });
            }
            (_, Some(Command::Up)) | (Some('k'), _) => {
                scroll = scroll.saturating_sub(1);
                m.dialog = Some(Dialog::Current {
                    current,
                    doc,
                    scroll,
                });
            }
            _ if k.code == KeyCode::Esc || plain_char == Some('q') => {
                // Back to the edited text; it now applies to the value just shown.
                if let Some(ed) = &mut m.editor {
                    ed.creating = current.is_none();
                    ed.expected = current;
                    ed.notice = Some(
                        "the value in Redis changed since it was loaded; Ctrl-S now replaces \
                         the value you saw with this text"
                            .into(),
                    );
                }
            }
            _ => {
                m.dialog = Some(Dialog::Current {
                    current,
                    doc,
                    scroll,
                })
            }
        },
    }
}

fn overwrite(m: &mut Model, current: Option<Vec<u8>>, fx: &mut Vec<Effect>) {
    if let Some(ed) = &mut m.editor {
        ed.creating = current.is_none();
        ed.expected = current;
    }
    save(m, fx);
}

/// Keeps a prompt open with what was typed and says what is wrong with it, so the user fixes
/// it (or leaves with Esc) instead of having the next keys taken as commands.
fn reprompt(m: &mut Model, purpose: Prompt, input: String, problem: String) {
    note(m, format!("{problem} (fix it, or Esc cancels)"), true);
    m.dialog = Some(Dialog::Prompt {
        purpose,
        input,
        fits: Vec::new(),
    });
}

fn submit_prompt(m: &mut Model, purpose: Prompt, input: String, fx: &mut Vec<Effect>) {
    match purpose {
        Prompt::Command => run_command(m, &input, fx),
        Prompt::TraceId => {
            if let Err(e) = motia_state::adapter::keys::validate_group(&input) {
                return reprompt(
                    m,
                    Prompt::TraceId,
                    input,
                    format!("{e}; nothing was created"),
                );
            }
            m.dialog = Some(Dialog::Prompt {
                purpose: Prompt::KeyName { trace: input },
                input: String::new(),
                fits: Vec::new(),
            });
        }
        Prompt::KeyName { trace } => {
            if input.is_empty() {
                let problem = "a key name cannot be empty; nothing was created".to_string();
                return reprompt(m, Prompt::KeyName { trace }, input, problem);
            }
            if m.index
                .traces
                .get(trace.as_str())
                .is_some_and(|keys| keys.contains_key(input.as_str()))
            {
                let problem = format!(
                    "{trace}:{input} exists already; nothing was created ({} edits it)",
                    m.keymap.keys_of(Command::Edit)
                );
                return reprompt(m, Prompt::KeyName { trace }, input, problem);
            }
            let full = match m.keyspace.full_key(&trace, &input) {
                Ok(f) => f,
                Err(e) => {
                    let problem = format!("{e}; nothing was created");
                    return reprompt(m, Prompt::KeyName { trace }, input, problem);
                }
            };
            m.editor = Some(Editor::new(
                full,
                format!("{trace}:{input}"),
                "{}",
                None,
                true,
            ));
        }
        Prompt::Ttl { .. } => match input.parse::<Expiry>() {
            Ok(e) => apply_ttl(m, purpose, e, fx),
            Err(e) => reprompt(m, purpose, input, format!("{e}; nothing was changed")),
        },
    }
}

fn run_command(m: &mut Model, input: &str, fx: &mut Vec<Effect>) {
    let cmd = match command::parse(input) {
        Ok(c) => c,
        Err(e) => {
            let problem = format!(":{input}: {e}");
            return reprompt(m, Prompt::Command, input.to_string(), problem);
        }
    };
    match cmd {
        Cmd::Ttl(e) => start_ttl(m, Some(e), fx),
        Cmd::Persist => start_ttl(m, Some(Expiry::Persist), fx),
        Cmd::Del => start_delete(m),
        Cmd::Clear => start_clear(m),
        Cmd::Export { path, all } => {
            let trace = if all {
                None
            } else {
                m.traces.selected.as_deref().map(str::to_string)
            };
            let what = match &trace {
                Some(t) => format!("trace {t}"),
                None => "every trace".into(),
            };
            let label = format!("export {what} to {}", path.display());
            send_write(m, WriteOp::Export { path, trace }, label, fx);
        }
        Cmd::Import(path) => {
            if refuse_read_only(m, "import") {
                return;
            }
            let label = format!("import {}", path.display());
            send_write(m, WriteOp::Import { path }, label, fx);
        }
        Cmd::Where(None) => {
            if m.keys.where_filter.take().is_some() {
                note(m, "value filter cleared", false);
            }
            rebuild_keys(m, fx);
        }
        Cmd::Where(Some(filter)) => start_where(m, input, filter, fx),
        Cmd::Quit => fx.push(Effect::Quit),
    }
}

fn start_where(m: &mut Model, input: &str, filter: StateFilter, fx: &mut Vec<Effect>) {
    let Some(trace) = m.keys.trace.clone() else {
        return note(m, "select a trace first", false);
    };
    let full_keys = trace_keys(m, &trace);
    m.next_request += 1;
    let id = m.next_request;
    let text = input
        .trim()
        .strip_prefix("where")
        .unwrap_or(input)
        .trim()
        .to_string();
    m.keys.where_filter = Some(WhereFilter {
        text,
        trace,
        request: id,
        matching: None,
    });
    fx.push(Effect::Worker(WorkerCmd::Where {
        id,
        full_keys,
        filter,
    }));
    rebuild_keys(m, fx);
}

/// Keys while the editor is open (and no dialog is).
pub fn editor_key(m: &mut Model, k: KeyEvent, cmd: Option<Command>, fx: &mut Vec<Effect>) {
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

// ---- results from the worker ----

/// A write finished.
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
        Err(e) => {
            if ours && let Some(ed) = &mut m.editor {
                ed.error = Some(format!("not saved: {e}"));
            }
            let dismiss = m.keymap.keys_of(Command::Dismiss);
            return toast(
                m,
                id,
                format!("{label} failed: {e} ({dismiss} dismisses)"),
                ToastKind::Failed,
            );
        }
    };
    match (outcome, op) {
        (WriteOutcome::Saved, WriteOp::Save { full_key, .. }) => {
            if ours {
                m.editor = None;
            }
            toast(m, id, format!("{label}: done"), ToastKind::Done);
            if let Some((trace, key)) = m.keyspace.split(&full_key) {
                let (trace, key) = (trace.to_string(), key.to_string());
                let generation = m.scan.generation;
                if m.index.insert(&trace, &key, generation)
                    || m.keys.trace.as_deref() != Some(trace.as_str())
                {
                    m.traces.selected = Some(trace.as_str().into());
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
        (WriteOutcome::Conflict(current), WriteOp::Save { full_key, .. }) => {
            let creating = m.editor.as_ref().is_some_and(|e| e.creating);
            if creating {
                let text = format!(
                    "{} exists already; nothing was written",
                    label_of(m, &full_key)
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
                toast(
                    m,
                    id,
                    format!("{label}: not written, the value changed since it was loaded"),
                    ToastKind::Done,
                );
                if ours {
                    m.dialog = Some(Dialog::Conflict { current });
                }
            }
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
            toast(
                m,
                id,
                format!("{label}: {} removed", thousands(n)),
                ToastKind::Done,
            );
            for full in &full_keys {
                m.meta.remove(full);
                if let Some((trace, key)) = m.keyspace.split(full) {
                    let (trace, key) = (trace.to_string(), key.to_string());
                    m.index.remove(&trace, &key);
                }
            }
            rebuild_traces(m, fx, true);
        }
        (WriteOutcome::Exported(n), _) => toast(
            m,
            id,
            format!("{label}: {} items written", thousands(n)),
            ToastKind::Done,
        ),
        (WriteOutcome::Imported(n), _) => {
            toast(
                m,
                id,
                format!("{label}: {} items written", thousands(n)),
                ToastKind::Done,
            );
            crate::browser::update::start_scan(m, fx);
        }
        (_, _) => toast(m, id, format!("{label}: done"), ToastKind::Done),
    }
}

/// The keys a `:where` request found.
pub fn where_result(
    m: &mut Model,
    id: u64,
    result: Result<Vec<String>, String>,
    fx: &mut Vec<Effect>,
) {
    let Some(w) = &mut m.keys.where_filter else {
        return;
    };
    if w.request != id {
        return;
    }
    match result {
        Ok(keys) => {
            let prefix_len = m.settings.prefix.len() + w.trace.len() + 1;
            w.matching = Some(
                keys.iter()
                    .filter_map(|k| k.get(prefix_len..).map(str::to_string))
                    .collect(),
            );
        }
        Err(e) => {
            m.keys.where_filter = None;
            note(m, format!(":where failed: {e}"), true);
        }
    }
    rebuild_keys(m, fx);
}

/// The Keys pane's `s`: name (tree), size, TTL.
pub fn cycle_key_sort(m: &mut Model, fx: &mut Vec<Effect>) {
    m.keys.sort = match m.keys.sort {
        KeySort::Name => KeySort::Size,
        KeySort::Size => KeySort::Ttl,
        KeySort::Ttl => KeySort::Name,
    };
    if m.keys.sort != KeySort::Name
        && let Some(trace) = m.keys.trace.clone()
    {
        let mut keys = trace_keys(m, &trace);
        keys.truncate(SORT_META_LIMIT);
        keys.retain(|k| !m.meta.contains_key(k));
        request_meta_keys(m, keys, fx);
    }
    m.keys.list.cursor = 0;
    m.keys.selected = None;
    rebuild_keys(m, fx);
}

/// Rows of the Keys pane when sorted by size or TTL: flat, keys only.
pub fn sorted_rows(m: &Model, keys: Vec<&str>) -> Vec<crate::browser::model::Row> {
    let trace = m.keys.trace.as_deref().unwrap_or("");
    let now = m.now();
    let far = Duration::from_secs(u64::MAX / 4);
    let mut rows: Vec<(&str, (u8, Duration, u64))> = keys
        .into_iter()
        .map(|k| {
            let meta = m.meta.get(&format!("{}{trace}:{k}", m.settings.prefix));
            let rank = match (m.keys.sort, meta) {
                (_, None) => (2, far, 0),
                (KeySort::Ttl, Some(e)) => match e.ttl_at(now) {
                    motia_state::Ttl::Expires(d) => (0, d, 0),
                    _ => (1, far, 0),
                },
                (_, Some(e)) => (0, Duration::ZERO, u64::MAX - e.meta.len.unwrap_or(0)),
            };
            (k, rank)
        })
        .collect();
    rows.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)));
    rows.into_iter()
        .map(|(k, _)| crate::browser::model::Row {
            depth: 0,
            label: k.to_string(),
            kind: RowKind::Key { key: k.to_string() },
        })
        .collect()
}
