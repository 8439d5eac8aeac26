//! Moving in a list-and-detail view, shared by the timeline and the history.

use crate::browser::model::Pane;

/// Moves in a list-and-detail view (timeline, history): the list in the Keys pane, the detail's
/// scroll in the Value pane. False when the focus is elsewhere.
pub fn list_and_detail(
    focus: Pane,
    list: &mut crate::browser::model::list::ListState,
    len: usize,
    detail_scroll: &mut usize,
    delta: isize,
    height: usize,
) -> bool {
    match focus {
        Pane::Keys => {
            let max = len.saturating_sub(1) as isize;
            list.cursor = (list.cursor as isize).saturating_add(delta).clamp(0, max) as usize;
            list.fit(len, height);
            *detail_scroll = 0;
        }
        Pane::Value => {
            *detail_scroll = (*detail_scroll as isize)
                .saturating_add(delta)
                .clamp(0, 1_000_000) as usize;
        }
        Pane::Traces => return false,
    }
    true
}
