//! The open dialog: prompts and confirmations in small boxes, the conflict after a save and
//! the value found then. The command line has its own file.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use crate::browser::doc::ValueDoc;
use crate::browser::keymap::Command;
use crate::browser::model::Model;
use crate::browser::model::dialog::{Dialog, Prompt};
use crate::browser::model::streams;
use crate::browser::text;
use crate::browser::theme;
use crate::browser::ui::command_line::command_line;
use crate::browser::ui::value::highlight_json;
use crate::browser::ui::{boxed, centered};

/// The open dialog, if any. Prompts other than the command line are small boxes; the command
/// line replaces the hint line of the status bar.
pub fn dialog(f: &mut Frame, m: &Model, area: Rect, status: Rect) {
    let Some(d) = &m.dialog else {
        return;
    };
    match d {
        Dialog::Prompt {
            purpose: Prompt::Command,
            input,
            fits,
        } => {
            // A command that could not run keeps the line: its message shows beside it.
            let problem = m.note.as_ref().filter(|n| n.error).map(|n| n.text.as_str());
            command_line(f, input, fits, problem, status)
        }
        Dialog::Prompt { purpose, input, .. } => prompt(f, purpose, input, area),
        Dialog::Confirm { title, text, .. } => {
            // A question may list what it does, a line each.
            let mut lines: Vec<Line> = text
                .split('\n')
                .map(|l| Line::raw(text::line(l).into_owned()))
                .collect();
            lines.extend([
                Line::raw(""),
                Line::from(vec![
                    Span::styled("y", theme::key_hint()),
                    Span::raw(" yes, do it · "),
                    Span::styled("any other key", theme::key_hint()),
                    Span::raw(" cancel"),
                ]),
            ]);
            small_box(f, area, format!(" {} ", text::line(title)), lines);
        }
        Dialog::ConfirmLive { text } => yes_or_no(
            f,
            area,
            " Live mode: switch on keyspace notifications ",
            text,
            " yes, change the server setting",
        ),
        Dialog::RestoreOwed { text } => yes_or_no(
            f,
            area,
            " Keyspace notifications left switched on ",
            text,
            " yes, restore it",
        ),
        Dialog::Discard => {
            let save = m.keymap.keys_of(Command::Save);
            let lines = vec![
                Line::raw("The text has unsaved changes."),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("y", theme::key_hint()),
                    Span::raw(" discard them · "),
                    Span::styled(save, theme::key_hint()),
                    Span::raw(" save · "),
                    Span::styled("any other key", theme::key_hint()),
                    Span::raw(" keep editing"),
                ]),
            ];
            small_box(f, area, " Leave the editor? ".into(), lines);
        }
        Dialog::Conflict { current } => conflict(f, current.as_deref(), area),
        Dialog::Current { doc, scroll, .. } => current(f, doc.as_deref(), *scroll, area),
    }
}

/// A one-line prompt with what it asks for.
fn prompt(f: &mut Frame, purpose: &Prompt, input: &str, area: Rect) {
    let (title, help) = match purpose {
        Prompt::TraceId => (
            " New trace · id ".to_string(),
            "not empty, no ':' · Enter: next, the first key's name · Esc cancel".to_string(),
        ),
        Prompt::KeyName { trace } if streams::is_stream(trace) => (
            format!(" New item in stream group {} ", streams::label(trace)),
            "item id · Enter: open the editor · Esc cancel".into(),
        ),
        Prompt::KeyName { trace } => (
            format!(" New key in trace {} ", text::name(trace)),
            "key name · Enter: open the editor · Esc cancel".into(),
        ),
        Prompt::Ttl { what, .. } => (
            format!(" TTL for {} ", text::line(what)),
            "90, 90s, 10m, 2h, 1d, or persist/none to remove · Enter apply · Esc cancel".into(),
        ),
        Prompt::Command => return,
    };
    let width = (text::width(&title).max(text::width(&help)) + 4) as u16;
    let r = centered(area, width.max(40), 4);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled("› ", theme::key_hint()),
                Span::raw(text::line(input).into_owned()),
                Span::styled("▏", theme::key_hint()),
            ]),
            Line::styled(help, theme::dim()),
        ])
        .block(boxed(title)),
        r,
    );
}

/// The save found other bytes than those loaded.
fn conflict(f: &mut Frame, current: Option<&[u8]>, area: Rect) {
    let what = match current {
        Some(b) => format!("It now holds {} bytes.", b.len()),
        None => "The key no longer exists.".into(),
    };
    let lines = vec![
        Line::styled(
            "The value changed since it was loaded; nothing was written.",
            theme::error(),
        ),
        Line::raw(what),
        Line::raw("Your edited text is kept."),
        Line::raw(""),
        Line::from(vec![
            Span::styled("s", theme::key_hint()),
            Span::raw(" show the new value · "),
            Span::styled("o", theme::key_hint()),
            Span::raw(" overwrite it · "),
            Span::styled("c/Esc", theme::key_hint()),
            Span::raw(" cancel (back to your text)"),
        ]),
    ];
    small_box(f, area, " Conflict ".into(), lines);
}

/// The value now in Redis, after a conflict.
fn current(f: &mut Frame, doc: Option<&ValueDoc>, scroll: usize, area: Rect) {
    let r = centered(
        area,
        area.width.saturating_sub(8),
        area.height.saturating_sub(2),
    );
    f.render_widget(Clear, r);
    let h = r.height.saturating_sub(2) as usize;
    let lines: Vec<Line> = match doc {
        Some(doc) => (scroll..(scroll + h).min(doc.line_count()))
            .map(|i| {
                let l = doc.line(i);
                if doc.is_json() {
                    highlight_json(l)
                } else {
                    Line::raw(l)
                }
            })
            .collect(),
        None => vec![Line::styled("(the key no longer exists)", theme::error())],
    };
    f.render_widget(
        Paragraph::new(lines).block(boxed(" Value now in Redis ".into()).title_bottom(
            Span::styled(
                " j/k scroll · o overwrite it with your text · Esc back to your text ",
                theme::dim(),
            ),
        )),
        r,
    );
}

/// `text` wrapped to the box before it is measured, so the line naming the key to press is
/// never cut off below a long explanation.
fn yes_or_no(f: &mut Frame, area: Rect, title: &str, text: &str, yes: &'static str) {
    let inner = usize::from(area.width.saturating_sub(4)).max(20);
    let mut lines: Vec<Line> = text
        .lines()
        .flat_map(|l| {
            // Lines that fit keep their spacing (wrapping joins words with one space).
            if text::width(l) <= inner {
                vec![l.to_string()]
            } else {
                text::wrap(l, inner)
            }
        })
        .map(Line::raw)
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("y", theme::key_hint()),
        Span::raw(yes),
        Span::raw(" · "),
        Span::styled("any other key", theme::key_hint()),
        Span::raw(" cancel"),
    ]));
    small_box(f, area, title.into(), lines);
}

fn small_box(f: &mut Frame, area: Rect, title: String, lines: Vec<Line<'static>>) {
    let width = lines
        .iter()
        .map(|l| l.width())
        .max()
        .unwrap_or(20)
        .max(text::width(&title)) as u16
        + 4;
    let r = centered(area, width, lines.len() as u16 + 2);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(boxed(title)),
        r,
    );
}
