//! The status bar: connection, server, read-only marker, scan progress; then hints, the
//! filter being typed, or a message.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::browser::format::thousands;
use crate::browser::keymap::{Command, Hint, HintContext};
use crate::browser::model::live::LiveState;
use crate::browser::model::{ConnState, Mode, Model};
use crate::browser::text;
use crate::browser::theme;

pub fn status(f: &mut Frame, m: &Model, area: Rect) {
    let w = area.width as usize;
    f.render_widget(Paragraph::new(vec![fitted(top(m), w), bottom(m, w)]), area);
}

/// The reason in a layout label (`layout iii (detected: ...)`; a note after `; `).
fn layout_reason(label: &str) -> Option<&str> {
    let label = label.split_once("; ").map_or(label, |(l, _)| l);
    let (_, rest) = label.split_once(" (")?;
    rest.strip_suffix(')')
}

/// A piece of the top line; when the line is too long the lowest `keep` goes first.
struct Part {
    spans: Vec<Span<'static>>,
    keep: u8,
}

fn part(keep: u8, spans: Vec<Span<'static>>) -> Part {
    Part { spans, keep }
}

/// The top line's pieces: connection, server, read-only marker, prefix, scan progress.
fn top(m: &Model) -> Vec<Part> {
    let mut parts = Vec::new();
    // Everything here may hold text from the server or the command line: shown escaped.
    let url = text::line(&m.settings.url);
    let mut after_url = Vec::new();
    if m.settings.read_only {
        after_url.push(part(8, vec![Span::styled(" · READ-ONLY", theme::error())]));
    }
    if let Some(name) = &m.settings.profile {
        after_url.push(part(
            7,
            vec![Span::styled(
                format!(" · profile {}", text::line(name)),
                theme::note(),
            )],
        ));
    }
    // Why this layout (the detection's words), given up first when the line is short.
    let why = layout_reason(&m.settings.layout).map(|why| {
        let layout = if m.settings.iii { "" } else { "layout motia: " };
        part(
            1,
            vec![Span::styled(
                format!(" · {layout}{}", text::line(why)),
                theme::dim(),
            )],
        )
    });
    if m.settings.iii {
        after_url.push(part(
            7,
            vec![Span::styled(
                " · iii layout (state:{scope} hashes)",
                theme::note(),
            )],
        ));
    }
    after_url.extend(why);
    if !m.settings.iii && m.settings.prefix != motia_state::DEFAULT_PREFIX {
        after_url.push(part(
            7,
            vec![
                Span::styled(" · prefix ", theme::dim()),
                Span::styled(text::name(&m.settings.prefix).into_owned(), theme::note()),
            ],
        ));
    }
    match &m.conn {
        ConnState::Connecting { attempt, error } => {
            parts.push(part(
                9,
                vec![Span::styled(
                    format!("◌ connecting to {url}"),
                    theme::note(),
                )],
            ));
            parts.append(&mut after_url);
            if let Some(e) = error {
                parts.push(part(
                    8,
                    vec![Span::styled(
                        format!(" · {} · retrying (attempt {attempt})", text::line(e)),
                        theme::error(),
                    )],
                ));
            }
        }
        ConnState::Connected => parts.push(part(
            9,
            vec![
                Span::styled("● ", theme::ok()),
                Span::raw(url.clone().into_owned()),
            ],
        )),
        ConnState::Failed { error } => parts.push(part(
            9,
            vec![Span::styled(
                format!(
                    "✗ not connected to {url}: {} · not retrying",
                    text::line(error)
                ),
                theme::error(),
            )],
        )),
        ConnState::Lost { reason } => parts.push(part(
            9,
            vec![Span::styled(
                format!(
                    "✗ disconnected from {url}: {} · reconnecting",
                    text::line(reason)
                ),
                theme::error(),
            )],
        )),
    }
    // After the connection (or its error, which comes first while connecting).
    parts.append(&mut after_url);
    if let Some(mode) = &m.server.mode {
        parts.push(part(
            6,
            vec![Span::styled(
                format!(" · {}", text::line(mode)),
                theme::note(),
            )],
        ));
    }
    if !m.server.unreachable.is_empty() {
        parts.push(part(
            8,
            vec![Span::styled(
                format!(
                    " · ✗ no answer from {}",
                    text::line(&m.server.unreachable.join(", "))
                ),
                theme::error(),
            )],
        ));
    }
    if let Some(v) = &m.server_version {
        parts.push(part(
            1,
            vec![Span::styled(format!(" · Redis {v}"), theme::dim())],
        ));
    } else if let Some(why) = &m.server.version_unknown {
        // Why it is unknown says what the user may not do: kept longer than a version.
        parts.push(part(
            3,
            vec![Span::styled(
                format!(" · Redis ? ({})", short(why)),
                theme::dim(),
            )],
        ));
    }
    let live = match &m.live.state {
        LiveState::Live => Some((" · live", theme::ok())),
        LiveState::Polling { .. } => Some((" · polling", theme::dim())),
        LiveState::Reconnecting => Some((" · live: reconnecting", theme::note())),
        LiveState::Unknown => None,
    };
    if let Some((text, style)) = live {
        parts.push(part(6, vec![Span::styled(text, style)]));
    }
    if m.live.follow {
        parts.push(part(6, vec![Span::styled(" · follow", theme::note())]));
    }
    if m.scan.started.is_some() || m.scan.completed_once {
        scan(m, &mut parts);
    }
    parts
}

