//! The help overlay, generated from the keymap.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::browser::model::{Model, Overlay};
use crate::browser::theme;

pub fn help(f: &mut Frame, m: &Model, area: Rect) {
    let Some(Overlay::Help { scroll }) = &m.overlay else {
        return;
    };
    let rows = m.keymap.help_rows();
    let key_w = rows
        .iter()
        .map(|(k, _, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut lines: Vec<Line> = rows
        .into_iter()
        .map(|(k, d, writes)| {
            let mut spans = vec![
                Span::styled(format!(" {k:<key_w$}  "), theme::key_hint()),
                Span::raw(d),
            ];
            if writes {
                spans.push(Span::styled(
                    if m.settings.read_only {
                        " (writes: off, read-only)"
                    } else {
                        " (writes)"
                    },
                    theme::note(),
                ));
                if m.settings.read_only {
                    spans = spans.into_iter().map(|s| s.style(theme::dim())).collect();
                }
            }
            Line::from(spans)
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(" Commands (after :)", theme::title(true)));
    for (name, args, what) in crate::browser::model::command_line::COMMANDS {
        lines.push(Line::from(vec![
            Span::styled(format!(" :{name} {args}"), theme::key_hint()),
            Span::raw(format!("  {what}")),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " Rebind keys in config.toml in the config directory, or --config FILE.",
        theme::dim(),
    ));
    let width = lines.iter().map(|l| l.width()).max().unwrap_or(20) as u16 + 3;
    let height = lines.len() as u16 + 2;
    let r = super::centered(area, width, height);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).scroll((*scroll as u16, 0)).block(
            Block::bordered()
                .title(Span::styled(" Help · Esc closes ", theme::title(true)))
                .border_style(theme::border(true)),
        ),
        r,
    );
}
