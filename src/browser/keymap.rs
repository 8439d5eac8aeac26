//! Key bindings as data: the defaults are embedded from `assets/keymap.toml`, a user file
//! overrides them per action, and the help overlay and the hint bar (`hints`) are generated
//! from the same table so they never drift.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

mod command;
mod hints;
pub use command::Command;
pub use hints::{Hint, HintContext};

const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// A key with its modifiers, normalised so that `G` and `Shift-g` are the same binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    code: KeyCode,
    mods: KeyModifiers,
}

impl Key {
    /// Normalises a terminal key event.
    pub fn from_event(ev: &KeyEvent) -> Self {
        Self::new(ev.code, ev.modifiers)
    }

    fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        let mut mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        let code = match code {
            // Terminals differ in whether they add SHIFT to an upper-case letter or a symbol.
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Self { code, mods }
    }

    /// Parses `q`, `G`, `Ctrl-c`, `Shift-Tab`, `PageDown`, `F5`, ...
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Err("an empty key".into());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            if rest.len() == len {
                break;
            }
            mods |= m;
            rest = &rest[len..];
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() {
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" => KeyCode::Insert,
                "space" => KeyCode::Char(' '),
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=12).contains(&n)) =>
                {
                    KeyCode::F(f[1..].parse().unwrap_or(1))
                }
                _ => return Err(format!("unknown key {s:?}")),
            },
        };
        Ok(Self::new(code, mods))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Delete"),
            KeyCode::Insert => f.write_str("Insert"),
            KeyCode::Up => f.write_str("Up"),
            KeyCode::Down => f.write_str("Down"),
            KeyCode::Left => f.write_str("Left"),
            KeyCode::Right => f.write_str("Right"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The bindings in effect.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<(Command, Vec<Key>)>,
    lookup: HashMap<Key, Command>,
}

impl Default for Keymap {
    fn default() -> Self {
        // The embedded file is checked by a unit test; fall back to no bindings rather than panic.
        Self::from_toml(DEFAULT_KEYMAP, None, "built-in keymap").unwrap_or_else(|_| Self {
            bindings: Vec::new(),
            lookup: HashMap::new(),
        })
    }
}

impl Keymap {
    /// The defaults, overridden by the user's file: `explicit` (from `--config`, must exist) or
    /// `config.toml` in the platform's config directory (used when present). Returns the map and
    /// the file that was read.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<(Self, Option<PathBuf>)> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => default_config_file().filter(|p| p.is_file()),
        };
        let Some(path) = path else {
            return Ok((Self::default(), None));
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read the config file {}: {e}", path.display()))?;
        let map = Self::from_toml(DEFAULT_KEYMAP, Some(&text), &path.display().to_string())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((map, Some(path)))
    }

    /// Defaults from `base`, each action listed in `user` replaced by the user's keys.
    pub fn from_toml(base: &str, user: Option<&str>, source: &str) -> Result<Self, String> {
        let mut bindings: Vec<(Command, Vec<Key>)> = Vec::new();
        for (cmd, keys) in parse_file(base, "built-in keymap")? {
            bindings.push((cmd, keys));
        }
        if let Some(user) = user {
            let overrides = parse_file(user, source)?;
            let mut claimed: HashMap<Key, Command> = HashMap::new();
            for (cmd, keys) in &overrides {
                for k in keys {
                    if let Some(other) = claimed.insert(*k, *cmd)
                        && other != *cmd
                    {
                        return Err(format!(
                            "config file {source}: key {k} is bound to both {} and {}",
                            other.name(),
                            cmd.name()
                        ));
                    }
                }
            }
            for (cmd, keys) in bindings.iter_mut() {
                keys.retain(|k| !claimed.contains_key(k));
                if let Some((_, user_keys)) = overrides.iter().find(|(c, _)| c == cmd) {
                    *keys = user_keys.clone();
                }
            }
            for (cmd, keys) in overrides {
                if !bindings.iter().any(|(c, _)| *c == cmd) {
                    bindings.push((cmd, keys));
                }
            }
        }
        let mut lookup = HashMap::new();
        for (cmd, keys) in &bindings {
            for k in keys {
                lookup.insert(*k, *cmd);
            }
        }
        Ok(Self { bindings, lookup })
    }

    /// The command bound to a key event.
    pub fn command(&self, ev: &KeyEvent) -> Option<Command> {
        self.lookup.get(&Key::from_event(ev)).copied()
    }

    /// The keys of a command, for display (`j/Down`).
    /// The first key bound to `cmd` (empty when unbound).
    pub fn first_key(&self, cmd: Command) -> String {
        self.bindings
            .iter()
            .find(|(c, _)| *c == cmd)
            .and_then(|(_, ks)| ks.first())
            .map(|k| k.to_string())
            .unwrap_or_default()
    }

    pub fn keys_of(&self, cmd: Command) -> String {
        self.bindings
            .iter()
            .find(|(c, _)| *c == cmd)
            .map(|(_, ks)| {
                ks.iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default()
    }

    /// `(keys, description, writes)` for every command, for the help overlay (with the iii
    /// layout's words where they differ when `iii`).
    pub fn help_rows(&self, iii: bool) -> Vec<(String, &'static str, bool)> {
        Command::ALL
            .iter()
            .map(|c| {
                let keys = self.keys_of(*c);
                (
                    if keys.is_empty() {
                        "(unbound)".into()
                    } else {
                        keys
                    },
                    c.describe_iii().filter(|_| iii).unwrap_or(c.describe()),
                    c.writes(),
                )
            })
            .collect()
    }
}

/// `config.toml` in the platform's config directory.
pub fn default_config_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "motia", "motia-state")
        .map(|d| d.config_dir().join("config.toml"))
}