/// Scan progress: keys seen of DBSIZE, traces, time, state.
fn scan(m: &Model, parts: &mut Vec<Part>) {
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
    let raw = |keep, text: String| part(keep, vec![Span::raw(text)]);
    // While scanning: progress (keys the scan returned of all keys in the database). After:
    // what the index holds, which deletes, expiries and restarts keep equal to the panes (a
    // total the user may not ask for is still said to be unknown, and why).
    let keys = if m.scan.running {
        format!(" · keys {}{total}", thousands(m.scan.seen))
    } else {
        let unknown = match (m.scan.dbsize, &m.server.size_unknown) {
            (None, Some(why)) => format!(" of ? ({})", short(why)),
            _ => String::new(),
        };
        format!(" · keys {}{unknown}", thousands(m.index.total_keys as u64))
    };
    parts.push(raw(5, keys));
    let (streams, _) = crate::browser::ui::streams::counts(m);
    let groups = m.index.traces.len() - streams;
    let groups = match (m.settings.iii, streams) {
        (false, _) => format!(" · traces {}", thousands(groups as u64)),
        (true, 0) => format!(" · scopes {}", thousands(groups as u64)),
        (true, n) => format!(
            " · scopes {} · streams {}",
            thousands(groups as u64),
            thousands(n as u64)
        ),
    };
    parts.push(raw(4, groups));
    parts.push(raw(2, format!(" · {:.1}s", elapsed.as_secs_f64())));
    parts.push(part(
        3,
        vec![
            Span::raw(" · "),
            Span::styled(
                state,
                if state == "done" {
                    theme::ok()
                } else {
                    theme::note()
                },
            ),
        ],
    ));
}

/// "may not run INFO" as "no INFO": the status line is narrow.
fn short(why: &str) -> String {
    let why = text::line(why);
    match why.strip_prefix("may not run ") {
        Some(cmd) => format!("no {cmd}"),
        None => why.into_owned(),
    }
}

/// Pieces whose `keep` is at least this are never left out (the line is cut instead).
const ESSENTIAL: u8 = 8;

/// The pieces that fit in `width`, the least needed left out first, in their order.
fn fitted(mut parts: Vec<Part>, width: usize) -> Line<'static> {
    let part_width = |p: &Part| {
        p.spans
            .iter()
            .map(|s| text::width(&s.content))
            .sum::<usize>()
    };
    while parts.iter().map(part_width).sum::<usize>() > width {
        let least = parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.keep < ESSENTIAL)
            .min_by_key(|(i, p)| (p.keep, usize::MAX - i))
            .map(|(i, _)| i);
        match least {
            Some(i) => {
                parts.remove(i);
            }
            None => break,
        }
    }
    Line::from(parts.into_iter().flat_map(|p| p.spans).collect::<Vec<_>>())
}

/// The second line: the filter being typed, a message, the editor's keys, or the keys of
/// the focused pane.
fn bottom(m: &Model, width: usize) -> Line<'static> {
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
            text::line(&n.text).into_owned(),
            if n.error {
                theme::error()
            } else {
                theme::note()
            },
        )
    } else if m.editor.is_some() {
        let save = m.keymap.keys_of(Command::Save);
        let back = m.keymap.keys_of(Command::Back);
        let hints = [
            (save, "save"),
            (back, "leave"),
            ("Ctrl-u".to_string(), "undo"),
            ("Ctrl-r".to_string(), "redo"),
        ];
        let hints: Vec<Hint> = hints
            .into_iter()
            .map(|(key, label)| Hint {
                command: Command::Save,
                key,
                label,
                rank: 1,
            })
            .collect();
        hint_line(&hints, width)
    } else {
        let ctx = HintContext {
            read_only: m.settings.read_only,
            records: m.index.has_records(),
            live: m.live.is_live() || m.live.follow,
            profiles: !m.connections.is_empty(),
        };
        hint_line(&m.keymap.hints(m.place(), ctx), width)
    }
}

/// `key label · key label` in `width`: the hints that fit, the lowest rank first (rank 0
/// always), shown in their order.
fn hint_line(hints: &[Hint], width: usize) -> Line<'static> {
    const SEP: &str = " · ";
    // Each hint with the separator before it; the first has none.
    let cost = |h: &Hint| text::width(&h.key) + 1 + text::width(h.label) + text::width(SEP);
    let mut room = width + text::width(SEP);
    let mut by_rank: Vec<usize> = (0..hints.len()).collect();
    by_rank.sort_by_key(|&i| hints[i].rank);
    let mut shown = vec![false; hints.len()];
    for i in by_rank {
        let c = cost(&hints[i]);
        if c <= room || hints[i].rank == 0 {
            room = room.saturating_sub(c);
            shown[i] = true;
        }
    }
    let mut spans = Vec::new();
    for h in hints.iter().zip(shown).filter_map(|(h, s)| s.then_some(h)) {
        if !spans.is_empty() {
            spans.push(Span::styled(SEP, theme::dim()));
        }
        spans.push(Span::styled(h.key.clone(), theme::key_hint()));
        spans.push(Span::raw(format!(" {}", h.label)));
    }
    Line::from(spans)
}
