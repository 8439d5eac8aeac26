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
