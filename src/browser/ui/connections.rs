//! The connection picker: name, where, mode and read-only of each saved connection.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::browser::model::{Model, Overlay};
use crate::browser::theme;

pub fn connections(f: &mut Frame, m: &Model, area: Rect) {
    let Some(Overlay::Connections { selected }) = &m.overlay else {
        return;
    };
    let name_w = m
        .connections
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let place_w = m
        .connections
        .iter()
        .map(|c| c.place.chars().count())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut lines = vec![Line::styled(
        format!(
            "   {:<name_w$}  {:<place_w$}  {:<10}  ",
            "name", "where", "mode"
        ),
        theme::dim(),
    )];
    for (i, c) in m.connections.iter().enumerate() {
        let current = m.settings.profile.as_deref() == Some(c.name.as_str());
        let style = if i == *selected {
            theme::cursor(true)
        } else {
            ratatui::style::Style::new()
        };
        let mut spans = vec![
            Span::styled(if current { " ● " } else { "   " }, theme::ok()),
            Span::styled(
                format!(
                    "{:<name_w$}  {:<place_w$}  {:<10}  ",
                    c.name, c.place, c.mode
                ),
                style,
            ),
        ];
        if c.read_only {
            spans.push(Span::styled("read-only", theme::error()));
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        " Enter switches (reconnects and rescans) · Esc closes",
        theme::dim(),
    ));
    let width = lines.iter().map(|l| l.width()).max().unwrap_or(20) as u16 + 3;
    let height = lines.len() as u16 + 2;
    let r = super::centered(area, width, height);
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(Span::styled(" Connections ", theme::title(true)))
                .border_style(theme::border(true)),
        ),
        r,
    );
}
