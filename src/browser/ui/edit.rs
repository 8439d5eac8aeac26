//! The editor, dialogs, the command line and notifications, drawn over the panes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use crate::browser::command::COMMANDS;
use crate::browser::edit::{Dialog, Prompt, ToastKind};
use crate::browser::keymap::Command;
use crate::browser::model::Model;
use crate::browser::ui::value::highlight_json;
use crate::browser::ui::{centered, clip, theme};

fn boxed(title: String) -> Block<'static> {
    Block::bordered()
        .title(Span::styled(title, theme::title(true)))
        .border_style(theme::border(true))
}

/// The in-place editor: most of the screen above the status bar.
pub fn editor(f: &mut Frame, m: &Model, main: Rect) {
    let Some(ed) = &m.editor else {
        return;
    };
    let area = Rect {
        x: main.x + main.width / 20,
        y: main.y,
        width: main.width - main.width / 10,
        height: main.height,
    };
    f.render_widget(Clear, area);
    let mut title = format!(
        " {} {} ",
        if ed.creating { "New" } else { "Edit" },
        ed.label
    );
    if ed.dirty() {
        title.push_str("· modified ");
    }
    if ed.saving.is_some() {
        title.push_str("· saving… ");
    }
    let save = m.keymap.keys_of(Command::Save);
    let back = m.keymap.keys_of(Command::Back);
    let hint = if ed.creating {
        format!(" {save} create (refused if the key exists) · {back} leave ")
    } else {
        format!(" {save} save (compact, TTL kept, only if unchanged in Redis) · {back} leave ")
    };
    let block = boxed(title).title_bottom(Span::styled(hint, theme::dim()));
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [text_area, status] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(inner);
    f.render_widget(&ed.area, text_area);
    let ratatui_textarea::DataCursor(row, col) = ed.area.cursor();
    let line = if let Some(e) = &ed.error {
        Line::styled(clip(e, status.width as usize), theme::error())
    } else if let Some(n) = &ed.notice {
        Line::styled(clip(n, status.width as usize), theme::note())
    } else {
        Line::styled(
            format!("line {}, column {} · valid JSON required", row + 1, col + 1),
            theme::dim(),
        )
    };
    f.render_widget(Paragraph::new(line), status);
}

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
        } => command_line(f, input, fits, status),
        Dialog::Prompt { purpose, input, .. } => {
            let (title, help) = match purpose {
                Prompt::TraceId => (
                    " New trace · id ".to_string(),
                    "not empty, no ':' · Enter: next, the first key's name · Esc cancel"
                        .to_string(),
                ),
                Prompt::KeyName { trace } => (
                    format!(" New key in trace {trace} "),
                    "key name · Enter: open the editor · Esc cancel".into(),
                ),
                Prompt::Ttl { what, .. } => (
                    format!(" TTL for {what} "),
                    "90, 90s, 10m, 2h, 1d, or persist/none to remove · Enter apply · Esc cancel"
                        .into(),
                ),
                Prompt::Command => return,
            };
            let width = (title.chars().count().max(help.chars().count()) + 4) as u16;
            let r = centered(area, width.max(40), 4);
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(vec![
                        Span::styled("› ", theme::key_hint()),
                        Span::raw(input.clone()),
                        Span::styled("▏", theme::key_hint()),
                    ]),
                    Line::styled(help, theme::dim()),
                ])
                .block(boxed(title)),
                r,
            );
        }
        Dialog::Confirm { title, text, .. } => {
            let lines = vec![
                Line::raw(text.clone()),
                Line::raw(""),
                Line::from(vec![
                    Span::styled("y", theme::key_hint()),
                    Span::raw(" yes, do it · "),
                    Span::styled("any other key", theme::key_hint()),
                    Span::raw(" cancel"),
                ]),
            ];
            small_box(f, area, format!(" {title} "), lines);
        }
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
        Dialog::Conflict { current } => {
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
        Dialog::Current { doc, scroll, .. } => {
            let r = centered(
                area,
                area.width.saturating_sub(8),
                area.height.saturating_sub(2),
            );
            f.render_widget(Clear, r);
            let h = r.height.saturating_sub(2) as usize;
            let lines: Vec<Line> = match doc {
                Some(doc) => (*scroll..(*scroll + h).min(doc.line_count()))
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
    }
}

fn small_box(f: &mut Frame, area: Rect, title: String, lines: Vec<Line<'static>>) {
    let width = lines
        .iter()
        .map(|l| l.width())
        .max()
        .unwrap_or(20)
        .max(title.chars().count()) as u16
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

fn command_line(f: &mut Frame, input: &str, fits: &[&str], status: Rect) {
    let line_area = Rect {
        y: status.y + status.height.saturating_sub(1),
        height: 1,
        ..status
    };
    f.render_widget(Clear, line_area);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(":", theme::key_hint()),
            Span::raw(input.to_string()),
            Span::styled("▏", theme::key_hint()),
            Span::styled("   Tab completes · Enter runs · Esc cancels", theme::dim()),
        ])),
        line_area,
    );
    // Completions (or every command, before anything fits) above the line.
    let shown: Vec<&(&str, &str, &str)> = if fits.is_empty() && input.is_empty() {
        COMMANDS.iter().collect()
    } else {
        COMMANDS
            .iter()
            .filter(|(n, _, _)| fits.contains(n))
            .collect()
    };
    if shown.is_empty() {
        return;
    }
    let lines: Vec<Line> = shown
        .iter()
        .map(|(n, args, help)| {
            Line::from(vec![
                Span::styled(format!(" :{n:<8}"), theme::key_hint()),
                Span::raw(format!("{args:<18}")),
                Span::styled(help.to_string(), theme::dim()),
            ])
        })
        .collect();
    let width = lines.iter().map(|l| l.width()).max().unwrap_or(10) as u16 + 3;
    let height = lines.len() as u16 + 2;
    let r = Rect {
        x: status.x,
        y: status.y.saturating_sub(height),
        width: width.min(status.width),
        height: height.min(status.y),
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Span::styled(" commands ", theme::title(true)))
                .border_style(theme::border(true)),
        ),
        r,
    );
}

/// Notifications, newest last, at the bottom right above the status bar.
pub fn toasts(f: &mut Frame, m: &Model, main: Rect) {
    if m.toasts.is_empty() {
        return;
    }
    let width = (main.width / 2).max(30).min(main.width);
    let inner_w = width.saturating_sub(2) as usize;
    let mut lines: Vec<Line> = Vec::new();
    for t in &m.toasts {
        let (mark, style) = match t.kind {
            ToastKind::Pending => ("… ", theme::note()),
            ToastKind::Done => ("✓ ", theme::ok()),
            ToastKind::Failed => ("✗ ", theme::error()),
        };
        let text = format!("{mark}{}", t.text);
        if t.kind == ToastKind::Failed {
            // Failures are shown whole: they say what went wrong and how to dismiss them.
            let chars: Vec<char> = text.chars().collect();
            for chunk in chars.chunks(inner_w.max(1)).take(4) {
                lines.push(Line::styled(chunk.iter().collect::<String>(), style));
            }
        } else {
            lines.push(Line::styled(clip(&text, inner_w), style));
        }
    }
    let height = (lines.len() as u16 + 2).min(main.height);
    let r = Rect {
        x: main.x + main.width - width,
        y: main.y + main.height - height,
        width,
        height,
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Span::styled(" Writes ", theme::title(false)))
                .border_style(theme::border(false)),
        ),
        r,
    );
}
