//! The hint bar's table: for each command a short label, the places where it is hinted, what
//! else it needs to be of use, and how much it matters when the line is short. The bar is
//! generated from it and the keys in effect, so a rebound key shows as bound.

use crate::browser::keymap::{Command, Keymap};
use crate::browser::pane::Place;

/// What a hint needs besides its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Needs {
    Nothing,
    /// Motia's trace records (timeline, history).
    Records,
    /// Live mode on, or following already.
    Live,
    /// Saved connections to switch between.
    Profiles,
}

/// What the screen has, for the hints that need more than a place.
#[derive(Debug, Clone, Copy, Default)]
pub struct HintContext {
    pub read_only: bool,
    pub records: bool,
    pub live: bool,
    pub profiles: bool,
}

/// One hint of the bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub command: Command,
    /// The first key bound to the command.
    pub key: String,
    pub label: &'static str,
    /// 0 is always shown; the higher, the sooner it is left out of a short line.
    pub rank: u8,
}

/// The label, the places where it is hinted (each one where the command acts, which a unit
/// test checks), what it needs, and its rank. The views a user would not find otherwise
/// (timeline, history, stats, follow, connections) rank before the keys that are on every
/// Redis browser.
fn hint(c: Command) -> Option<(&'static str, &'static [Place], Needs, u8)> {
    use Place::*;
    const ALL: &[Place] = &Place::ALL;
    const PANES: &[Place] = &[Traces, Keys, Value];
    const VIEWS: &[Place] = &[Timeline, Step, History, Version];
    let n = Needs::Nothing;
    Some(match c {
        Command::Help | Command::Quit => (c.name(), ALL, n, 0),
        Command::NextPane => ("pane", ALL, n, 1),
        Command::Open => ("open", &[Traces, Keys, Timeline, History], n, 1),
        Command::Back => ("close", VIEWS, n, 1),
        Command::CmdLine => ("cmd", ALL, n, 1),
        Command::Filter => ("filter", &[Traces, Keys], n, 2),
        Command::Edit => ("edit", &[Keys, Value], n, 2),
        Command::Timeline => ("timeline", &[Traces], Needs::Records, 3),
        Command::History => ("history", &[Keys, Value], Needs::Records, 3),
        Command::Diff => ("diff", &[History, Version], n, 3),
        Command::Restore => ("restore", &[History, Version], n, 3),
        Command::NextChange => ("next change", &[Version], n, 3),
        Command::Copy => ("copy", &[Value], n, 4),
        Command::LoadAll => ("load all", &[Value], n, 4),
        Command::Wrap => ("wrap", &[Value, Version], n, 4),
        Command::Stats => ("stats", PANES, n, 4),
        Command::Follow => ("follow", PANES, Needs::Live, 4),
        Command::Connections => ("connections", PANES, Needs::Profiles, 4),
        Command::Sort => ("sort", &[Traces], n, 5),
        Command::New => ("new", &[Traces], n, 5),
        Command::SetTtl => ("ttl", &[Traces, Keys, Value], n, 5),
        Command::Delete => ("del", &[Keys, Value], n, 5),
        Command::ClearTrace => ("clear", &[Traces], n, 5),
        Command::CollapseAll => ("collapse", &[Keys], n, 6),
        Command::ExpandAll => ("expand", &[Keys], n, 6),
        Command::Rescan => ("rescan", ALL, n, 6),
        _ => return None,
    })
}

impl Keymap {
    /// The hints for a place, in help-overlay order; without the writing commands when
    /// `read_only`, and without those whose view has nothing to show.
    pub fn hints(&self, place: Place, ctx: HintContext) -> Vec<Hint> {
        Command::ALL
            .iter()
            .filter(|c| !(ctx.read_only && c.writes()) && c.acts_in(place))
            .filter_map(|&c| {
                let (label, places, needs, rank) = hint(c)?;
                let useful = match needs {
                    Needs::Nothing => true,
                    Needs::Records => ctx.records,
                    Needs::Live => ctx.live,
                    Needs::Profiles => ctx.profiles,
                };
                if !places.contains(&place) || !useful {
                    return None;
                }
                let key = self.first_key(c);
                (!key.is_empty()).then_some(Hint {
                    command: c,
                    key,
                    label,
                    rank,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_only_commands_that_act_where_they_are_shown() {
        for c in Command::ALL {
            for &place in hint(c).map_or(&[][..], |(_, places, _, _)| places) {
                assert!(c.acts_in(place), "{} hinted in {place:?}", c.name());
            }
        }
    }

    #[test]
    fn the_views_are_hinted_only_where_they_have_something_to_show() {
        let km = Keymap::default();
        let commands = |place, ctx| -> Vec<Command> {
            km.hints(place, ctx)
                .into_iter()
                .map(|h| h.command)
                .collect()
        };
        let bare = HintContext::default();
        let rich = HintContext {
            records: true,
            live: true,
            profiles: true,
            ..bare
        };
        for c in [Command::Timeline, Command::Follow, Command::Connections] {
            assert!(!commands(Place::Traces, bare).contains(&c), "{c:?}");
            assert!(commands(Place::Traces, rich).contains(&c), "{c:?}");
        }
        assert!(commands(Place::Keys, rich).contains(&Command::History));
        assert!(!commands(Place::Keys, bare).contains(&Command::History));
        assert!(commands(Place::Traces, bare).contains(&Command::Stats));
        let read_only = HintContext {
            read_only: true,
            ..rich
        };
        assert!(!commands(Place::Keys, read_only).contains(&Command::Edit));
        // A rebound key is hinted as bound.
        let km = Keymap::from_toml(
            super::super::DEFAULT_KEYMAP,
            Some("[keys]\ntimeline = [\"F9\"]\n"),
            "t",
        )
        .unwrap();
        let t = km.hints(Place::Traces, rich);
        assert!(
            t.iter()
                .any(|h| h.command == Command::Timeline && h.key == "F9")
        );
    }
}
