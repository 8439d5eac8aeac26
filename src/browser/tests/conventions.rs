//! What a user finds without reading the docs: the focused pane's title is marked by more than
//! colour, and the footer names the views they would otherwise never find.

use super::*;

fn footer(m: &Model) -> String {
    let shown = screen(m);
    let last = shown.lines().last().unwrap_or_default();
    last.trim_matches('"').trim_end().to_string()
}

fn titles(m: &Model) -> String {
    screen(m).lines().next().unwrap_or_default().to_string()
}

#[test]
fn the_focused_title_alone_carries_the_marker() {
    let c = clock();
    let mut m = loaded(&c);
    let top = titles(&m);
    assert!(top.contains("┌▶Traces (3)"), "{top}");
    assert_eq!(top.matches('▶').count(), 1, "{top}");
    update(&mut m, code(KeyCode::Tab));
    let top = titles(&m);
    assert!(
        top.contains("┌ Traces (3)") && top.contains("┌▶Keys"),
        "{top}"
    );
    update(&mut m, code(KeyCode::Tab));
    let top = titles(&m);
    assert!(
        top.contains("┌▶Value") && top.matches('▶').count() == 1,
        "{top}"
    );
}

#[test]
fn the_footer_names_the_views_where_they_have_something_to_show() {
    let c = clock();
    // Without trace records there is no timeline or history to offer.
    let m = loaded(&c);
    let f = footer(&m);
    assert!(f.contains("S stats") && !f.contains("timeline"), "{f}");
    let mut m = trace_records::with_records(&c, 120);
    m.focus = Pane::Traces;
    let f = footer(&m);
    assert!(f.contains("T timeline") && f.contains("S stats"), "{f}");
    update(&mut m, code(KeyCode::Tab));
    let f = footer(&m);
    assert!(f.contains("H history") && !f.contains("T timeline"), "{f}");
    // Follow once live mode is on.
    assert!(!f.contains("F follow"), "{f}");
    update(&mut m, key('F'));
    update(&mut m, code(KeyCode::Esc));
    let f = footer(&m);
    assert!(f.contains("F follow"), "{f}");
    // At 80 columns the view keys outrank editing keys; help and quit always stay.
    update(&mut m, Action::Resize(80, 24));
    let f = footer(&m);
    assert!(
        f.contains("H history") && f.ends_with("? help · q quit"),
        "{f}"
    );
    update(&mut m, Action::Resize(40, 24));
    let f = footer(&m);
    assert!(f.contains("? help · q quit"), "{f}");
}

#[test]
fn the_help_lists_every_command_the_footer_leaves_out() {
    let km = Keymap::default();
    let rows = km.help_rows(false);
    for c in crate::browser::keymap::Command::ALL {
        assert!(
            rows.iter().any(|(_, d, _)| *d == c.describe()),
            "{} missing from the help",
            c.name()
        );
    }
}

fn mouse(kind: crossterm::event::MouseEventKind, column: u16, row: u16) -> Action {
    Action::Mouse(crossterm::event::MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

fn click(column: u16, row: u16) -> Action {
    use crossterm::event::{MouseButton, MouseEventKind};
    mouse(MouseEventKind::Down(MouseButton::Left), column, row)
}

/// Where the panes are at 100x20 (`loaded`): Traces from column 0, Keys from 22, Value from 60.
const TRACES_X: u16 = 5;
const KEYS_X: u16 = 30;
const VALUE_X: u16 = 70;

#[test]
fn a_click_focuses_the_pane_and_selects_the_row_under_it() {
    let c = clock();
    let mut m = loaded(&c);
    assert_eq!(m.focus, Pane::Traces);
    // Row 1 is the first trace (below the border), row 3 the third.
    update(&mut m, click(TRACES_X, 3));
    assert_eq!(m.traces.selected.as_deref(), Some("trace-c"));
    update(&mut m, click(TRACES_X, 1));
    assert_eq!(m.traces.selected.as_deref(), Some("trace-a"));
    // Keys: row 1 is the column header, row 2 `order`, row 3 the folder `user:`.
    update(&mut m, click(KEYS_X, 2));
    assert_eq!(m.focus, Pane::Keys);
    assert_eq!(m.keys.list.cursor, 0);
    let before = m.keys.rows.len();
    update(&mut m, click(KEYS_X, 3));
    assert_eq!(m.keys.list.cursor, 1);
    assert!(m.keys.rows.len() < before, "the folder closed");
    update(&mut m, click(KEYS_X, 3));
    assert_eq!(m.keys.rows.len(), before, "and opened again");
    // Below the last row, on the header or on a border: focus, nothing selected.
    update(&mut m, click(TRACES_X, 10));
    assert_eq!(m.focus, Pane::Traces);
    assert_eq!(m.traces.selected.as_deref(), Some("trace-a"));
    update(&mut m, click(VALUE_X, 5));
    assert_eq!(m.focus, Pane::Value);
    // The status bar is no pane.
    update(&mut m, click(VALUE_X, 19));
    assert_eq!(m.focus, Pane::Value);
    insta::assert_snapshot!("mouse_clicked_value", screen(&m));
}

#[test]
fn the_wheel_scrolls_the_pane_under_the_pointer_and_leaves_the_focus() {
    use crossterm::event::MouseEventKind::{ScrollDown, ScrollUp};
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Tab));
    assert_eq!(m.focus, Pane::Keys);
    update(&mut m, mouse(ScrollDown, TRACES_X, 2));
    assert_eq!(m.focus, Pane::Keys, "the focus stays");
    assert_eq!(
        m.traces.selected.as_deref(),
        Some("trace-c"),
        "3 rows, clamped"
    );
    update(&mut m, mouse(ScrollUp, TRACES_X, 2));
    assert_eq!(m.traces.selected.as_deref(), Some("trace-a"));
    update(&mut m, mouse(ScrollDown, KEYS_X, 5));
    assert_eq!(m.keys.list.cursor, 3);
    assert_eq!(m.focus, Pane::Keys);
    // Over the help, the wheel scrolls the help; a click does nothing behind it.
    update(&mut m, key('?'));
    update(&mut m, mouse(ScrollDown, VALUE_X, 5));
    assert!(matches!(
        m.overlay,
        Some(crate::browser::model::Overlay::Help { scroll: 3 })
    ));
    update(&mut m, click(TRACES_X, 3));
    assert_eq!(m.focus, Pane::Keys);
    assert_eq!(m.traces.selected.as_deref(), Some("trace-a"));
}

#[test]
fn mouse_events_on_a_narrow_screen_hit_the_panes_drawn() {
    let c = clock();
    let mut m = loaded(&c);
    // Below 70 columns the Traces pane and the Keys pane share the screen.
    update(&mut m, Action::Resize(60, 15));
    update(&mut m, click(40, 2));
    assert_eq!(m.focus, Pane::Keys);
    // Now the Keys pane is on the left and the Value pane on the right.
    update(&mut m, click(40, 2));
    assert_eq!(m.focus, Pane::Value);
    // Too small for panes: nothing to hit.
    update(&mut m, Action::Resize(30, 5));
    update(&mut m, click(1, 1));
    assert_eq!(m.focus, Pane::Value);
}
