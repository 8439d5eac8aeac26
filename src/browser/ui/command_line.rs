//! The `:` command line, in place of the status bar's hint line, with the commands that fit.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::browser::model::command_line::COMMANDS;
use crate::browser::theme;

pub fn command_line(
    f: &mut Frame,
    input: &str,
    fits: &[&str],
    problem: Option<&str>,
    status: Rect,
) {
    let line_area = Rect {
        y: status.y + status.height.saturating_sub(1),
        height: 1,
        ..status
    };
    f.render_widget(Clear, line_area);
    f.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(":", theme::key_hint()),
            Span::raw(crate::browser::text::line(input).into_owned()),
            Span::styled("▏", theme::key_hint()),
            match problem {
                Some(p) => Span::styled(
                    format!("   {}", crate::browser::text::line(p)),
                    theme::error(),
                ),
                None => Span::styled("   Tab completes · Enter runs · Esc cancels", theme::dim()),
            },
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
                Span::styled(format!(" :{n:<11}"), theme::key_hint()),
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
