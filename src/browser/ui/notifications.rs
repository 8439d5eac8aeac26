//! The notifications of writes, at the bottom right.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use crate::browser::model::Model;
use crate::browser::model::notifications::ToastKind;
use crate::browser::text;
use crate::browser::theme;
use crate::browser::ui::clip;

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
        let text = format!("{mark}{}", text::line(&t.text));
        // Wrapped between words: failures whole (up to 6 lines, they say what went wrong and
        // how to dismiss them), the others in 2, the rest of a longer one clipped with "…".
        let most = if t.kind == ToastKind::Failed { 6 } else { 2 };
        let wrapped = text::wrap(&text, inner_w);
        for (i, piece) in wrapped.iter().enumerate().take(most) {
            let piece = if i + 1 == most && wrapped.len() > most {
                clip(&wrapped[i..].join(" "), inner_w)
            } else {
                piece.to_string()
            };
            lines.push(Line::styled(piece, style));
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
