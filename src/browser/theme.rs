//! Colours and styles in one place.

use ratatui::style::{Color, Modifier, Style};

pub fn border(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

pub fn title(focused: bool) -> Style {
    let s = Style::new().add_modifier(Modifier::BOLD);
    if focused { s.fg(Color::Cyan) } else { s }
}

pub fn cursor(focused: bool) -> Style {
    if focused {
        Style::new().bg(Color::Cyan).fg(Color::Black)
    } else {
        Style::new().bg(Color::DarkGray).fg(Color::White)
    }
}

pub fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}

pub fn folder() -> Style {
    Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD)
}

pub fn gone() -> Style {
    Style::new()
        .fg(Color::Red)
        .add_modifier(Modifier::CROSSED_OUT)
}

pub fn note() -> Style {
    Style::new().fg(Color::Yellow)
}

pub fn error() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

pub fn ok() -> Style {
    Style::new().fg(Color::Green)
}

pub fn key_hint() -> Style {
    Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
}

/// A line of the open value that changed in the last seconds.
pub fn changed_line() -> Style {
    Style::new().bg(Color::Indexed(22))
}

/// A diff line only in the newer version.
pub fn diff_added() -> Style {
    Style::new().fg(Color::Green)
}

/// A diff line only in the older version.
pub fn diff_removed() -> Style {
    Style::new().fg(Color::Red)
}

pub fn json_key() -> Style {
    Style::new().fg(Color::Cyan)
}

pub fn json_string() -> Style {
    Style::new().fg(Color::Green)
}

pub fn json_number() -> Style {
    Style::new().fg(Color::Yellow)
}

pub fn json_literal() -> Style {
    Style::new().fg(Color::Magenta)
}

pub fn json_punct() -> Style {
    Style::new().fg(Color::Gray)
}

/// A flow's or step's status: failed red, running yellow, completed green.
pub fn status(s: Option<motia_state::adapter::traces::FlowStatus>) -> Style {
    use motia_state::adapter::traces::FlowStatus;
    match s {
        Some(FlowStatus::Failed) => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        Some(FlowStatus::Running) => Style::new().fg(Color::Yellow),
        Some(FlowStatus::Completed) => Style::new().fg(Color::Green),
        Some(FlowStatus::Unknown) | None => dim(),
    }
}

pub fn added() -> Style {
    Style::new().fg(Color::Green)
}

pub fn removed() -> Style {
    Style::new().fg(Color::Red)
}
