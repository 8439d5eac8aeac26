//! Typing the `/` filter of the Traces or Keys pane.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::browser::action::Effect;
use crate::browser::keymap::Command;
use crate::browser::model::{Mode, Model, Pane};
use crate::browser::update::navigation::move_by;
use crate::browser::update::{keys, note, traces};

/// `/`: typing starts on the Traces and Keys panes.
pub fn start(m: &mut Model) {
    match m.focus {
        Pane::Traces | Pane::Keys => m.mode = Mode::Filter(m.focus),
        Pane::Value => note(m, "filter works on the Traces and Keys panes", false),
    }
}

pub fn key(m: &mut Model, pane: Pane, k: KeyEvent, cmd: Option<Command>, fx: &mut Vec<Effect>) {
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

pub fn filter_of(m: &Model, pane: Pane) -> &str {
    match pane {
        Pane::Traces => &m.traces.filter,
        Pane::Keys => &m.keys.filter,
        Pane::Value => "",
    }
}

pub fn set_filter(m: &mut Model, pane: Pane, text: String, fx: &mut Vec<Effect>) {
    match pane {
        Pane::Traces => {
            m.traces.filter = text;
            traces::rebuild_traces(m, fx, false);
        }
        Pane::Keys => {
            m.keys.filter = text;
            keys::rebuild_keys(m, fx);
        }
        Pane::Value => {}
    }
}

/// `Esc`: clears the pane's filter, or leaves the Value pane.
pub fn back(m: &mut Model, fx: &mut Vec<Effect>) {
    if !filter_of(m, m.focus).is_empty() {
        set_filter(m, m.focus, String::new(), fx);
    } else if m.focus == Pane::Value {
        m.focus = Pane::Keys;
    }
}
