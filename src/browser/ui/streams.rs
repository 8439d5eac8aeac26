//! The left pane's `Streams` section on the iii layout: its heading row, and the counts that
//! keep the `Scopes` title about scopes.

use ratatui::text::Line;

use crate::browser::format::thousands;
use crate::browser::model::Model;
use crate::browser::model::streams::{count, is_stream};
use crate::browser::text::fit;
use crate::browser::theme;

/// Stream groups in the index and in the list: the title counts the rest.
pub fn counts(m: &Model) -> (usize, usize) {
    if !m.settings.iii {
        return (0, 0);
    }
    let shown = count(&m.traces.view);
    // Unfiltered, the list holds every group: the index is walked only while a filter hides some.
    let filtered = !m.traces.filter.is_empty() || m.traces.status_filter.is_some();
    let total = if filtered {
        m.index.traces.keys().filter(|t| is_stream(t)).count()
    } else {
        shown
    };
    (total, shown)
}

/// `Streams (2) ───`: the heading of the section, across the pane.
pub fn heading(m: &Model, inner: usize) -> Line<'static> {
    let (total, shown) = counts(m);
    let n = if shown == total {
        thousands(total as u64)
    } else {
        format!("{}/{}", thousands(shown as u64), thousands(total as u64))
    };
    let head = format!("Streams ({n}) ");
    let rule = "─".repeat(inner.saturating_sub(head.chars().count()));
    Line::styled(fit(&format!("{head}{rule}"), inner), theme::title(false))
}
