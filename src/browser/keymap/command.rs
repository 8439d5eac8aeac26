//! The commands a key can be bound to, with their names, help text and where each acts.

use crate::browser::pane::Place;

/// Something a key can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Quit,
    Back,
    NextPane,
    PrevPane,
    PaneLeft,
    PaneRight,
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Open,
    Filter,
    Sort,
    Rescan,
    LoadAll,
    Wrap,
    Help,
    Edit,
    ExternalEdit,
    Save,
    New,
    SetTtl,
    Delete,
    ClearTrace,
    CmdLine,
    Copy,
    CopyKey,
    Dismiss,
    ScrollLeft,
    ScrollRight,
    Stats,
    Timeline,
    History,
    Diff,
    Follow,
    Connections,
    CollapseAll,
    ExpandAll,
    NextChange,
    PrevChange,
    Undo,
    Restore,
}

impl Command {
    /// Every command, in help-overlay order.
    pub const ALL: [Command; 44] = [
        Command::Down,
        Command::Up,
        Command::PageDown,
        Command::PageUp,
        Command::Top,
        Command::Bottom,
        Command::NextPane,
        Command::PrevPane,
        Command::PaneLeft,
        Command::PaneRight,
        Command::Open,
        Command::Filter,
        Command::Back,
        Command::Sort,
        Command::Rescan,
        Command::LoadAll,
        Command::Wrap,
        Command::ScrollLeft,
        Command::ScrollRight,
        Command::Edit,
        Command::ExternalEdit,
        Command::Save,
        Command::New,
        Command::SetTtl,
        Command::Delete,
        Command::ClearTrace,
        Command::Undo,
        Command::Restore,
        Command::CmdLine,
        Command::Copy,
        Command::CopyKey,
        Command::Dismiss,
        Command::Stats,
        Command::Timeline,
        Command::History,
        Command::Diff,
        Command::NextChange,
        Command::PrevChange,
        Command::Follow,
        Command::Connections,
        Command::CollapseAll,
        Command::ExpandAll,
        Command::Help,
        Command::Quit,
    ];

