//! The status bar: connection, server, read-only marker, scan progress; then hints, the
//! filter being typed, or a message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::browser::format::thousands;
use crate::browser::model::live::LiveState;
use crate::browser::model::{ConnState, Mode, Model};
use crate::browser::theme;

pub fn status(f: &mut Frame, m: &Model, area: Rect) {
    let mut top: Vec<Span> = Vec::new();
    let url = &m.settings.url;
    match &m.conn {
        ConnState::Connecting { attempt, error } => {
            top.push(Span::styled(
                format!("◌ connecting to {url}"),
                theme::note(),
            ));
            if let Some(e) = error {
                top.push(Span::styled(
                    format!(" · {e} · retrying (attempt {attempt})"),
                    theme::error(),
                ));
            }
        }
        ConnState::Connected => {
            top.push(Span::styled("● ", theme::ok()));
            top.push(Span::raw(url.clone()));
        }
        ConnState::Lost { reason } => {
            top.push(Span::styled(
                format!("✗ disconnected from {url}: {reason} · reconnecting"),
                theme::error(),
            ));
        }
    }
    if let Some(name) = &m.settings.profile {
        top.push(Span::styled(format!(" · profile {name}"), theme::note()));
    }
    if let Some(mode) = &m.server.mode {
        top.push(Span::styled(format!(" · {mode}"), theme::note()));
    }
    if !m.server.unreachable.is_empty() {
        top.push(Span::styled(
            format!(" · ✗ no answer from {}", m.server.unreachable.join(", ")),
            theme::error(),
        ));
    }
    if let Some(v) = &m.server_version {
        top.push(Span::styled(format!(" · Redis {v}"), theme::dim()));
    } else if let Some(why) = &m.server.version_unknown {
        top.push(Span::styled(
            format!(" · Redis ? ({})", short(why)),
            theme::dim(),
        ));
    }
    if m.settings.read_only {
        top.push(Span::styled(" · READ-ONLY", theme::error()));
    }
    match &m.live.state {
        LiveState::Live => top.push(Span::styled(" · live", theme::ok())),
        LiveState::Polling { .. } => top.push(Span::styled(" · polling", theme::dim())),
        LiveState::Reconnecting => top.push(Span::styled(" · live: reconnecting", theme::note())),
        LiveState::Unknown => {}
    }
    if m.live.follow {
        top.push(Span::styled(" · follow", theme::note()));
    }
    if m.scan.started.is_some() || m.scan.completed_once {
        scan(m, &mut top);
    }
    f.render_widget(Paragraph::new(vec![Line::from(top), bottom(m)]), area);
}

/// Scan progress: keys seen of DBSIZE, traces, time, state.
fn scan(m: &Model, top: &mut Vec<Span<'static>>) {
    let total = match (m.scan.dbsize, &m.server.size_unknown) {
        (Some(n), _) => format!(" of {}", thousands(n)),
        (None, Some(why)) => format!(" of ? ({})", short(why)),
        (None, None) => String::new(),
    };
    let elapsed = match (m.scan.took, m.scan.started) {
        (Some(t), _) => t,
        (None, Some(s)) => m.now().saturating_duration_since(s),
        _ => Default::default(),
    };
    let state = if m.scan.running {
        "scanning"
    } else if m.scan.interrupted {
        "interrupted"
    } else if m.scan.error.is_some() {
        "failed"
    } else {
        "done"
    };
    top.push(Span::raw(format!(
        " · keys {}{total} · traces {} · {:.1}s · ",
        thousands(m.scan.seen),
        thousands(m.index.traces.len() as u64),
        elapsed.as_secs_f64()
    )));
    top.push(Span::styled(
        state,
        if state == "done" {
            theme::ok()
        } else {
            theme::note()
        },
    ));
}

/// "may not run INFO" as "no INFO": the status line is narrow.
fn short(why: &str) -> String {
    match why.strip_prefix("may not run ") {
        Some(cmd) => format!("no {cmd}"),
        None => why.to_string(),
    }
}

/// The second line: the filter being typed, a message, or the keys of the focused pane.
fn bottom(m: &Model) -> Line<'static> {
    if let Mode::Filter(_) = m.mode {
        Line::from(vec![
            Span::styled("filter: ", theme::key_hint()),
            Span::raw("type to narrow · "),
            Span::styled("Enter", theme::key_hint()),
            Span::raw(" keep · "),
            Span::styled("Esc", theme::key_hint()),
            Span::raw(" clear · * and ? make a glob"),
        ])
    } else if let Some(n) = &m.note {
        Line::styled(
            n.text.clone(),
            if n.error {
                theme::error()
            } else {
                theme::note()
            },
        )
    } else {
        let mut spans = Vec::new();
        for (i, (key, label)) in m.keymap.hints(m.focus).into_iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" · ", theme::dim()));
            }
            spans.push(Span::styled(key, theme::key_hint()));
            spans.push(Span::raw(format!(" {label}")));
        }
        Line::from(spans)
    }
}