fn parse_file(text: &str, source: &str) -> Result<Vec<(Command, Vec<Key>)>, String> {
    let table: toml::Table =
        toml::from_str(text).map_err(|e| format!("config file {source}: {e}"))?;
    let mut out = Vec::new();
    for (section, value) in &table {
        // Saved connections share the file; the CLI reads them.
        if section == "profiles" {
            continue;
        }
        if section == "browser" {
            crate::browser::config::parse(value, source)?;
            continue;
        }
        if section != "keys" {
            return Err(format!(
                "config file {source}: unknown section [{section}] (expected [keys], [browser] or [profiles])"
            ));
        }
        let Some(keys) = value.as_table() else {
            return Err(format!(
                "config file {source}: `keys` must be a table ([keys])"
            ));
        };
        for (action, list) in keys {
            let cmd = Command::from_name(action).ok_or_else(|| {
                let known: Vec<_> = Command::ALL.iter().map(|c| c.name()).collect();
                format!(
                    "config file {source}: [keys] {action}: unknown action (known: {})",
                    known.join(", ")
                )
            })?;
            let items = list.as_array().ok_or_else(|| {
                format!(
                    "config file {source}: [keys] {action}: expected a list of keys, like [\"q\"]"
                )
            })?;
            let mut parsed = Vec::new();
            for item in items {
                let s = item.as_str().ok_or_else(|| {
                    format!("config file {source}: [keys] {action}: {item} is not a string")
                })?;
                parsed.push(
                    Key::parse(s)
                        .map_err(|e| format!("config file {source}: [keys] {action}: {e}"))?,
                );
            }
            out.push((cmd, parsed));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::browser::pane::Place;
    use crossterm::event::KeyEventKind;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new_with_kind(code, mods, KeyEventKind::Press)
    }

    #[test]
    fn defaults_parse_and_cover_every_command() {
        let km = Keymap::from_toml(DEFAULT_KEYMAP, None, "t").unwrap();
        for c in Command::ALL {
            assert!(!km.keys_of(c).is_empty(), "{} unbound", c.name());
        }
        assert_eq!(
            km.command(&ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some(Command::Bottom)
        );
        assert_eq!(
            km.command(&ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some(Command::PrevPane)
        );
        assert_eq!(
            km.command(&ev(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Some(Command::Quit)
        );
        assert_eq!(km.keys_of(Command::Down), "j/Down");
    }

    #[test]
    fn user_file_overrides_and_steals_keys() {
        let km = Keymap::from_toml(
            DEFAULT_KEYMAP,
            Some("[keys]\nquit = [\"x\"]\nrescan = [\"q\"]\n"),
            "u",
        )
        .unwrap();
        assert_eq!(
            km.command(&ev(KeyCode::Char('x'), KeyModifiers::NONE)),
            Some(Command::Quit)
        );
        assert_eq!(
            km.command(&ev(KeyCode::Char('q'), KeyModifiers::NONE)),
            Some(Command::Rescan)
        );
        assert_eq!(
            km.command(&ev(KeyCode::Char('r'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(km.keys_of(Command::Quit), "x");
    }

    #[test]
    fn nothing_in_the_views_acts_on_the_hidden_key() {
        // Nothing in the timeline or the history writes the key they hide; undo writes what
        // the journal names, and restore the version the history shows.
        for place in [Place::Timeline, Place::Step, Place::History, Place::Version] {
            let shown = |c: &Command| matches!(c, Command::Undo | Command::Restore);
            for c in Command::ALL.into_iter().filter(|c| c.writes() && !shown(c)) {
                assert!(!c.acts_in(place), "{} acts in {place:?}", c.name());
            }
            for c in [
                Command::Copy,
                Command::CopyKey,
                Command::Filter,
                Command::Sort,
            ] {
                assert!(!c.acts_in(place), "{} acts in {place:?}", c.name());
            }
        }
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let e = Keymap::from_toml(DEFAULT_KEYMAP, Some("[keys]\nfly = [\"f\"]\n"), "my.toml")
            .unwrap_err();
        assert!(
            e.contains("my.toml") && e.contains("fly: unknown action"),
            "{e}"
        );
        let e = Keymap::from_toml(
            DEFAULT_KEYMAP,
            Some("[keys]\nquit = [\"Hyper-q\"]\n"),
            "my.toml",
        )
        .unwrap_err();
        assert!(e.contains("unknown key \"Hyper-q\""), "{e}");
        let e = Keymap::from_toml(DEFAULT_KEYMAP, Some("[keys\n"), "my.toml").unwrap_err();
        assert!(e.contains("my.toml") && e.contains("line 1"), "{e}");
        let e = Keymap::from_toml(
            DEFAULT_KEYMAP,
            Some("[keys]\nquit = [\"z\"]\nhelp = [\"z\"]\n"),
            "m",
        )
        .unwrap_err();
        assert!(e.contains("bound to both"), "{e}");
    }
}
