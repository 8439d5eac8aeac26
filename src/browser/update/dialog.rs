//! Keys while a dialog is open: prompts, confirmations, the conflict after a save and the
//! value found then. Each dialog is taken out of the model and put back if it stays open.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::browser::action::Effect;
use crate::browser::doc::ValueDoc;
use crate::browser::keymap::Command;
use crate::browser::model::Model;
use crate::browser::model::dialog::{Dialog, Prompt};
use crate::browser::update::editor::{overwrite, save, submit_key_name, submit_trace_id};
use crate::browser::update::prompt::reprompt;
use crate::browser::update::writes::{apply_ttl, refuse_read_only, send_write};
use crate::browser::update::{command_line, note};

/// Keys for the open dialog.
pub fn key(m: &mut Model, k: KeyEvent, cmd: Option<Command>, fx: &mut Vec<Effect>) {
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
            input,
            fits,
        } => prompt_key(m, k, plain_char, (purpose, input, fits), fx),
        Dialog::Confirm { op, label, .. } => {
            if matches!(plain_char, Some('y' | 'Y')) {
                if !refuse_read_only(m, &label) {
                    send_write(m, op, label, fx);
                }
            } else {
                note(m, format!("cancelled: {label}"), false);
            }
        }
        Dialog::ConfirmLive { .. } => {
            if matches!(plain_char, Some('y' | 'Y')) {
                crate::browser::update::live::confirm_on(m, fx);
            } else {
                note(
                    m,
                    "cancelled: :live on, nothing changed on the server",
                    false,
                );
            }
        }
        Dialog::RestoreOwed { .. } => {
            if matches!(plain_char, Some('y' | 'Y')) {
                crate::browser::update::live::confirm_owed(m, fx);
            } else {
                note(
                    m,
                    "not restored: the setting stays, and the next start asks again",
                    false,
                );
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
        Dialog::Conflict { current } => conflict_key(m, k, plain_char, current, fx),
        Dialog::Current {
            current,
            doc,
            scroll,
        } => current_key(m, k, plain_char, cmd, (current, doc, scroll), fx),
    }
}

type PromptState = (Prompt, String, Vec<&'static str>);

/// Typing in a one-line prompt (Tab completes the command line).
fn prompt_key(
    m: &mut Model,
    k: KeyEvent,
    plain_char: Option<char>,
    (purpose, mut input, mut fits): PromptState,
    fx: &mut Vec<Effect>,
) {
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    match k.code {
        KeyCode::Esc => {}
        // Ctrl-C leaves the line, as in a shell.
        KeyCode::Char('c') if ctrl => {}
        // Ctrl-U clears the line, Ctrl-W removes the word before the cursor.
        KeyCode::Char('u') | KeyCode::Char('w') if ctrl => {
            if k.code == KeyCode::Char('u') {
                input.clear();
            } else {
                let kept = input.trim_end().len();
                input.truncate(kept);
                let word_start = input.rfind(char::is_whitespace).map_or(0, |i| i + 1);
                input.truncate(word_start);
            }
            fits.clear();
            m.dialog = Some(Dialog::Prompt {
                purpose,
                input,
                fits,
            });
        }
        KeyCode::Enter => submit_prompt(m, purpose, input.trim().to_string(), fx),
        KeyCode::Tab if purpose == Prompt::Command => {
            let (line, f) = crate::browser::model::command_line::complete(&input);
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
    }
}

/// The save found other bytes: show them, overwrite them, or go back to the text.
fn conflict_key(
    m: &mut Model,
    k: KeyEvent,
    plain_char: Option<char>,
    current: Option<Vec<u8>>,
    fx: &mut Vec<Effect>,
) {
    match plain_char {
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
    }
}

type CurrentState = (Option<Vec<u8>>, Option<Arc<ValueDoc>>, usize);

/// The value now in Redis, shown after a conflict.
fn current_key(
    m: &mut Model,
    k: KeyEvent,
    plain_char: Option<char>,
    cmd: Option<Command>,
    (current, doc, mut scroll): CurrentState,
    fx: &mut Vec<Effect>,
) {
    match (plain_char, cmd) {
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
    }
}

/// Enter in a prompt: each purpose has its handler.
fn submit_prompt(m: &mut Model, purpose: Prompt, input: String, fx: &mut Vec<Effect>) {
    match purpose {
        Prompt::Command => command_line::run(m, &input, fx),
        Prompt::TraceId => submit_trace_id(m, input),
        Prompt::KeyName { trace } => submit_key_name(m, trace, input),
        Prompt::Ttl { .. } => match input.parse::<motia_state::Expiry>() {
            Ok(e) => apply_ttl(m, purpose, e, fx),
            Err(e) => reprompt(m, purpose, input, format!("{e}; nothing was changed")),
        },
    }
}
