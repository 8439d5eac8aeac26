//! The help overlay's text: every command with its keys, the `:` commands and where to rebind
//! keys. A description too long for the terminal wraps between words under its own column,
//! so an 80-column help cuts nothing; the overlay scrolls when it is taller than the screen.

use crate::browser::model::Model;
use crate::browser::model::command_line::COMMANDS;
use crate::browser::text::{width, wrap};

/// What a line of the help is, for its style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A command's keys and description (`writes`: it changes data).
    Binding {
        writes: bool,
    },
    Heading,
    /// A `:` command.
    Command,
    Footer,
    Blank,
}

/// One screen line of the help: the key column (blank where a description goes on), the text
/// and, at the end of a writing command's last line, its note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelpLine {
    pub keys: String,
    pub text: String,
    pub note: Option<&'static str>,
    pub kind: Kind,
}

/// The note after a command that writes.
pub fn writes_note(read_only: bool) -> &'static str {
    if read_only {
        "(writes: off, read-only)"
    } else {
        "(writes)"
    }
}

/// Columns the overlay's border and right margin take.
const FRAME: usize = 3;
/// A `:` command's description goes under it, indented this much, when it does not fit beside.
const INDENT: usize = 4;

/// The help's lines for the terminal's width.
pub fn lines(m: &Model) -> Vec<HelpLine> {
    let room = (m.size.0 as usize).saturating_sub(FRAME).max(20);
    let rows = m.keymap.help_rows(m.settings.iii);
    let key_w = rows.iter().map(|(k, _, _)| width(k)).max().unwrap_or(0);
    let mut out = Vec::new();
    for (keys, describe, writes) in rows {
        let kind = Kind::Binding { writes };
        let keys = format!(" {keys}{}  ", " ".repeat(key_w - width(&keys)));
        let note = writes.then(|| writes_note(m.settings.read_only));
        push_wrapped(&mut out, keys, describe, note, room, kind);
    }
    out.push(line("", "", Kind::Blank));
    out.push(line(" Commands (after :)", "", Kind::Heading));
    for (name, args, what) in COMMANDS {
        let what = if m.settings.iii {
            match iii_command(name) {
                Some("") => continue,
                Some(other) => other,
                None => what,
            }
        } else {
            what
        };
        let keys = if args.is_empty() {
            format!(" :{name}")
        } else {
            format!(" :{name} {args}")
        };
        let beside = width(&keys) + 2 + width(what);
        if beside <= room {
            out.push(line(&keys, &format!("  {what}"), Kind::Command));
        } else {
            out.push(line(&keys, "", Kind::Command));
            push_wrapped(
                &mut out,
                " ".repeat(INDENT),
                what,
                None,
                room,
                Kind::Command,
            );
        }
    }
    out.push(line("", "", Kind::Blank));
    let footer = "Rebind keys in config.toml in the config directory, or --config FILE.";
    push_wrapped(&mut out, " ".into(), footer, None, room, Kind::Footer);
    out
}

/// A `:` command's description on the iii layout where it differs; empty: not listed there
/// (it needs trace records, which this layout does not have).
fn iii_command(name: &str) -> Option<&'static str> {
    Some(match name {
        "del" => "delete the selected field",
        "clear" => "delete every field of the selected scope",
        "export" => "write the selected scope to FILE as JSON (an iii document)",
        "export-all" => "write every scope to FILE as JSON (an iii document)",
        "import" => "load an iii document's fields from FILE",
        "stats" => "fields and bytes per scope (also S), the biggest scopes and fields",
        "status" | "timeline" | "history" | "gc" => "",
        _ => return None,
    })
}

fn line(keys: &str, text: &str, kind: Kind) -> HelpLine {
    HelpLine {
        keys: keys.into(),
        text: text.into(),
        note: None,
        kind,
    }
}

/// `text` (and `note`, kept whole at its end) wrapped into the room beside `keys`; the lines
/// after the first have a blank key column.
fn push_wrapped(
    out: &mut Vec<HelpLine>,
    keys: String,
    text: &str,
    note: Option<&'static str>,
    room: usize,
    kind: Kind,
) {
    let key_w = width(&keys);
    // No-break spaces hold the note together; they are as wide as spaces.
    let glued = note.map(|n| n.replace(' ', "\u{a0}"));
    let whole = match &glued {
        Some(n) => format!("{text} {n}"),
        None => text.to_string(),
    };
    let wrapped = wrap(&whole, room.saturating_sub(key_w).max(10));
    let last = wrapped.len().saturating_sub(1);
    for (i, part) in wrapped.iter().enumerate() {
        let mut text = part.to_string();
        let mut note_here = None;
        if let (true, Some(n), Some(g)) = (i == last, note, &glued)
            && let Some(rest) = text.strip_suffix(g.as_str())
        {
            text = rest.to_string();
            note_here = Some(n);
        }
        out.push(HelpLine {
            keys: if i == 0 {
                keys.clone()
            } else {
                " ".repeat(key_w)
            },
            text,
            note: note_here,
            kind,
        });
    }
}

/// Rows of text the overlay shows at once on this terminal.
pub fn visible(m: &Model, lines: usize) -> usize {
    lines.min((m.size.1 as usize).saturating_sub(2))
}

/// The furthest the help scrolls: its last line at the bottom.
pub fn max_scroll(m: &Model) -> usize {
    let n = lines(m).len();
    n - visible(m, n)
}
