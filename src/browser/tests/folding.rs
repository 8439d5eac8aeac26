//! Folders of a big trace start closed; collapse-all and expand-all keep the selection on the
//! folder that holds it.

use super::*;
use crate::browser::model::keys::{AUTO_FOLD_KEYS, RowKind, Selected};

/// A trace `big` with 2 x `pairs` keys in folders (`step:N:...`, `user:N:...`) and two at the
/// top level.
fn trace_of(c: &Arc<ManualClock>, pairs: usize) -> Model {
    let mut m = model(c);
    let g = scan_gen(&connect(&mut m));
    let mut names = vec!["order".to_string(), "status".to_string()];
    for i in 0..pairs {
        names.push(format!("step:{i}:input"));
        names.push(format!("user:{i}:name"));
    }
    let keys: Vec<(&str, &str)> = names.iter().map(|k| ("big", k.as_str())).collect();
    batch(&mut m, g, &keys);
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: keys.len() as u64,
        },
    );
    m
}

fn big(c: &Arc<ManualClock>) -> Model {
    trace_of(c, 30)
}

fn labels(m: &Model) -> Vec<String> {
    m.keys
        .rows
        .iter()
        .map(|r| format!("{}{}", "  ".repeat(r.depth), r.label))
        .collect()
}

#[test]
fn a_big_trace_starts_folded_and_a_small_one_open() {
    let c = clock();
    let m = big(&c);
    assert_eq!(labels(&m), ["order", "status", "step:", "user:"]);
    // At the threshold the folders stay open.
    let at = trace_of(&c, AUTO_FOLD_KEYS / 2);
    assert_eq!(at.keys.rows.len(), 2 + 2 * (1 + AUTO_FOLD_KEYS));
    // trace-a of DATA has 3 keys in folders: open.
    let mut small = loaded(&c);
    update(&mut small, code(KeyCode::Enter));
    assert_eq!(labels(&small)[1], "user:");
    assert_eq!(labels(&small)[2], "  1:");
}

#[test]
fn expand_all_and_collapse_all_keep_the_selection_sensible() {
    let c = clock();
    let mut m = big(&c);
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.focus, Pane::Keys);
    update(&mut m, key('+'));
    assert_eq!(m.keys.rows.len(), 2 + 2 * (1 + 30 * 2));
    // Down to the key user:2:name.
    let at = m
        .keys
        .rows
        .iter()
        .position(|r| matches!(&r.kind, RowKind::Key { key } if key == "user:2:name"))
        .unwrap();
    update(&mut m, key('g'));
    for _ in 0..at {
        update(&mut m, key('j'));
    }
    assert_eq!(m.keys.selected, Some(Selected::Key("user:2:name".into())));
    update(&mut m, key('-'));
    assert_eq!(labels(&m), ["order", "status", "step:", "user:"]);
    assert_eq!(m.keys.selected, Some(Selected::Folder("user:".into())));
    assert_eq!(m.keys.list.cursor, 3);
    // Expanding keeps the folder selected, and a rescan does not fold again.
    update(&mut m, key('+'));
    assert_eq!(m.keys.selected, Some(Selected::Folder("user:".into())));
    assert_eq!(labels(&m)[m.keys.list.cursor], "user:");
    update(&mut m, key('r'));
    assert!(m.keys.rows.len() > 60);
    // Enter on a folder still toggles just that one.
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(labels(&m).last().map(String::as_str), Some("user:"));
}

#[test]
fn collapse_all_is_listed_in_the_help_and_the_hint_bar() {
    let c = clock();
    let mut m = big(&c);
    update(&mut m, code(KeyCode::Enter));
    // Listed after the other hints: shown when the bar has room.
    update(&mut m, Action::Resize(140, 20));
    let s = screen(&m);
    assert!(s.contains("- collapse · + expand"), "{s}");
    update(&mut m, Action::Resize(100, 60));
    update(&mut m, key('?'));
    let s = screen(&m);
    assert!(s.contains("close every folder"), "{s}");
}

#[test]
fn frame_big_trace_folded() {
    let c = clock();
    let mut m = big(&c);
    update(&mut m, code(KeyCode::Enter));
    insta::assert_snapshot!("big_trace_folded", screen(&m));
}
