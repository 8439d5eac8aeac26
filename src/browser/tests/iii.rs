//! The browser on the iii layout (names `state:{scope}:{field}`): frames with the Scopes pane,
//! the status bar's layout, and T/H explained.

use super::*;

/// Connected on the iii layout, one complete scan of scopes as the engine writes them.
pub(super) fn iii_loaded(clock: &Arc<ManualClock>) -> Model {
    let mut config = motia_state::Config::from_url("redis://127.0.0.1:6390").unwrap();
    config.layout = Some(motia_state::Layout::Iii);
    config.key_prefix = "state:".into();
    let mut m = initial_model(
        &config,
        &BrowserOptions::default(),
        Keymap::default(),
        clock.clone(),
    );
    update(&mut m, Action::Resize(100, 16));
    let g = scan_gen(&connect(&mut m));
    scan_fixture(&mut m, g);
    m
}

/// The fields of the fixture, as scan `g` finds them.
pub(super) fn scan_fixture(m: &mut Model, g: u64) {
    let keys: Vec<String> = [
        "state:misc:answer",
        "state:misc:greeting",
        "state:orders:v1-ok-1",
        "state:payments:v1-ok-1",
    ]
    .iter()
    .map(|k| k.to_string())
    .collect();
    ev(
        m,
        WorkerEvent::ScanBatch {
            generation: g,
            keys,
            seen: 4,
        },
    );
    ev(
        m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 4,
        },
    );
}

#[test]
fn scopes_pane_and_the_layout_in_the_status_bar() {
    let c = clock();
    let mut m = iii_loaded(&c);
    update(&mut m, key('g'));
    update(&mut m, key('j'));
    meta(
        &mut m,
        "state:orders:v1-ok-1",
        "object",
        122,
        Ttl::Persistent,
    );
    let value = br#"{"attempts":1,"total":42.5,"note":"a\/b","tags":{},"big":1.2345678901235e+19}"#;
    answer_value(&mut m, &c, value, value.len() as u64);
    let s = screen(&m);
    assert!(s.contains("Scopes (3)"), "{s}");
    assert!(s.contains("iii layout"), "{s}");
    assert!(s.contains(r#""note": "a\/b""#), "values as stored: {s}");
    insta::assert_snapshot!("iii_scopes_100x16", s);
}

#[test]
fn timeline_and_history_say_why_they_are_unavailable() {
    let c = clock();
    let mut m = iii_loaded(&c);
    let fx = update(&mut m, key('T'));
    assert!(
        !fx.iter()
            .any(|f| matches!(f, Effect::Worker(WorkerCmd::TraceRecords { .. }))),
        "no records are read"
    );
    let s = screen(&m);
    assert!(
        s.contains("no timeline or history on the iii layout"),
        "{s}"
    );
    insta::assert_snapshot!("iii_no_timeline_100x16", s);
}

#[test]
fn delete_and_clear_questions_name_a_scope_not_a_trace() {
    let c = clock();
    let mut m = iii_loaded(&c);
    update(&mut m, key('g'));
    update(&mut m, code(KeyCode::Tab));
    update(&mut m, key('d'));
    let s = screen(&m);
    assert!(s.contains("of scope misc?"), "{s}");
    update(&mut m, code(KeyCode::Esc));
    update(&mut m, code(KeyCode::BackTab));
    update(&mut m, key('D'));
    let s = screen(&m);
    assert!(s.contains("Clear scope misc"), "{s}");
    assert!(!s.contains("trace"), "{s}");
}
