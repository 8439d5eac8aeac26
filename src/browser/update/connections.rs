//! The connection picker: `c` lists the saved connections; Enter switches to one, which the
//! worker resolves (a password command may run) before the model starts over on it.

use crate::browser::action::{Effect, WorkerCmd};
use crate::browser::keymap::Command;
use crate::browser::model::{Model, Overlay, Settings};
use crate::browser::update::notifications::note;

/// Opens the picker on the current connection.
pub fn open(m: &mut Model) {
    if m.connections.is_empty() {
        return note(
            m,
            "no saved connections: add [profiles.NAME] tables to config.toml",
            false,
        );
    }
    let selected = m
        .settings
        .profile
        .as_ref()
        .and_then(|p| m.connections.iter().position(|c| &c.name == p))
        .unwrap_or(0);
    m.overlay = Some(Overlay::Connections { selected });
}

/// Keys while the picker is open.
pub fn key(m: &mut Model, cmd: Option<Command>, fx: &mut Vec<Effect>) {
    let Some(Overlay::Connections { selected }) = &mut m.overlay else {
        return;
    };
    let last = m.connections.len().saturating_sub(1);
    match cmd {
        Some(Command::Back | Command::Quit | Command::Connections) => m.overlay = None,
        Some(Command::Down) => *selected = (*selected + 1).min(last),
        Some(Command::Up) => *selected = selected.saturating_sub(1),
        Some(Command::Top) => *selected = 0,
        Some(Command::Bottom) => *selected = last,
        Some(Command::Open) => {
            let Some(entry) = m.connections.get(*selected).cloned() else {
                return;
            };
            m.overlay = None;
            if m.editor.is_some() {
                return note(m, "close the editor before switching connections", true);
            }
            note(m, format!("switching to {}…", entry.name), false);
            fx.push(Effect::Worker(WorkerCmd::Switch {
                profile: entry.name,
            }));
        }
        _ => {}
    }
}

/// The worker has the new connection's settings: start over on it (the screen empties, the
/// scan runs again once connected).
pub fn switched(m: &mut Model, profile: String) {
    let Some(entry) = m.connections.iter().find(|c| c.name == profile).cloned() else {
        return;
    };
    let settings = Settings {
        url: entry.place,
        prefix: entry.prefix,
        read_only: entry.read_only,
        profile: Some(entry.name),
        // Found again by the worker's connection, not known here.
        layout: String::new(),
        iii: false,
        ..m.settings.clone()
    };
    let mut fresh = Model::new(settings, m.keymap.clone(), m.clock.clone());
    fresh.size = m.size;
    fresh.connections = std::mem::take(&mut m.connections);
    *m = fresh;
    note(m, format!("switched to {profile}"), false);
}

/// The switch could not be made (a failing password command, a bad profile): nothing changes.
pub fn switch_failed(m: &mut Model, profile: String, error: String) {
    note(m, format!("cannot switch to {profile}: {error}"), true);
}

/// The worker found the layout of the connection it switched to (before connecting to it):
/// the model starts over with that layout's names and prefix, and says which and why.
pub fn layout_chosen(m: &mut Model, label: String, iii: bool, prefix: String) {
    let settings = Settings {
        layout: label.clone(),
        iii,
        prefix: motia_state::escape::name_str(&prefix).into_owned(),
        ..m.settings.clone()
    };
    let mut fresh = Model::new(settings, m.keymap.clone(), m.clock.clone());
    fresh.size = m.size;
    fresh.connections = std::mem::take(&mut m.connections);
    fresh.note = m.note.take();
    *m = fresh;
    let text = match &m.settings.profile {
        Some(p) => format!("switched to {p} · {label}"),
        None => label,
    };
    note(m, text, false);
}
