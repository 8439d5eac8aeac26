//! The three panes, named by the model, the keymap and the drawing code alike.

/// The three panes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Traces,
    Keys,
    Value,
}

impl Pane {
    pub fn next(self) -> Self {
        match self {
            Pane::Traces => Pane::Keys,
            Pane::Keys => Pane::Value,
            Pane::Value => Pane::Traces,
        }
    }
    pub fn prev(self) -> Self {
        match self {
            Pane::Traces => Pane::Value,
            Pane::Keys => Pane::Traces,
            Pane::Value => Pane::Keys,
        }
    }
}

/// What a key acts on: the focused pane and what it shows. The Keys and Value panes show a
/// flow's timeline and a step's detail, or a key's history and a version, in place of the
/// keys and the value; those keys and that value are hidden then, and nothing acts on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    Traces,
    Keys,
    Value,
    /// The timeline's list of steps (in the Keys pane).
    Timeline,
    /// A step's detail beside the timeline (in the Value pane).
    Step,
    /// A key's history (in the Keys pane).
    History,
    /// A version or a diff beside the history (in the Value pane).
    Version,
}

impl Place {
    /// Every place, for tests and tables.
    pub const ALL: [Place; 7] = [
        Place::Traces,
        Place::Keys,
        Place::Value,
        Place::Timeline,
        Place::Step,
        Place::History,
        Place::Version,
    ];

    /// How a message names it: "in the timeline".
    pub fn name(self) -> &'static str {
        match self {
            Place::Traces => "the Traces pane",
            Place::Keys => "the Keys pane",
            Place::Value => "the Value pane",
            Place::Timeline | Place::Step => "the timeline",
            Place::History | Place::Version => "the history",
        }
    }
}
