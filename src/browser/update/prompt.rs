//! Prompts that stay open: a prompt whose input is wrong says why and keeps what was typed.

use crate::browser::model::Model;
use crate::browser::model::dialog::{Dialog, Prompt};
use crate::browser::update::note;

/// Keeps a prompt open with what was typed and says what is wrong with it, so the user fixes
/// it (or leaves with Esc) instead of having the next keys taken as commands.
pub fn reprompt(m: &mut Model, purpose: Prompt, input: String, problem: String) {
    note(m, format!("{problem} (fix it, or Esc cancels)"), true);
    m.dialog = Some(Dialog::Prompt {
        purpose,
        input,
        fits: Vec::new(),
    });
}

/// `:` opens an empty command line.
pub fn open_command(m: &mut Model) {
    m.dialog = Some(Dialog::Prompt {
        purpose: Prompt::Command,
        input: String::new(),
        fits: Vec::new(),
    })
}
