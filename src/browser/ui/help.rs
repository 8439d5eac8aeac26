//! The help overlay, generated from the keymap (its text is in `model::help`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::browser::model::help::{HelpLine, Kind, lines, visible};
use crate::browser::model::{Model, Overlay};
use crate::browser::theme;

pub fn help(f: &mut Frame, m: &Model, area: Rect) {
    let Some(Overlay::Help { scroll }) = &m.overlay else {
        return;
    };
    let text = lines(m);
    let shown = visible(m, text.len());
    // A terminal made taller since the last scroll shows the last lines, not blank ones.
    let scroll = (*scroll).min(text.len() - shown);
    let read_only = m.settings.read_only;
    let drawn: Vec<Line> = text.iter().map(|l| styled(l, read_only)).collect();
    let width = drawn.iter().map(|l| l.width()).max().unwrap_or(20) as u16 + 3;
    let r = super::centered(area, width, shown as u16 + 2);
    let title = if shown < text.len() {
        let last = (scroll + shown).min(text.len());
        let at = format!(" Help · {}–{last} of {} ", scroll + 1, text.len());
        super::first_fitting(
            &[
                format!("{at}· j/k scroll · Esc closes "),
                format!("{at}· Esc closes "),
                at,
            ],
            r.width.saturating_sub(2) as usize,
        )
    } else {
        " Help · Esc closes ".to_string()
    };
    f.render_widget(Clear, r);
    f.render_widget(
        Paragraph::new(drawn).scroll((scroll as u16, 0)).block(
            Block::bordered()
                .title(Span::styled(title, theme::title(true)))
                .border_style(theme::border(true)),
        ),
        r,
    );
}

fn styled(l: &HelpLine, read_only: bool) -> Line<'static> {
    let mut spans = match l.kind {
        Kind::Heading => vec![Span::styled(l.keys.clone(), theme::title(true))],
        Kind::Footer => vec![Span::styled(format!("{}{}", l.keys, l.text), theme::dim())],
        _ => vec![
            Span::styled(l.keys.clone(), theme::key_hint()),
            Span::raw(l.text.clone()),
        ],
    };
    if let Some(note) = l.note {
        spans.push(Span::styled(note, theme::note()));
    }
    if read_only && l.kind == (Kind::Binding { writes: true }) {
        spans = spans.into_iter().map(|s| s.style(theme::dim())).collect();
    }
    Line::from(spans)
}