    /// The name used in the keymap file.
    pub fn name(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::Back => "back",
            Command::NextPane => "next_pane",
            Command::PrevPane => "prev_pane",
            Command::PaneLeft => "pane_left",
            Command::PaneRight => "pane_right",
            Command::Down => "down",
            Command::Up => "up",
            Command::PageDown => "page_down",
            Command::PageUp => "page_up",
            Command::Top => "top",
            Command::Bottom => "bottom",
            Command::Open => "open",
            Command::Filter => "filter",
            Command::Sort => "sort",
            Command::Rescan => "rescan",
            Command::LoadAll => "load_all",
            Command::Wrap => "wrap",
            Command::Help => "help",
            Command::Edit => "edit",
            Command::ExternalEdit => "external_edit",
            Command::Save => "save",
            Command::New => "new",
            Command::SetTtl => "ttl",
            Command::Delete => "delete",
            Command::ClearTrace => "clear_trace",
            Command::CmdLine => "command_line",
            Command::Copy => "copy",
            Command::CopyKey => "copy_key",
            Command::Dismiss => "dismiss",
            Command::ScrollLeft => "scroll_left",
            Command::ScrollRight => "scroll_right",
            Command::Stats => "stats",
            Command::Timeline => "timeline",
            Command::History => "history",
            Command::Diff => "diff",
            Command::Follow => "follow",
            Command::Connections => "connections",
            Command::Undo => "undo",
            Command::Restore => "restore",
            Command::CollapseAll => "collapse_all",
            Command::ExpandAll => "expand_all",
            Command::NextChange => "next_change",
            Command::PrevChange => "prev_change",
        }
    }

    /// True for the commands that change Redis (refused in read-only mode).
    pub fn writes(self) -> bool {
        matches!(
            self,
            Command::Edit
                | Command::ExternalEdit
                | Command::Save
                | Command::New
                | Command::SetTtl
                | Command::Delete
                | Command::ClearTrace
                | Command::Undo
                | Command::Restore
        )
    }

    /// One line for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Command::Quit => "quit",
            Command::Back => "close the overlay / clear the filter",
            Command::NextPane => "next pane",
            Command::PrevPane => "previous pane",
            Command::PaneLeft => "pane to the left",
            Command::PaneRight => "pane to the right",
            Command::Down => "move down / scroll down",
            Command::Up => "move up / scroll up",
            Command::PageDown => "page down",
            Command::PageUp => "page up",
            Command::Top => "first row / top",
            Command::Bottom => "last row / bottom",
            Command::Open => "open: a trace's keys, a folder, a key's value",
            Command::Filter => "filter as you type (substring; * and ? make a glob)",
            Command::Sort => {
                "cycle the sort (traces: newest, id, key count, status; keys: name, size, TTL)"
            }
            Command::Rescan => "rescan, keeping the selection",
            Command::LoadAll => "load the whole value (when over 256 KiB)",
            Command::Wrap => "wrap long lines of the value",
            Command::Help => "this help",
            Command::Edit => "edit the value here (also Enter on the Value pane)",
            Command::ExternalEdit => "edit the value in $VISUAL / $EDITOR",
            Command::Save => "in the editor: save (compare-and-set, TTL kept)",
            Command::New => "new key in the trace (on Traces: new trace first)",
            Command::SetTtl => "set or remove the TTL (on Traces: every key of the trace)",
            Command::Delete => "delete the selected key (asks first)",
            Command::ClearTrace => "delete every key of the selected trace (asks first)",
            Command::CmdLine => {
                ":ttl :persist :del :clear :export :import :where :live :status :timeline :history :stats :gc :q"
            }
            Command::Copy => "copy the value to the clipboard (OSC 52)",
            Command::CopyKey => "copy the key name to the clipboard",
            Command::Dismiss => "dismiss notifications (errors stay until dismissed)",
            Command::ScrollLeft => "scroll the value left (long lines, not wrapping)",
            Command::ScrollRight => "scroll the value right (long lines, not wrapping)",
            Command::Timeline => "the selected flow's timeline from Motia's trace records",
            Command::History => "the selected key's history from Motia's trace records",
            Command::Diff => {
                "diff of the value against its previous version (live); in a history: versions"
            }
            Command::Follow => "follow: select the newest trace and its last written key",
            Command::Connections => "saved connections (profiles): switch, reconnect and rescan",
            Command::Undo => "undo this session's last write (asks; :journal lists them)",
            Command::Restore => {
                "History view: write the selected version back (asks, shows the diff)"
            }
            Command::CollapseAll => "close every folder of the key tree (selection: its folder)",
            Command::ExpandAll => "open every folder of the key tree",
            Command::NextChange => "in a diff: scroll to the next change",
            Command::PrevChange => "in a diff: scroll to the previous change",
            Command::Stats => {
                "memory and TTL stats: sizes, ages, expiries, biggest traces and keys"
            }
        }
    }

    /// The description on the iii layout (scopes and fields, no trace records),
    /// where it differs from [`Command::describe`].
    pub fn describe_iii(self) -> Option<&'static str> {
        Some(match self {
            Command::Open => "open: a scope's fields, a folder, a field's value",
            Command::Sort => "cycle the sort (scopes: name, field count; fields: name, size, TTL)",
            Command::New => "new field in the scope (on Scopes: new scope first)",
            Command::SetTtl => {
                "set or remove a field's TTL (needs hash-field expiry; on Scopes: every field)"
            }
            Command::Delete => "delete the selected field (asks first)",
            Command::ClearTrace => "delete every field of the selected scope (asks first)",
            Command::CmdLine => {
                ":ttl :persist :del :clear :export :export-all :import :where :stats :q"
            }
            Command::Timeline | Command::History => {
                "not on the iii layout: the engine keeps traces as OpenTelemetry spans"
            }
            Command::Restore => {
                "not on the iii layout: no trace records hold past versions of a field"
            }
            Command::Follow => "follow the newest scope and field (live mode)",
            Command::Stats => "fields and bytes per scope, the biggest scopes and fields",
            _ => return None,
        })
    }

    /// Where the command acts. In the Traces, Keys and Value panes every command acts on what
    /// they show and select; the timeline and the history stand in for the keys and the value,
    /// so there the commands that would act on a hidden key or value (editing, TTLs, deleting,
    /// copying, folding, sorting, filtering the keys) do nothing.
    pub fn acts_in(self, place: Place) -> bool {
        use Place::*;
        match place {
            Traces | Keys | Value => true,
            Timeline | Step | History | Version => match self {
                Command::Quit
                | Command::Back
                | Command::NextPane
                | Command::PrevPane
                | Command::PaneLeft
                | Command::PaneRight
                | Command::Down
                | Command::Up
                | Command::PageDown
                | Command::PageUp
                | Command::Top
                | Command::Bottom
                | Command::Rescan
                | Command::Help
                | Command::CmdLine
                | Command::Dismiss
                | Command::Stats
                | Command::Timeline
                | Command::Follow
                | Command::Undo
                | Command::Connections => true,
                // Expands a step, jumps from a state event to its key, or shows a version.
                Command::Open => matches!(place, Timeline | History),
                // The history's versions and diffs wrap; the step detail always does.
                Command::Wrap
                | Command::Diff
                | Command::History
                | Command::Restore
                | Command::NextChange
                | Command::PrevChange => {
                    matches!(place, History | Version)
                }
                _ => false,
            },
        }
    }

    pub(super) fn from_name(name: &str) -> Option<Command> {
        Command::ALL.into_iter().find(|c| c.name() == name)
    }
}
