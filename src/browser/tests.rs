//! `update` as plain function calls, and whole frames drawn into a TestBackend (insta
//! snapshots). Worker events are made by hand here; tests/browser_e2e.rs drives the real worker.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use motia_state::Ttl;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::browser::action::{Action, Effect, RowMeta, ServerFacts, WorkerCmd, WorkerEvent};
use crate::browser::doc::{ValueDoc, WINDOW};
use crate::browser::keymap::Keymap;
use crate::browser::model::clock::ManualClock;
use crate::browser::model::{ConnState, Model, Pane};
use crate::browser::update::meta::GONE_GRACE;
use crate::browser::update::update;
use crate::browser::update::value::DEBOUNCE;
use crate::browser::{BrowserOptions, initial_model, ui};

const P: &str = "motia:state:";

fn clock() -> Arc<ManualClock> {
    let wall = chrono::DateTime::parse_from_rfc3339("2026-01-02T03:04:05+00:00").unwrap();
    Arc::new(ManualClock::new(wall))
}

fn model(clock: &Arc<ManualClock>) -> Model {
    let config = motia_state::Config::from_url("redis://:secret@127.0.0.1:6390").unwrap();
    let mut m = initial_model(
        &config,
        &BrowserOptions::default(),
        Keymap::default(),
        clock.clone(),
    );
    update(&mut m, Action::Resize(100, 20));
    m
}

fn key(c: char) -> Action {
    Action::Key(KeyEvent::new_with_kind(
        KeyCode::Char(c),
        KeyModifiers::NONE,
        KeyEventKind::Press,
    ))
}

fn code(c: KeyCode) -> Action {
    Action::Key(KeyEvent::new_with_kind(
        c,
        KeyModifiers::NONE,
        KeyEventKind::Press,
    ))
}

fn ev(m: &mut Model, e: WorkerEvent) -> Vec<Effect> {
    update(m, Action::Worker(e))
}

fn connect(m: &mut Model) -> Vec<Effect> {
    ev(m, WorkerEvent::Connected(ServerFacts::plain("7.2.4", 9)))
}

fn scan_gen(fx: &[Effect]) -> u64 {
    fx.iter()
        .find_map(|f| match f {
            Effect::Worker(WorkerCmd::Scan { generation }) => Some(*generation),
            _ => None,
        })
        .expect("a scan was started")
}

fn load_id(fx: &[Effect]) -> Option<(u64, String, Option<usize>)> {
    fx.iter().find_map(|f| match f {
        Effect::Worker(WorkerCmd::LoadValue { id, full_key, max }) => {
            Some((*id, full_key.clone(), *max))
        }
        _ => None,
    })
}

fn full(trace: &str, key: &str) -> String {
    format!("{P}{trace}:{key}")
}

fn batch(m: &mut Model, generation: u64, keys: &[(&str, &str)]) {
    let keys: Vec<String> = keys.iter().map(|(t, k)| full(t, k)).collect();
    let seen = m.scan.seen + keys.len() as u64;
    ev(
        m,
        WorkerEvent::ScanBatch {
            generation,
            keys,
            seen,
        },
    );
}

const DATA: &[(&str, &str)] = &[
    ("trace-a", "order"),
    ("trace-a", "user:1:name"),
    ("trace-a", "user:1:profile"),
    ("trace-a", "user:2:name"),
    ("trace-b", "payment"),
    ("trace-b", "raw"),
    ("trace-c", "x"),
];

/// Connected, one complete scan of DATA.
fn loaded(clock: &Arc<ManualClock>) -> Model {
    let mut m = model(clock);
    let g = scan_gen(&connect(&mut m));
    batch(&mut m, g, DATA);
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 7,
        },
    );
    m
}

/// Waits out the debounce and answers the value load with `bytes`.
fn answer_value(m: &mut Model, clock: &ManualClock, bytes: &[u8], total: u64) {
    clock.advance(DEBOUNCE);
    let fx = update(m, Action::Tick);
    let (id, full_key, _) = load_id(&fx).expect("a value load");
    let doc = ValueDoc::build(bytes, total);
    ev(
        m,
        WorkerEvent::Value {
            id,
            full_key,
            result: Ok(Some(Arc::new(doc))),
        },
    );
}

fn meta(m: &mut Model, key: &str, kind: &str, len: u64, ttl: Ttl) {
    ev(
        m,
        WorkerEvent::Meta {
            rows: vec![(
                key.to_string(),
                RowMeta {
                    kind: kind.into(),
                    len: Some(len),
                    ttl,
                },
            )],
        },
    );
}

fn screen(m: &Model) -> String {
    let mut t = Terminal::new(TestBackend::new(m.size.0, m.size.1)).unwrap();
    t.draw(|f| ui::draw(f, m)).unwrap();
    t.backend().to_string()
}

// ---- update ----

#[test]
fn stale_scan_generations_are_ignored() {
    let c = clock();
    let mut m = model(&c);
    let g1 = scan_gen(&connect(&mut m));
    let g2 = scan_gen(&update(&mut m, key('r')));
    assert!(g2 > g1);
    batch(&mut m, g1, &[("old", "k")]);
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g1,
            seen: 1,
        },
    );
    assert!(
        m.index.traces.is_empty(),
        "a replaced scan's keys were kept"
    );
    assert!(m.scan.running, "a replaced scan ended the current one");
    batch(&mut m, g2, &[("new", "k")]);
    assert_eq!(m.traces.view, vec!["new".into()] as Vec<Box<str>>);
}

#[test]
fn duplicate_keys_from_scan_count_once() {
    let c = clock();
    let mut m = model(&c);
    let g = scan_gen(&connect(&mut m));
    batch(&mut m, g, DATA);
    batch(&mut m, g, DATA);
    assert_eq!(m.index.total_keys, DATA.len());
    assert_eq!(m.index.count("trace-a"), 4);
}

#[test]
fn filter_narrows_and_clears() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key('/'));
    for ch in "-b".chars() {
        update(&mut m, key(ch));
    }
    assert_eq!(m.traces.view, vec!["trace-b".into()] as Vec<Box<str>>);
    assert_eq!(m.keys.trace.as_deref(), Some("trace-b"));
    update(&mut m, code(KeyCode::Backspace));
    update(&mut m, code(KeyCode::Backspace));
    update(&mut m, key('*'));
    update(&mut m, key('c'));
    assert_eq!(
        m.traces.view,
        vec!["trace-c".into()] as Vec<Box<str>>,
        "glob *c"
    );
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.traces.filter, "*c", "Enter keeps the filter");
    update(&mut m, code(KeyCode::Esc));
    assert_eq!(m.traces.filter, "");
    assert_eq!(m.traces.view.len(), 3);
    assert_eq!(
        m.traces.selected.as_deref(),
        Some("trace-c"),
        "selection kept"
    );
}

#[test]
fn key_filter_filters_the_tree() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.focus, Pane::Keys);
    update(&mut m, key('/'));
    for ch in "prof".chars() {
        update(&mut m, key(ch));
    }
    let labels: Vec<_> = m.keys.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["user:", "1:", "profile"]);
}

#[test]
fn the_key_filter_is_cleared_when_another_trace_is_opened() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('/'));
    typed(&mut m, "prof");
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(m.keys.filter, "prof");
    // Back to the Traces pane, the next trace: its keys all shown, and the bar says why.
    update(&mut m, key('h'));
    update(&mut m, key('j'));
    assert_eq!(m.keys.trace.as_deref(), Some("trace-b"));
    assert_eq!(m.keys.filter, "");
    let labels: Vec<_> = m.keys.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(labels, ["payment", "raw"]);
    assert_eq!(note_text(&m), "key filter cleared: another trace");
}

#[test]
fn selection_is_kept_across_rescans_and_gone_keys_are_dropped() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key('j')); // trace-b
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('j')); // raw
    assert_eq!(m.cursor_key(), Some("raw"));
    let g = scan_gen(&update(&mut m, key('r')));
    // The new scan meets the keys in another order, and trace-a is gone.
    batch(
        &mut m,
        g,
        &[("trace-c", "x"), ("trace-b", "raw"), ("trace-d", "new")],
    );
    assert_eq!(m.cursor_key(), Some("raw"));
    batch(&mut m, g, &[("trace-b", "payment")]);
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 4,
        },
    );
    assert_eq!(m.traces.selected.as_deref(), Some("trace-b"));
    assert_eq!(m.cursor_key(), Some("raw"));
    let ids: Vec<&str> = m.traces.view.iter().map(|t| &**t).collect();
    assert_eq!(ids, ["trace-b", "trace-c", "trace-d"]);
}

#[test]
fn sort_cycles_between_id_and_count() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key('s'));
    let ids: Vec<&str> = m.traces.view.iter().map(|t| &**t).collect();
    assert_eq!(ids, ["trace-a", "trace-b", "trace-c"]);
    assert_eq!(m.index.count("trace-a"), 4);
    update(&mut m, key('s'));
    let g = scan_gen(&update(&mut m, key('r')));
    batch(
        &mut m,
        g,
        &[("z", "1"), ("z", "2"), ("z", "3"), ("z", "4"), ("z", "5")],
    );
    update(&mut m, key('s'));
    assert_eq!(&*m.traces.view[0], "z", "most keys first");
}

#[test]
fn value_loads_are_debounced_and_stale_answers_ignored() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter)); // keys of trace-a, cursor on "order"
    c.advance(DEBOUNCE);
    let (first, k1, max) = load_id(&update(&mut m, Action::Tick)).unwrap();
    assert_eq!(k1, full("trace-a", "order"));
    assert_eq!(max, Some(WINDOW));
    // Two quick moves: nothing goes out before the debounce, then only the latest.
    update(&mut m, key('j'));
    update(&mut m, key('j'));
    update(&mut m, key('j'));
    assert!(load_id(&update(&mut m, Action::Tick)).is_none());
    c.advance(DEBOUNCE);
    let (second, k2, _) = load_id(&update(&mut m, Action::Tick)).unwrap();
    assert_eq!(k2, full("trace-a", "user:1:name"));
    let stale = ValueDoc::build(b"\"old\"", 5);
    ev(
        &mut m,
        WorkerEvent::Value {
            id: first,
            full_key: k1,
            result: Ok(Some(Arc::new(stale))),
        },
    );
    assert!(m.value.doc.is_none(), "an old request's answer was shown");
    ev(
        &mut m,
        WorkerEvent::Value {
            id: second,
            full_key: k2,
            result: Ok(Some(Arc::new(ValueDoc::build(b"\"Ada\"", 5)))),
        },
    );
    assert_eq!(m.value.doc.as_ref().unwrap().line(0), "\"Ada\"");
}

#[test]
fn ttl_counts_down_with_the_injected_clock() {
    let c = clock();
    let mut m = loaded(&c);
    let k = full("trace-a", "order");
    meta(
        &mut m,
        &k,
        "object",
        10,
        Ttl::Expires(Duration::from_secs(10)),
    );
    let entry = m.meta.get(&k).unwrap().clone();
    assert!(screen(&m).contains("10s"));
    m.dirty = false;
    c.advance(Duration::from_millis(3500));
    update(&mut m, Action::Tick);
    assert!(m.dirty, "a countdown on screen redraws on tick");
    assert_eq!(
        entry.ttl_at(m.now()),
        Ttl::Expires(Duration::from_millis(6500))
    );
    let s = screen(&m);
    assert!(s.contains(" 7s"), "{s}");
    c.advance(Duration::from_secs(10));
    assert!(screen(&m).contains("expired"));
}

#[test]
fn vanished_keys_are_marked_then_removed() {
    let c = clock();
    let mut m = loaded(&c);
    let k = full("trace-a", "order");
    meta(&mut m, &k, "object", 10, Ttl::Missing);
    assert!(m.meta[&k].gone_since.is_some());
    assert!(screen(&m).contains("gone"));
    update(&mut m, Action::Tick);
    assert_eq!(
        m.index.count("trace-a"),
        4,
        "removed before the grace period"
    );
    c.advance(GONE_GRACE);
    update(&mut m, Action::Tick);
    assert_eq!(m.index.count("trace-a"), 3);
    assert_ne!(m.cursor_key(), Some("order"));
}

#[test]
fn refresh_rereads_the_visible_rows_and_value() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    answer_value(&mut m, &c, b"{\"a\":1}", 7);
    meta(
        &mut m,
        &full("trace-a", "order"),
        "object",
        7,
        Ttl::Persistent,
    );
    c.advance(Duration::from_secs(2));
    let fx = update(&mut m, Action::Tick);
    assert!(fx.iter().any(|f| matches!(f, Effect::Worker(WorkerCmd::FetchMeta { keys }) if keys.contains(&full("trace-a", "order")))));
    let (id, key, _) = load_id(&fx).expect("the value is re-read");
    let scroll_before = m.value.scroll;
    ev(
        &mut m,
        WorkerEvent::Value {
            id,
            full_key: key,
            result: Ok(Some(Arc::new(ValueDoc::build(b"{\"a\":2}", 7)))),
        },
    );
    assert_eq!(m.value.doc.as_ref().unwrap().line(1), "  \"a\": 2");
    assert_eq!(m.value.scroll, scroll_before);
}

#[test]
fn lost_connection_keeps_the_screen_and_resumes_an_interrupted_scan() {
    let c = clock();
    let mut m = model(&c);
    let g = scan_gen(&connect(&mut m));
    batch(&mut m, g, &DATA[..3]);
    ev(
        &mut m,
        WorkerEvent::Lost {
            reason: "connection refused".into(),
        },
    );
    ev(
        &mut m,
        WorkerEvent::ScanFailed {
            generation: g,
            error: "broken pipe".into(),
            connection: true,
        },
    );
    assert!(matches!(m.conn, ConnState::Lost { .. }));
    assert_eq!(m.index.total_keys, 3, "the screen keeps what it had");
    let fx = ev(
        &mut m,
        WorkerEvent::Restored(ServerFacts::plain("7.2.4", 7)),
    );
    assert!(scan_gen(&fx) > g, "the interrupted scan starts again");
}

#[test]
fn load_all_fetches_the_whole_value() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    answer_value(&mut m, &c, &[b'x'; 10], 50_000_000);
    let fx = update(&mut m, key('L'));
    let (_, _, max) = load_id(&fx).expect("a full load");
    assert_eq!(max, None);
}

#[test]
fn escape_closes_help_before_quit() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key('?'));
    assert!(m.overlay.is_some());
    assert!(update(&mut m, code(KeyCode::Esc)).is_empty());
    assert!(m.overlay.is_none());
    assert_eq!(update(&mut m, key('q')), vec![Effect::Quit]);
}

#[test]
fn key_releases_are_ignored() {
    let c = clock();
    let mut m = loaded(&c);
    let release = KeyEvent::new_with_kind(
        KeyCode::Char('q'),
        KeyModifiers::NONE,
        KeyEventKind::Release,
    );
    assert!(update(&mut m, Action::Key(release)).is_empty());
}

// ---- frames ----

#[test]
fn frame_connecting() {
    let c = clock();
    let mut m = model(&c);
    ev(
        &mut m,
        WorkerEvent::Connecting {
            attempt: 2,
            error: Some("cannot connect to 127.0.0.1:6390: Connection refused".into()),
        },
    );
    insta::assert_snapshot!("connecting", screen(&m));
}

#[test]
fn frame_empty() {
    let c = clock();
    let mut m = model(&c);
    let g = scan_gen(&connect(&mut m));
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 0,
        },
    );
    insta::assert_snapshot!("empty", screen(&m));
}

#[test]
fn frame_scanning() {
    let c = clock();
    let mut m = model(&c);
    let g = scan_gen(&connect(&mut m));
    batch(&mut m, g, &DATA[..4]);
    c.advance(Duration::from_millis(1200));
    insta::assert_snapshot!("scanning", screen(&m));
}

#[test]
fn frame_loaded() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('j'));
    for k in [
        "trace-a:order",
        "trace-a:user:1:name",
        "trace-a:user:1:profile",
        "trace-a:user:2:name",
    ] {
        meta(&mut m, &format!("{P}{k}"), "string", 12, Ttl::Persistent);
    }
    meta(
        &mut m,
        &full("trace-a", "order"),
        "object",
        1234,
        Ttl::Expires(Duration::from_secs(90)),
    );
    insta::assert_snapshot!("loaded", screen(&m));
}

#[test]
fn frame_value_shown() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    meta(
        &mut m,
        &full("trace-a", "order"),
        "object",
        71,
        Ttl::Expires(Duration::from_secs(3600)),
    );
    answer_value(
        &mut m,
        &c,
        br#"{"id":7,"status":"paid","items":[{"sku":"A1","qty":2}],"note":null,"gift":false}"#,
        80,
    );
    insta::assert_snapshot!("value_shown", screen(&m));
}

#[test]
fn frame_big_value() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    let window = format!("{{\"data\":[{}", "\"xxxxxxxx\",".repeat(WINDOW / 11));
    answer_value(
        &mut m,
        &c,
        &window.as_bytes()[..WINDOW.min(window.len())],
        50 * 1024 * 1024,
    );
    insta::assert_snapshot!("big_value", screen(&m));
}

#[test]
fn frame_non_json_value() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key('j'));
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('j'));
    let raw = b"plain text\nsecond line \xff\xfe end";
    answer_value(&mut m, &c, raw, raw.len() as u64);
    insta::assert_snapshot!("non_json_value", screen(&m));
}

#[test]
fn the_editor_shows_a_value_that_is_not_text_escaped_and_says_so() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key('j'));
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('j'));
    let raw = b"ab\x1b[31mRED\x07\nx\xff\xfey";
    answer_value(&mut m, &c, raw, raw.len() as u64);
    update(&mut m, Action::Resize(80, 24));
    update(&mut m, key('e'));
    let ed = m.editor.as_ref().expect("the editor opens");
    assert_eq!(ed.text(), "ab\\x1b[31mRED\\x07\nx\\xff\\xfey");
    assert!(ed.notice.as_deref().is_some_and(|n| n.contains("not JSON")));
    assert!(!ed.dirty());
    let shown = screen(&m);
    // At 80 columns the footer's hint is a shorter one, not cut mid-word.
    assert!(
        shown.contains("└ Ctrl-s save (only if unchanged in Redis) · Esc leave ─"),
        "{shown}"
    );
    insta::assert_snapshot!("editor_not_text", shown);
    update(&mut m, code(KeyCode::Esc));
    assert!(
        m.editor.is_none(),
        "nothing was changed, so Esc leaves at once"
    );
}

#[test]
fn frame_help() {
    let c = clock();
    let mut m = loaded(&c);
    m.size = (100, 28);
    update(&mut m, key('?'));
    insta::assert_snapshot!("help", screen(&m));
}

#[test]
fn frame_help_80x24_wraps_between_words_and_scrolls_to_its_last_line() {
    let c = clock();
    let mut m = loaded(&c);
    m.size = (80, 24);
    update(&mut m, key('?'));
    let top = screen(&m);
    insta::assert_snapshot!("help_80x24", top);
    // The sort's description went past the edge; it goes on under its own column.
    assert!(top.contains("│                name, size, TTL)"), "{top}");
    assert!(top.contains("1–22 of"), "{top}");
    for _ in 0..200 {
        update(&mut m, code(KeyCode::Down));
    }
    let bottom = screen(&m);
    insta::assert_snapshot!("help_80x24_bottom", bottom);
    assert!(bottom.contains("--config FILE."), "{bottom}");
    let Some(crate::browser::model::Overlay::Help { scroll }) = m.overlay else {
        panic!("the help closed");
    };
    // Scrolled no further than its last line: one key up moves it.
    update(&mut m, code(KeyCode::Up));
    assert!(
        matches!(m.overlay, Some(crate::browser::model::Overlay::Help { scroll: s }) if s + 1 == scroll)
    );
    // Every description is there whole, between the lines it was wrapped into.
    let lines = crate::browser::model::help::lines(&m);
    let joined = lines
        .iter()
        .map(|l| format!("{}{}", l.text.trim(), l.note.unwrap_or("")))
        .collect::<Vec<_>>()
        .join(" ");
    for (_, describe, _) in m.keymap.help_rows(m.settings.iii) {
        assert!(joined.contains(describe), "{describe} in {joined}");
    }
    assert!(lines.iter().all(|l| crate::browser::text::width(&format!(
        "{}{}{}",
        l.keys,
        l.text,
        l.note.unwrap_or("")
    )) <= 77));
}

#[test]
fn frame_disconnected() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    answer_value(&mut m, &c, b"{\"a\":1}", 7);
    ev(
        &mut m,
        WorkerEvent::Lost {
            reason: "no answer within 2s".into(),
        },
    );
    insta::assert_snapshot!("disconnected", screen(&m));
}

#[test]
fn rescan_option_rescans_on_a_timer_and_refresh_zero_is_off() {
    let c = clock();
    let config = motia_state::Config::from_url("redis://127.0.0.1:6390").unwrap();
    let opts = BrowserOptions {
        refresh: Some(Duration::ZERO),
        rescan: Some(Duration::from_secs(10)),
        ..BrowserOptions::default()
    };
    let mut m = initial_model(&config, &opts, Keymap::default(), c.clone());
    let g = scan_gen(&connect(&mut m));
    batch(&mut m, g, DATA);
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 7,
        },
    );
    c.advance(Duration::from_secs(5));
    let fx = update(&mut m, Action::Tick);
    assert!(
        !fx.iter()
            .any(|f| matches!(f, Effect::Worker(WorkerCmd::FetchMeta { .. }))),
        "refresh 0 is off"
    );
    c.advance(Duration::from_secs(5));
    assert!(scan_gen(&update(&mut m, Action::Tick)) > g);
}

#[test]
fn frame_wrapped_value() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    let long = format!("{{\"text\":\"{}\",\"n\":1}}", "lorem ipsum ".repeat(12));
    answer_value(&mut m, &c, long.as_bytes(), long.len() as u64);
    update(&mut m, key('w'));
    insta::assert_snapshot!("wrapped_value", screen(&m));
}

#[test]
fn a_wrapped_long_line_scrolls_by_rows_to_its_end() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    // One line of 40 screens, numbered so that each row shows where it is.
    let words: String = (0..4_000).map(|i| format!("w{i:05} ")).collect();
    let long = format!("{{\"text\":\"{words}END-OF-TEXT\",\"n\":1}}");
    answer_value(&mut m, &c, long.as_bytes(), long.len() as u64);
    update(&mut m, key('l'));
    assert_eq!(m.focus, Pane::Value);
    update(&mut m, key('w'));
    let shown = screen(&m);
    assert!(shown.contains(" line 1 of 4 "), "{shown}");
    assert!(!shown.contains("END-OF-TEXT"), "{shown}");
    // j moves one row: past `{`, then into the long line's second row.
    let top = |m: &Model| {
        let s = screen(m);
        s.lines().nth(1).unwrap_or_default().to_string()
    };
    let first = top(&m);
    update(&mut m, key('j'));
    assert!(
        screen(&m).contains(" line 2 of 4 · row 1 of 738 "),
        "{}",
        screen(&m)
    );
    let row_one = top(&m);
    update(&mut m, key('j'));
    assert_ne!(top(&m), row_one);
    assert!(
        screen(&m).contains(" line 2 of 4 · row 2 of 738 "),
        "{}",
        screen(&m)
    );
    // PageDown and G go on through the line's rows to its end.
    update(&mut m, code(KeyCode::PageDown));
    assert!(m.value.scroll_row > 10, "{}", m.value.scroll_row);
    update(&mut m, key('G'));
    let shown = screen(&m);
    assert!(shown.contains("END-OF-TEXT"), "{shown}");
    assert!(shown.contains("\"n\": 1"), "{shown}");
    // And back up to the first row.
    update(&mut m, key('g'));
    assert_eq!((m.value.scroll, m.value.scroll_row), (0, 0));
    assert_eq!(top(&m), first);
}

// ---- editing and writes (issue 4) ----

use crate::browser::action::{WriteOp, WriteOutcome};
use crate::browser::model::dialog::Dialog;
use crate::browser::model::keys::KeySort;
use crate::browser::model::notifications::ToastKind;

const ORDER: &[u8] = br#"{"id":7,"status":"paid"}"#;

fn ctrl(c: char) -> Action {
    Action::Key(KeyEvent::new_with_kind(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
        KeyEventKind::Press,
    ))
}

fn typed(m: &mut Model, text: &str) -> Vec<Effect> {
    let mut fx = Vec::new();
    for c in text.chars() {
        fx.extend(update(m, key(c)));
    }
    fx
}

/// The Keys pane on trace-a's `order`, its value loaded.
fn on_order(c: &Arc<ManualClock>) -> Model {
    let mut m = loaded(c);
    update(&mut m, code(KeyCode::Enter));
    answer_value(&mut m, c, ORDER, ORDER.len() as u64);
    m
}

fn writes(fx: &[Effect]) -> Vec<(u64, WriteOp)> {
    fx.iter()
        .filter_map(|f| match f {
            Effect::Worker(WorkerCmd::Write { id, op }) => Some((*id, op.clone())),
            _ => None,
        })
        .collect()
}

fn editor_text(m: &Model) -> String {
    m.editor.as_ref().expect("the editor is open").text()
}

fn note_text(m: &Model) -> String {
    m.note.as_ref().map(|n| n.text.clone()).unwrap_or_default()
}

/// Opens the editor on `order`, replaces the text and saves; returns the write.
fn edit_and_save(m: &mut Model, text: &str) -> (u64, WriteOp) {
    update(m, key('e'));
    let ed = m.editor.as_mut().expect("the editor opened");
    ed.set_text(text);
    let w = writes(&update(m, ctrl('s')));
    assert_eq!(w.len(), 1, "one save goes out");
    w[0].clone()
}

#[test]
fn editor_opens_pretty_and_esc_asks_only_when_changed() {
    let c = clock();
    let mut m = on_order(&c);
    update(&mut m, key('e'));
    assert_eq!(
        editor_text(&m),
        "{\n  \"id\": 7,\n  \"status\": \"paid\"\n}"
    );
    update(&mut m, code(KeyCode::Esc));
    assert!(m.editor.is_none(), "unchanged text leaves at once");
    update(&mut m, key('e'));
    typed(&mut m, "x");
    update(&mut m, code(KeyCode::Esc));
    assert!(matches!(m.dialog, Some(Dialog::Discard)));
    update(&mut m, key('n'));
    assert!(m.dialog.is_none());
    assert!(editor_text(&m).starts_with('x'), "the text is kept");
    update(&mut m, code(KeyCode::Esc));
    let fx = update(&mut m, key('y'));
    assert!(m.editor.is_none());
    assert!(writes(&fx).is_empty(), "discarding writes nothing");
}

#[test]
fn invalid_json_is_not_sent_and_names_line_and_column() {
    let c = clock();
    let mut m = on_order(&c);
    update(&mut m, key('e'));
    m.editor
        .as_mut()
        .unwrap()
        .set_text("{\n  \"id\": 7,\n  \"status\": \n}");
    let fx = update(&mut m, ctrl('s'));
    assert!(writes(&fx).is_empty());
    let err = m.editor.as_ref().unwrap().error.clone().unwrap();
    assert!(err.contains("line 4, column 1"), "{err}");
    assert!(editor_text(&m).contains("\"status\""), "the text stays");
}

#[test]
fn save_compares_against_the_loaded_bytes_and_closes_when_written() {
    let c = clock();
    let mut m = on_order(&c);
    let (id, op) = edit_and_save(&mut m, "{\"id\": 8}");
    assert_eq!(
        op,
        WriteOp::Save {
            full_key: full("trace-a", "order"),
            expected: Some(ORDER.to_vec()),
            text: "{\"id\": 8}".into(),
        }
    );
    assert!(m.editor.as_ref().unwrap().saving.is_some());
    assert_eq!(m.toasts[0].kind, ToastKind::Pending);
    let fx = ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op,
            result: Ok(WriteOutcome::Saved),
        },
    );
    assert!(m.editor.is_none());
    assert_eq!(m.toasts[0].kind, ToastKind::Done);
    assert!(load_id(&fx).is_some(), "the value is read again");
    // A successful notification goes away by itself.
    c.advance(crate::browser::model::notifications::TOAST_TIME);
    update(&mut m, Action::Tick);
    assert!(m.toasts.is_empty());
}

#[test]
fn conflict_dialog_show_overwrite_and_cancel() {
    let c = clock();
    let mut m = on_order(&c);
    let theirs = br#"{"id":7,"status":"shipped"}"#.to_vec();
    let (id, op) = edit_and_save(&mut m, "{\"mine\": 1}");
    let conflict = |m: &mut Model, id, op| {
        ev(
            m,
            WorkerEvent::Written {
                id,
                op,
                result: Ok(WriteOutcome::Conflict(Some(theirs.clone()))),
            },
        )
    };
    conflict(&mut m, id, op);
    assert!(matches!(m.dialog, Some(Dialog::Conflict { .. })));
    assert!(m.editor.is_some(), "the edit is kept");
    // Cancel: back to the text, nothing sent.
    let fx = update(&mut m, key('c'));
    assert!(m.dialog.is_none() && writes(&fx).is_empty());
    assert_eq!(editor_text(&m), "{\"mine\": 1}");
    // Show: their value, then back to the text, which now applies to their value.
    let (id, op) = writes(&update(&mut m, ctrl('s')))[0].clone();
    conflict(&mut m, id, op);
    update(&mut m, key('s'));
    match &m.dialog {
        Some(Dialog::Current { doc: Some(d), .. }) => {
            assert_eq!(d.line(2), "  \"status\": \"shipped\"")
        }
        _ => panic!("the current value is shown"),
    }
    update(&mut m, code(KeyCode::Esc));
    assert!(m.dialog.is_none());
    assert_eq!(editor_text(&m), "{\"mine\": 1}");
    assert_eq!(m.editor.as_ref().unwrap().expected, Some(theirs.clone()));
    // Overwrite: a compare-and-set against their bytes.
    let (id, op) = writes(&update(&mut m, ctrl('s')))[0].clone();
    conflict(&mut m, id, op);
    let w = writes(&update(&mut m, key('o')));
    assert!(matches!(&w[0].1, WriteOp::Save { expected: Some(e), .. } if *e == theirs));
}

#[test]
fn a_truncated_value_cannot_be_edited_until_loaded() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, code(KeyCode::Enter));
    let window = vec![b' '; WINDOW];
    answer_value(&mut m, &c, &window, 2 * WINDOW as u64);
    update(&mut m, key('e'));
    assert!(m.editor.is_none());
    let n = note_text(&m);
    assert!(
        n.contains("cannot be saved until loaded in full") && n.contains("press L"),
        "{n}"
    );
}

#[test]
fn read_only_refuses_every_write_before_sending() {
    let c = clock();
    let config = motia_state::Config::from_url("redis://127.0.0.1:6390").unwrap();
    let mut config = config;
    config.read_only = true;
    let mut m = initial_model(
        &config,
        &BrowserOptions::default(),
        Keymap::default(),
        c.clone(),
    );
    update(&mut m, Action::Resize(100, 20));
    let g = scan_gen(&connect(&mut m));
    batch(&mut m, g, DATA);
    update(&mut m, code(KeyCode::Enter));
    answer_value(&mut m, &c, ORDER, ORDER.len() as u64);
    for k in ['e', 'E', 'd', 't', 'n', 'D'] {
        let fx = update(&mut m, key(k));
        assert!(writes(&fx).is_empty(), "{k}");
        assert!(m.editor.is_none() && m.dialog.is_none(), "{k}");
        assert!(
            note_text(&m).starts_with("read-only mode"),
            "{k}: {}",
            note_text(&m)
        );
    }
    update(&mut m, key(':'));
    let fx = typed(&mut m, "ttl 10m");
    assert!(writes(&fx).is_empty());
    let fx = update(&mut m, code(KeyCode::Enter));
    assert!(writes(&fx).is_empty());
    assert!(note_text(&m).contains("refused"));
    // Copying is not a write.
    let fx = update(&mut m, key('y'));
    assert!(
        fx.iter()
            .any(|f| matches!(f, Effect::Copy(t) if t.as_bytes() == ORDER))
    );
}

#[test]
fn a_bad_duration_changes_nothing() {
    let c = clock();
    let mut m = on_order(&c);
    update(&mut m, key('t'));
    assert!(matches!(m.dialog, Some(Dialog::Prompt { .. })));
    typed(&mut m, "soon");
    let fx = update(&mut m, code(KeyCode::Enter));
    assert!(writes(&fx).is_empty());
    let n = note_text(&m);
    assert!(
        n.contains("invalid duration") && n.contains("nothing was changed"),
        "{n}"
    );
    assert!(n.contains("(units: ms, s, m, h, d, w, y)"), "{n}");
    // The prompt stays open with the text, so the next keys are not taken as commands.
    assert!(matches!(&m.dialog, Some(Dialog::Prompt { input, .. }) if input == "soon"));
    update(&mut m, code(KeyCode::Esc));
    assert!(m.dialog.is_none());
    update(&mut m, key('t'));
    typed(&mut m, "10m");
    let w = writes(&update(&mut m, code(KeyCode::Enter)));
    assert_eq!(
        w[0].1,
        WriteOp::Expire {
            full_keys: vec![full("trace-a", "order")],
            expiry: motia_state::Expiry::After(Duration::from_secs(600)),
        }
    );
}

#[test]
fn ttl_on_a_trace_confirms_with_the_key_count() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key('t'));
    typed(&mut m, "persist");
    let fx = update(&mut m, code(KeyCode::Enter));
    assert!(writes(&fx).is_empty(), "nothing before the confirmation");
    match &m.dialog {
        Some(Dialog::Confirm { text, .. }) => {
            assert!(
                text.contains("trace-a") && text.contains("4 keys"),
                "{text}"
            )
        }
        _ => panic!("a confirmation"),
    }
    let w = writes(&update(&mut m, key('y')));
    assert!(
        matches!(&w[0].1, WriteOp::Expire { full_keys, expiry: motia_state::Expiry::Persist } if full_keys.len() == 4)
    );
}

#[test]
fn creating_an_existing_key_is_refused() {
    let c = clock();
    let mut m = on_order(&c);
    update(&mut m, key('n'));
    typed(&mut m, "order");
    update(&mut m, code(KeyCode::Enter));
    assert!(m.editor.is_none());
    assert!(
        note_text(&m).contains("trace-a:order exists already"),
        "{}",
        note_text(&m)
    );
    // A key the index does not know yet but Redis has: the create-only save is refused.
    update(&mut m, key('n'));
    typed(&mut m, "fresh");
    update(&mut m, code(KeyCode::Enter));
    assert_eq!(editor_text(&m), "{}");
    let (id, op) = writes(&update(&mut m, ctrl('s')))[0].clone();
    assert!(matches!(&op, WriteOp::Save { expected: None, .. }));
    ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op,
            result: Ok(WriteOutcome::Conflict(Some(b"1".to_vec()))),
        },
    );
    let err = m.editor.as_ref().unwrap().error.clone().unwrap();
    assert!(err.contains("exists already"), "{err}");
    assert_eq!(m.toasts[0].kind, ToastKind::Failed);
    assert!(m.toasts[0].text.contains("x dismisses"));
    update(&mut m, code(KeyCode::Esc));
    update(&mut m, key('y'));
    update(&mut m, key('x'));
    assert!(m.toasts.is_empty(), "x dismisses failures");
}

#[test]
fn new_trace_then_key_then_saved_appears_without_rescan() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, key('n'));
    typed(&mut m, "bad:id");
    update(&mut m, code(KeyCode::Enter));
    assert!(note_text(&m).contains("':'"), "{}", note_text(&m));
    // The prompt keeps the text for fixing: clear it and type a good id.
    for _ in 0.."bad:id".len() {
        update(&mut m, code(KeyCode::Backspace));
    }
    typed(&mut m, "trace-new");
    update(&mut m, code(KeyCode::Enter));
    typed(&mut m, "first");
    update(&mut m, code(KeyCode::Enter));
    let (id, op) = writes(&update(&mut m, ctrl('s')))[0].clone();
    ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op,
            result: Ok(WriteOutcome::Saved),
        },
    );
    assert_eq!(m.index.count("trace-new"), 1);
    assert_eq!(m.keys.trace.as_deref(), Some("trace-new"));
}

#[test]
fn delete_confirmation_names_trace_and_key() {
    let c = clock();
    let mut m = on_order(&c);
    update(&mut m, key('d'));
    match &m.dialog {
        Some(Dialog::Confirm { text, .. }) => {
            assert_eq!(text, "Delete key order of trace trace-a?")
        }
        _ => panic!("a confirmation"),
    }
    let fx = update(&mut m, key('n'));
    assert!(writes(&fx).is_empty());
    assert_eq!(m.index.count("trace-a"), 4);
    update(&mut m, key('d'));
    let (id, op) = writes(&update(&mut m, key('y')))[0].clone();
    assert_eq!(
        op,
        WriteOp::Unlink {
            full_keys: vec![full("trace-a", "order")]
        }
    );
    ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op,
            result: Ok(WriteOutcome::Unlinked(1)),
        },
    );
    assert_eq!(m.index.count("trace-a"), 3, "removed without a rescan");
    assert!(!m.scan.running);
    // D on the Traces pane clears the whole trace after naming it and its key count.
    update(&mut m, key('h'));
    update(&mut m, key('D'));
    match &m.dialog {
        Some(Dialog::Confirm { text, .. }) => {
            assert_eq!(text, "Clear trace trace-a: delete all 3 keys?")
        }
        _ => panic!("a confirmation"),
    }
}

#[test]
fn command_line_completes_and_runs() {
    let c = clock();
    let mut m = on_order(&c);
    update(&mut m, key(':'));
    typed(&mut m, "pe");
    update(&mut m, code(KeyCode::Tab));
    match &m.dialog {
        Some(Dialog::Prompt { input, .. }) => assert_eq!(input, "persist "),
        _ => panic!("the command line"),
    }
    let w = writes(&update(&mut m, code(KeyCode::Enter)));
    assert!(matches!(
        &w[0].1,
        WriteOp::Expire {
            expiry: motia_state::Expiry::Persist,
            ..
        }
    ));
    update(&mut m, key(':'));
    typed(&mut m, "frob");
    update(&mut m, code(KeyCode::Enter));
    assert!(note_text(&m).contains("unknown command"));
    // The command line stays open with the text; Esc leaves it.
    assert!(matches!(&m.dialog, Some(Dialog::Prompt { input, .. }) if input == "frob"));
    update(&mut m, code(KeyCode::Esc));
    // :where asks the worker for the trace's matching keys; the model keeps that set.
    update(&mut m, key(':'));
    typed(&mut m, "where status eq paid");
    let fx = update(&mut m, code(KeyCode::Enter));
    let id = fx
        .iter()
        .find_map(|f| match f {
            Effect::Worker(WorkerCmd::Where { id, full_keys, .. }) => {
                assert_eq!(full_keys.len(), 4);
                Some(*id)
            }
            _ => None,
        })
        .expect("a where request");
    ev(
        &mut m,
        WorkerEvent::WhereResult {
            id,
            result: Ok(vec![full("trace-a", "order")]),
        },
    );
    assert_eq!(m.keys.rows.len(), 1);
    update(&mut m, key(':'));
    typed(&mut m, "where");
    update(&mut m, code(KeyCode::Enter));
    assert!(m.keys.rows.len() > 1, ":where alone clears");
}

#[test]
fn keys_sort_by_ttl_puts_the_soonest_expiry_first() {
    let c = clock();
    let mut m = on_order(&c);
    meta(
        &mut m,
        &full("trace-a", "order"),
        "object",
        10,
        Ttl::Persistent,
    );
    meta(
        &mut m,
        &full("trace-a", "user:1:name"),
        "string",
        5,
        Ttl::Expires(Duration::from_secs(500)),
    );
    meta(
        &mut m,
        &full("trace-a", "user:1:profile"),
        "object",
        50,
        Ttl::Expires(Duration::from_secs(20)),
    );
    meta(
        &mut m,
        &full("trace-a", "user:2:name"),
        "string",
        7,
        Ttl::Persistent,
    );
    update(&mut m, key('s'));
    assert_eq!(m.keys.sort, KeySort::Size);
    assert_eq!(m.keys.rows[0].label, "user:1:profile");
    update(&mut m, key('s'));
    assert_eq!(m.keys.sort, KeySort::Ttl);
    let labels: Vec<&str> = m.keys.rows.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        ["user:1:profile", "user:1:name", "order", "user:2:name"]
    );
}

// ---- frames ----

#[test]
fn frame_editor() {
    let c = clock();
    let mut m = on_order(&c);
    update(&mut m, key('e'));
    typed(&mut m, "x");
    update(&mut m, ctrl('s'));
    insta::assert_snapshot!("editor_invalid", screen(&m));
}

#[test]
fn frame_conflict() {
    let c = clock();
    let mut m = on_order(&c);
    let (id, op) = edit_and_save(&mut m, "{\"mine\": 1}");
    ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op,
            result: Ok(WriteOutcome::Conflict(Some(b"{\"theirs\":2}".to_vec()))),
        },
    );
    insta::assert_snapshot!("conflict", screen(&m));
}

#[test]
fn frame_confirm_delete() {
    let c = clock();
    let mut m = on_order(&c);
    update(&mut m, key('d'));
    insta::assert_snapshot!("confirm_delete", screen(&m));
}

#[test]
fn frame_command_line() {
    let c = clock();
    let mut m = on_order(&c);
    update(&mut m, key(':'));
    typed(&mut m, "e");
    update(&mut m, code(KeyCode::Tab));
    insta::assert_snapshot!("command_line", screen(&m));
}

#[test]
fn frame_notifications() {
    let c = clock();
    let mut m = on_order(&c);
    let (id, op) = edit_and_save(&mut m, "{\"id\": 8}");
    ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op,
            result: Ok(WriteOutcome::Saved),
        },
    );
    update(&mut m, key('d'));
    let (id, op) = writes(&update(&mut m, key('y')))[0].clone();
    ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op,
            result: Err("connection refused".into()),
        },
    );
    insta::assert_snapshot!("notifications", screen(&m));
    // Wrapped as drawn: 25 two-cell emoji are more than a line, and every one is shown.
    update(&mut m, key('x'));
    let hearts = "❤️".repeat(25);
    update(&mut m, key('d'));
    let (id, op) = writes(&update(&mut m, key('y')))[0].clone();
    let error = format!("refused {hearts} 注文 end");
    ev(
        &mut m,
        WorkerEvent::Written {
            id,
            op,
            result: Err(error),
        },
    );
    let shown = screen(&m);
    assert_eq!(shown.matches('❤').count(), 25, "{shown}");
    assert!(shown.contains("注文 end"), "{shown}");
}

// ---- Motia's trace records: the enriched Traces pane, the timeline, a key's history ----

mod trace_records {
    use super::*;
    use motia_state::adapter::traces::{DeadLetter, GroupEntry, Trace, TraceGroup, TraceRecords};

    use crate::browser::action::{StepsSummary, TraceRead};
    use crate::browser::model::traces::TraceSort;

    /// 2026-01-02T03:04:05Z, the test clock's wall time, in ms.
    const NOW: i64 = 1_767_323_045_000;

    fn group(id: &str, name: &str, start: i64) -> GroupEntry {
        let json = format!(r#"{{"id":"{id}","name":"{name}","startTime":{start}}}"#);
        GroupEntry {
            trace_id: id.into(),
            trace_id_bytes: id.as_bytes().to_vec(),
            group: TraceGroup::parse(id, json.as_bytes())
                .map_err(|r| motia_state::adapter::traces::Unreadable::new("g", id, r)),
        }
    }

    fn summary(status: FlowStatus, steps: usize) -> StepsSummary {
        StepsSummary {
            status: Some(status),
            steps,
            exists: true,
            start_time: None,
            first_step: None,
            unreadable: Vec::new(),
            retries: 0,
        }
    }

    use motia_state::adapter::traces::FlowStatus;

    /// Loaded state plus trace records: trace-a failed 2 min ago, trace-b completed 1 h ago,
    /// trace-z (records only, no state) running since 10 s.
    pub(super) fn with_records(clock: &Arc<ManualClock>, width: u16) -> Model {
        let mut m = loaded(clock);
        update(&mut m, Action::Resize(width, 20));
        let g = m.scan.generation;
        let fx = ev(
            &mut m,
            WorkerEvent::TraceGroups {
                generation: g,
                entries: vec![
                    group("trace-a", "CreateOrder", NOW - 120_000),
                    group("trace-b", "SyncCatalog", NOW - 3_600_000),
                    group("trace-z", "Cleanup", NOW - 10_000),
                ],
                done: true,
                error: None,
            },
        );
        let asked: Vec<String> = fx
            .iter()
            .flat_map(|f| match f {
                Effect::Worker(WorkerCmd::TraceSummaries { ids }) => ids.clone(),
                _ => Vec::new(),
            })
            .collect();
        assert!(asked.contains(&"trace-a".to_string()), "{asked:?}");
        ev(
            &mut m,
            WorkerEvent::TraceSummaries {
                rows: vec![
                    ("trace-a".into(), summary(FlowStatus::Failed, 5)),
                    ("trace-b".into(), summary(FlowStatus::Completed, 1)),
                    ("trace-z".into(), summary(FlowStatus::Running, 2)),
                ],
                error: None,
            },
        );
        update(&mut m, Action::Tick);
        m
    }

    fn step(id: &str, name: &str, entry: &str, status: &str, start: i64, extra: &str) -> Trace {
        let json = format!(
            r#"{{"id":"{id}","name":"{name}","parentTraceId":"trace-a","status":"{status}","startTime":{start},"entryPoint":{{"type":"{entry}","stepName":"{name}"}}{extra}}}"#
        );
        Trace::parse(id, json.as_bytes()).unwrap()
    }

    fn records() -> TraceRead {
        let t0 = NOW - 120_000;
        let steps = vec![
            step(
                "s1",
                "CreateOrder",
                "api",
                "completed",
                t0,
                &format!(
                    r#","events":[{{"type":"log","timestamp":{},"level":"info","message":"Creating order"}},{{"type":"state","timestamp":{},"operation":"set","data":{{"traceId":"trace-a","key":"order","value":{{"id":7,"status":"pending"}}}}}},{{"type":"state","timestamp":{},"operation":"set","data":{{"traceId":"trace-a","key":"gone","value":1}}}}],"endTime":{}"#,
                    t0 + 5,
                    t0 + 10,
                    t0 + 12,
                    t0 + 40
                ),
            ),
            step(
                "s2",
                "ProcessPayment",
                "event",
                "failed",
                t0 + 100,
                &format!(
                    r#","events":[{{"type":"state","timestamp":{},"operation":"set","data":{{"traceId":"trace-a","key":"order","value":{{"id":7,"status":"paid"}}}}}}],"endTime":{},"error":{{"message":"Card declined","code":null,"stack":"    at handler (steps/pay.step.ts:21:11)"}}"#,
                    t0 + 110,
                    t0 + 150
                ),
            ),
            step(
                "s3",
                "ProcessPayment",
                "event",
                "failed",
                t0 + 2100,
                &format!(
                    r#","events":[],"endTime":{},"error":{{"message":"Card declined","code":null,"stack":"    at handler (steps/pay.step.ts:21:11)"}}"#,
                    t0 + 2150
                ),
            ),
        ];
        TraceRead {
            records: Arc::new(TraceRecords {
                trace_id: "trace-a".into(),
                steps,
                ..Default::default()
            }),
            history: Vec::new(),
            dead_letters: vec![DeadLetter {
                key: "motia:events:payment.ProcessPayment.dlq:dlq-1".into(),
                trace_id: "trace-a".into(),
                topic: "payment".into(),
                step: "ProcessPayment".into(),
                reason: "Card declined".into(),
                timestamp: Some(t0 + 2200),
                attempts: Some(2),
            }],
            current: Some(Some(br#"{"id":7,"status":"shipped"}"#.to_vec())),
            search: None,
        }
    }

    /// A read for the history of trace-a's `order`: its events, as the worker keeps them.
    fn for_history(read: TraceRead) -> TraceRead {
        let records = Arc::try_unwrap(read.records).unwrap_or_else(|r| (*r).clone());
        let history = crate::browser::worker::traces::history_of(records, "trace-a", "order");
        TraceRead {
            records: Arc::new(TraceRecords::default()),
            history,
            ..read
        }
    }

    fn records_request(fx: &[Effect]) -> (u64, Option<String>) {
        fx.iter()
            .find_map(|f| match f {
                Effect::Worker(WorkerCmd::TraceRecords { id, full_key, .. }) => {
                    Some((*id, full_key.clone()))
                }
                _ => None,
            })
            .expect("a trace records read")
    }

    #[test]
    fn records_sort_newest_first_and_list_flows_without_state() {
        let c = clock();
        let m = with_records(&c, 100);
        assert_eq!(m.traces.sort, TraceSort::Newest);
        let view: Vec<&str> = m.traces.view.iter().map(|t| &**t).collect();
        assert_eq!(view, ["trace-z", "trace-a", "trace-b", "trace-c"]);
        assert_eq!(m.traces.selected.as_deref(), Some("trace-z"));
    }

    #[test]
    fn status_filter_sort_and_flow_name_filter() {
        let c = clock();
        let mut m = with_records(&c, 100);
        let mut fx = Vec::new();
        crate::browser::update::traces::set_status_filter(
            &mut m,
            Some(FlowStatus::Failed),
            &mut fx,
        );
        let view: Vec<&str> = m.traces.view.iter().map(|t| &**t).collect();
        assert_eq!(view, ["trace-a"]);
        crate::browser::update::traces::set_status_filter(&mut m, None, &mut fx);
        // s cycles newest -> id -> count -> status.
        for _ in 0..3 {
            update(&mut m, key('s'));
        }
        assert_eq!(m.traces.sort, TraceSort::Status);
        let view: Vec<&str> = m.traces.view.iter().map(|t| &**t).collect();
        assert_eq!(view, ["trace-a", "trace-z", "trace-b", "trace-c"]);
        // `/` matches the flow name too.
        update(&mut m, key('/'));
        for ch in "synccat".chars() {
            update(&mut m, key(ch));
        }
        let view: Vec<&str> = m.traces.view.iter().map(|t| &**t).collect();
        assert_eq!(view, ["trace-b"]);
    }

    fn summaries_asked(fx: &[Effect]) -> Vec<String> {
        fx.iter()
            .flat_map(|f| match f {
                Effect::Worker(WorkerCmd::TraceSummaries { ids }) => ids.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    #[test]
    fn written_trace_records_reread_that_flow_and_its_open_timeline_at_once() {
        let c = clock();
        let mut m = timeline_open(&c);
        let fx = update(
            &mut m,
            Action::Worker(WorkerEvent::Live(
                crate::browser::action::LiveEvent::Records(vec![
                    "trace-a".into(),
                    "trace-new".into(),
                ]),
            )),
        );
        // A flow not listed yet is new: listed at once, its steps read although off screen.
        let mut asked = summaries_asked(&fx);
        asked.sort();
        assert_eq!(asked, ["trace-a", "trace-new"]);
        assert!(m.traces.view.iter().any(|t| &**t == "trace-new"));
        let (_, full_key) = records_request(&fx);
        assert_eq!(full_key, None, "the open timeline of trace-a is read again");
        // Asked already: a second write before the answer asks nothing more.
        let fx = update(
            &mut m,
            Action::Worker(WorkerEvent::Live(
                crate::browser::action::LiveEvent::Records(vec!["trace-a".into()]),
            )),
        );
        assert!(summaries_asked(&fx).is_empty() && fx.is_empty(), "{fx:?}");
        // Another flow's records leave the timeline alone.
        ev(
            &mut m,
            WorkerEvent::TraceSummaries {
                rows: vec![("trace-a".into(), summary(FlowStatus::Completed, 6))],
                error: None,
            },
        );
        let fx = update(
            &mut m,
            Action::Worker(WorkerEvent::Live(
                crate::browser::action::LiveEvent::Records(vec!["trace-b".into()]),
            )),
        );
        assert_eq!(summaries_asked(&fx), ["trace-b"]);
        assert_eq!(fx.len(), 1, "{fx:?}");
    }

    #[test]
    fn frame_traces_with_records() {
        let c = clock();
        let m = with_records(&c, 120);
        insta::assert_snapshot!("traces_records_wide", screen(&m));
        let m = with_records(&c, 100);
        insta::assert_snapshot!("traces_records_narrow", screen(&m));
        // At 80 columns the legend and then the sort give way rather than being cut mid-word.
        let mut m = with_records(&c, 80);
        update(&mut m, Action::Resize(80, 24));
        let top = screen(&m).lines().next().unwrap_or_default().to_string();
        assert!(top.contains("▶Traces (4) newest ─"), "{top}");
        assert!(!top.contains("steps"), "{top}");
        // The keys pane's message wraps between words instead of being cut.
        let shown = screen(&m);
        assert!(shown.contains("│no state: this flow has  │"), "{shown}");
        insta::assert_snapshot!("traces_records_80x24", shown);
    }

    /// Two flows whose UUIDv7 ids share their first 24 characters, alike in all else.
    const UUIDS: [&str; 2] = [
        "01937f3c-5a2b-7c11-8f00-6b1e2d3c4a01",
        "01937f3c-5a2b-7c11-8f00-9e8d7c6b5a02",
    ];

    fn with_uuid_flows(c: &Arc<ManualClock>, width: u16) -> Model {
        let mut m = loaded(c);
        update(&mut m, Action::Resize(width, 12));
        let g = m.scan.generation;
        let entries = UUIDS
            .iter()
            .map(|id| group(id, "CheckoutFlow", NOW - 60_000))
            .collect();
        ev(
            &mut m,
            WorkerEvent::TraceGroups {
                generation: g,
                entries,
                done: true,
                error: None,
            },
        );
        let rows = UUIDS
            .iter()
            .map(|id| (id.to_string(), summary(FlowStatus::Completed, 3)))
            .collect();
        ev(&mut m, WorkerEvent::TraceSummaries { rows, error: None });
        update(&mut m, Action::Tick);
        m
    }

    #[test]
    fn long_trace_ids_take_their_width_before_the_flow_name() {
        let c = clock();
        for width in 80..=200u16 {
            let m = with_uuid_flows(&c, width);
            let shown = screen(&m);
            // Each flow's row in the Traces pane (up to the pane's right border).
            let rows: Vec<String> = shown
                .lines()
                .map(|l| l.trim_start_matches('"'))
                .filter(|l| l.starts_with("│01937f3c"))
                .map(|l| l.chars().skip(1).take_while(|&ch| ch != '│').collect())
                .collect();
            assert_eq!(rows.len(), 2, "{width}: {shown}");
            assert_ne!(
                rows[0], rows[1],
                "{width}: the two flows look alike\n{shown}"
            );
            // A pane with room for the whole id shows it whole, before any of the flow name.
            let inner = rows[0].chars().count();
            if inner >= 36 + 10 + 6 {
                for (row, id) in rows.iter().zip(UUIDS) {
                    assert!(row.contains(id), "{width}: {row}");
                }
            }
            if width >= 160 {
                assert!(rows[0].contains("Check"), "{width}: {}", rows[0]);
            }
            if [80, 120, 200].contains(&width) {
                insta::assert_snapshot!(format!("uuid_traces_{width}"), shown);
            }
        }
    }

    fn timeline_open(c: &Arc<ManualClock>) -> Model {
        let mut m = with_records(c, 120);
        update(&mut m, key('j'));
        assert_eq!(m.traces.selected.as_deref(), Some("trace-a"));
        let fx = update(&mut m, key('T'));
        let (id, full_key) = records_request(&fx);
        assert_eq!(full_key, None);
        ev(
            &mut m,
            WorkerEvent::TraceRecords {
                id,
                result: Ok(records()),
            },
        );
        m
    }

    #[test]
    fn frame_timeline_with_a_failed_retried_step() {
        let c = clock();
        let mut m = timeline_open(&c);
        let rows = &m.timeline.as_ref().unwrap().timeline.rows;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].attempts.len(), 2);
        // The failed step: its error with the stack in the Value pane.
        update(&mut m, key('j'));
        insta::assert_snapshot!("timeline_failed_step", screen(&m));
        // At 80 columns the titles leave out what does not fit whole instead of cutting it.
        update(&mut m, Action::Resize(80, 24));
        let shown = screen(&m);
        let top = shown.lines().next().unwrap_or_default();
        assert!(top.contains("▶Timeline trace-a failed ─"), "{top}");
        insta::assert_snapshot!("timeline_80x24", shown);
        update(&mut m, Action::Resize(120, 20));
        // Enter lists the attempts, each reachable.
        update(&mut m, code(KeyCode::Enter));
        assert_eq!(m.timeline.as_ref().unwrap().lines.len(), 4);
    }

    /// The hint bar (the last line of the screen).
    fn hint_bar(m: &mut Model) -> String {
        m.note = None;
        screen(m).lines().last().unwrap_or_default().to_string()
    }

    #[test]
    fn keys_in_the_timeline_and_history_never_act_on_the_hidden_key() {
        let c = clock();
        let mut m = timeline_open(&c);
        assert_eq!(m.focus, Pane::Keys);
        assert!(
            m.keys.trace.is_some() && m.cursor_key().is_some(),
            "a key is hidden behind"
        );
        for (pane, place) in [(Pane::Keys, "timeline"), (Pane::Value, "timeline")] {
            m.focus = pane;
            let hints = hint_bar(&mut m);
            for hidden in ["edit", "ttl", " del", "copy", "filter", "collapse"] {
                assert!(!hints.contains(hidden), "{place}: {hints}");
            }
            assert!(hints.contains("Esc close"), "{hints}");
            for k in ['e', 't', 'd', 'E', 'y', 'Y', 'H', '-'] {
                update(&mut m, key(k));
                assert!(
                    m.editor.is_none() && m.dialog.is_none(),
                    "{k} in the {place}"
                );
                assert!(m.timeline.is_some(), "{k} closed the timeline");
                let n = note_text(&m);
                assert!(n.contains("does nothing in the timeline"), "{k}: {n}");
            }
            // The command line's writes follow the same rule.
            update(&mut m, key(':'));
            typed(&mut m, "ttl 1h");
            update(&mut m, code(KeyCode::Enter));
            assert!(m.dialog.is_none(), "a dialog opened");
            assert!(note_text(&m).contains("does nothing in the timeline"));
        }
        // The Traces pane beside the timeline keeps its keys: its selection is on screen.
        m.focus = Pane::Traces;
        assert!(hint_bar(&mut m).contains("t ttl"), "{}", hint_bar(&mut m));

        // The history: `=` and Enter work, writing keys do nothing.
        update(&mut m, key('T'));
        assert!(m.timeline.is_none());
        m.focus = Pane::Keys;
        let fx = update(&mut m, key('H'));
        let (id, _) = records_request(&fx);
        ev(
            &mut m,
            WorkerEvent::TraceRecords {
                id,
                result: Ok(for_history(records())),
            },
        );
        assert!(m.history.is_some());
        let hints = hint_bar(&mut m);
        assert!(
            hints.contains("= diff") && !hints.contains("edit"),
            "{hints}"
        );
        for k in ['e', 't', 'd', 'n', 'y'] {
            update(&mut m, key(k));
            assert!(
                m.editor.is_none() && m.dialog.is_none(),
                "{k} in the history"
            );
            assert!(note_text(&m).contains("does nothing in the history"));
        }
        update(&mut m, key('='));
        assert_ne!(
            m.history.as_ref().unwrap().diff,
            crate::browser::model::history::DiffMode::Off
        );
    }

    /// Does what the worker does with the diffs `fx` asks for: builds each and answers.
    fn build_diffs(m: &mut Model, fx: Vec<Effect>) -> Vec<Effect> {
        let mut out = Vec::new();
        for f in fx {
            match f {
                Effect::Worker(WorkerCmd::HistoryDiff { id, old, new }) => {
                    let diff = crate::browser::worker::history_diff::build(&old, &new);
                    out.extend(ev(m, WorkerEvent::HistoryDiff { id, diff: Ok(diff) }));
                }
                other => out.push(other),
            }
        }
        out
    }

    /// `=` with the diff built as the worker would.
    fn press_diff(m: &mut Model) {
        let fx = update(m, key('='));
        build_diffs(m, fx);
    }

    /// Two sets of `order` in trace-a, 300 fields each, differing in fields 20, 150 and 290.
    fn big_versions() -> TraceRead {
        let t0 = NOW - 120_000;
        let value = |changed: bool| {
            let fields: Vec<String> = (0..300)
                .map(|i| {
                    let v = if changed && [20, 150, 290].contains(&i) {
                        1
                    } else {
                        0
                    };
                    format!(r#""f{i}":{v}"#)
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        };
        let set = |id: &str, at: i64, changed: bool| {
            step(
                id,
                "Update",
                "event",
                "completed",
                at,
                &format!(
                    r#","events":[{{"type":"state","timestamp":{},"operation":"set","data":{{"traceId":"trace-a","key":"order","value":{}}}}}],"endTime":{}"#,
                    at + 1,
                    value(changed),
                    at + 2
                ),
            )
        };
        TraceRead {
            records: Arc::new(TraceRecords {
                trace_id: "trace-a".into(),
                steps: vec![set("s1", t0, false), set("s2", t0 + 100, true)],
                ..Default::default()
            }),
            history: Vec::new(),
            dead_letters: Vec::new(),
            current: Some(Some(value(true).into_bytes())),
            search: None,
        }
    }

    #[test]
    fn a_history_diff_is_built_by_the_worker_and_a_stale_one_is_dropped() {
        use crate::browser::model::history::Detail;
        let c = clock();
        let mut m = with_records(&c, 120);
        update(&mut m, key('j'));
        update(&mut m, code(KeyCode::Enter));
        let fx = update(&mut m, key('H'));
        let (id, _) = records_request(&fx);
        ev(
            &mut m,
            WorkerEvent::TraceRecords {
                id,
                result: Ok(for_history(big_versions())),
            },
        );
        let asked = |fx: &[Effect]| {
            fx.iter()
                .find_map(|f| match f {
                    Effect::Worker(WorkerCmd::HistoryDiff { id, old, new }) => {
                        Some((*id, old.clone(), new.clone()))
                    }
                    _ => None,
                })
                .expect("a diff asked of the worker")
        };
        // `=`: the worker is asked, the pane says so meanwhile.
        let (first, old, new) = asked(&update(&mut m, key('=')));
        assert!(matches!(
            m.history.as_ref().unwrap().detail,
            Some(Detail::Building)
        ));
        assert!(screen(&m).contains("building the diff…"));
        // `=` again (against the value now) before the first answer: that answer is stale.
        let (second, old_now, new_now) = asked(&update(&mut m, key('=')));
        assert_ne!(first, second);
        let stale = crate::browser::worker::history_diff::build(&old, &new);
        ev(
            &mut m,
            WorkerEvent::HistoryDiff {
                id: first,
                diff: Ok(stale),
            },
        );
        assert!(matches!(
            m.history.as_ref().unwrap().detail,
            Some(Detail::Building)
        ));
        let diff = crate::browser::worker::history_diff::build(&old_now, &new_now);
        ev(
            &mut m,
            WorkerEvent::HistoryDiff {
                id: second,
                diff: Ok(diff),
            },
        );
        match &m.history.as_ref().unwrap().detail {
            // The newest version is the value now.
            Some(Detail::Diff { added, removed, .. }) => assert_eq!((*added, *removed), (0, 0)),
            other => panic!("{other:?}"),
        }
        assert!(screen(&m).contains("this version → the value now: +0 -0"));
    }

    #[test]
    fn brackets_jump_between_the_changes_of_a_history_diff() {
        let c = clock();
        let mut m = with_records(&c, 120);
        update(&mut m, key('j'));
        update(&mut m, code(KeyCode::Enter));
        let fx = update(&mut m, key('H'));
        let (id, _) = records_request(&fx);
        ev(
            &mut m,
            WorkerEvent::TraceRecords {
                id,
                result: Ok(for_history(big_versions())),
            },
        );
        // Without a diff, ] says what it is for.
        update(&mut m, key(']'));
        assert!(note_text(&m).contains("shows a diff"), "{}", note_text(&m));
        press_diff(&mut m);
        let scroll = |m: &Model| m.history.as_ref().unwrap().detail_scroll;
        let text_at = |m: &Model| {
            let v = m.history.as_ref().unwrap();
            match &v.detail {
                Some(crate::browser::model::history::Detail::Diff { lines, .. }) => lines
                    .line(v.detail_scroll)
                    .map(|l| l.1.to_string())
                    .unwrap_or_default(),
                other => panic!("{other:?}"),
            }
        };
        let mut seen = Vec::new();
        for _ in 0..3 {
            update(&mut m, key(']'));
            seen.push(text_at(&m));
        }
        assert_eq!(
            seen,
            [r#"  "f20": 0,"#, r#"  "f150": 0,"#, r#"  "f290": 0,"#]
        );
        // Shown at the top of the pane.
        let shown = screen(&m);
        assert!(shown.contains(r#"-   "f290": 0,"#), "{shown}");
        let last = scroll(&m);
        update(&mut m, key(']'));
        assert_eq!(scroll(&m), last);
        assert_eq!(note_text(&m), "no change after this one");
        update(&mut m, key('['));
        assert_eq!(text_at(&m), r#"  "f150": 0,"#);
        update(&mut m, key('['));
        update(&mut m, key('['));
        assert_eq!(text_at(&m), r#"  "f20": 0,"#);
        assert_eq!(note_text(&m), "no change before this one");
        // G in the detail ends on the diff's last line, not past it.
        m.focus = Pane::Value;
        update(&mut m, key('G'));
        let shown = screen(&m);
        assert!(shown.contains("  }"), "{shown}");
    }

    #[test]
    fn enter_on_a_state_event_jumps_to_the_key_or_says_it_is_gone() {
        let c = clock();
        let mut m = timeline_open(&c);
        update(&mut m, code(KeyCode::Enter)); // CreateOrder's events
        update(&mut m, key('j'));
        update(&mut m, key('j')); // set order
        update(&mut m, key('j')); // set gone
        update(&mut m, code(KeyCode::Enter));
        assert!(m.timeline.is_some());
        let note = m.note.as_ref().map(|n| n.text.clone()).unwrap_or_default();
        assert!(
            note.contains("gone no longer exists in trace trace-a"),
            "{note}"
        );
        update(&mut m, key('k'));
        update(&mut m, code(KeyCode::Enter));
        assert!(m.timeline.is_none());
        assert_eq!(m.focus, Pane::Keys);
        assert_eq!(m.keys.trace.as_deref(), Some("trace-a"));
        assert_eq!(m.cursor_key(), Some("order"));
    }

    #[test]
    fn frame_history_restore_asks_with_the_diff_and_saves_compare_and_set() {
        let c = clock();
        let mut m = with_records(&c, 120);
        update(&mut m, key('j'));
        update(&mut m, code(KeyCode::Enter));
        let fx = update(&mut m, key('H'));
        let (id, _) = records_request(&fx);
        ev(
            &mut m,
            WorkerEvent::TraceRecords {
                id,
                result: Ok(for_history(records())),
            },
        );
        use crate::browser::action::WriteOp;
        use crate::browser::model::dialog::Dialog;
        update(&mut m, key('R'));
        let (full_key, expected, text) = match &m.dialog {
            Some(Dialog::Confirm {
                op:
                    WriteOp::Save {
                        full_key,
                        expected,
                        text,
                    },
                ..
            }) => (full_key.clone(), expected.clone(), text.clone()),
            _ => panic!("no restore question"),
        };
        assert_eq!(full_key, "motia:state:trace-a:order");
        let h = m.history.as_ref().unwrap();
        let now = h.current.clone().unwrap().map(|b| b.to_vec());
        assert_eq!(expected, now, "compare-and-set against the value read");
        assert_eq!(Some(text.as_str()), h.entries[1].value.as_deref());
        let shown = screen(&m);
        assert!(shown.contains("Restore a version"), "{shown}");
        insta::assert_snapshot!("history_restore", shown);
        // Read-only refuses before asking.
        m.dialog = None;
        m.settings.read_only = true;
        update(&mut m, key('R'));
        assert!(m.dialog.is_none());
        assert!(note_text(&m).contains("read-only"), "{}", note_text(&m));
    }

    #[test]
    fn frame_history_with_a_diff() {
        let c = clock();
        let mut m = with_records(&c, 120);
        update(&mut m, key('j'));
        update(&mut m, code(KeyCode::Enter)); // Keys pane of trace-a
        assert_eq!(m.cursor_key(), Some("order"));
        let fx = update(&mut m, key('H'));
        let (id, full_key) = records_request(&fx);
        assert_eq!(full_key.as_deref(), Some("motia:state:trace-a:order"));
        ev(
            &mut m,
            WorkerEvent::TraceRecords {
                id,
                result: Ok(for_history(records())),
            },
        );
        let h = m.history.as_ref().unwrap();
        assert_eq!(h.entries.len(), 2);
        assert_eq!(h.list.cursor, 1);
        assert_eq!(
            h.now,
            Some(crate::browser::model::history::NowCompared::Changed)
        );
        insta::assert_snapshot!("history_version", screen(&m));
        press_diff(&mut m);
        insta::assert_snapshot!("history_diff", screen(&m));
        update(&mut m, Action::Resize(80, 24));
        let shown = screen(&m);
        let top = shown.lines().next().unwrap_or_default();
        assert!(top.contains(" Diff 03:02:05.110 ─"), "{top}");
        insta::assert_snapshot!("history_diff_80x24", shown);
    }
}

#[test]
fn frame_restricted_user() {
    let c = clock();
    let mut m = model(&c);
    m.settings.read_only = true;
    let fx = ev(
        &mut m,
        WorkerEvent::Connected(ServerFacts {
            version: Err("may not run INFO".into()),
            dbsize: Err("may not run DBSIZE".into()),
            mode: None,
            unreachable: Vec::new(),
        }),
    );
    let g = scan_gen(&fx);
    batch(&mut m, g, &DATA[..4]);
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 4,
        },
    );
    let text = screen(&m);
    assert!(text.contains("Redis ? (no INFO)"), "{text}");
    assert!(text.contains("keys 4 of ? (no DBSIZE)"), "{text}");
    insta::assert_snapshot!("restricted_user", text);
}

#[test]
fn frame_cluster_primary_down() {
    let c = clock();
    let mut m = model(&c);
    let fx = ev(
        &mut m,
        WorkerEvent::Connected(ServerFacts {
            version: Ok("7.0.15".into()),
            dbsize: Ok(9),
            mode: Some("cluster (detected)".into()),
            unreachable: Vec::new(),
        }),
    );
    let g = scan_gen(&fx);
    batch(&mut m, g, &DATA[..4]);
    ev(
        &mut m,
        WorkerEvent::Unreachable(vec!["127.0.0.1:7001".into()]),
    );
    ev(
        &mut m,
        WorkerEvent::ScanFailed {
            generation: g,
            connection: false,
            error: "scan incomplete: 127.0.0.1:7001 could not be reached (connection refused); keys on it are missing".into(),
        },
    );
    let text = screen(&m);
    assert!(text.contains("no answer from 127.0.0.1:7001"), "{text}");
    assert!(text.contains("failed"), "never shown as complete: {text}");
    insta::assert_snapshot!("cluster_primary_down", text);
    // Every primary answers again: the failed scan runs again.
    let fx = ev(&mut m, WorkerEvent::Unreachable(Vec::new()));
    assert!(scan_gen(&fx) > g);
}

// Issue 8: names that are not UTF-8, selection, honest counts, command line, and a property test.
mod edges;
// ---- names and sizes at the edges: wide and control characters, small terminals ----

/// Names from other programs: CJK, emoji, right-to-left, combining marks, control characters.
const ODD: &[(&str, &str)] = &[
    ("order-1001-f34dad", "payment:attempt:1"),
    ("order-1001-f34dad", "shipping:address:line"),
    ("order-1001-f34dad", "status"),
    ("注文-1", "合計"),
    ("注文-1", "emoji🎉key"),
    ("注文-1", "text"),
    ("evil\x1b[41mRED", "k\x1b]0;title\x07"),
    ("new\nline", "cr\rkey"),
    ("rtl", "שלום-עולם"),
    ("combining", "cafe\u{301}"),
];

/// Connected at `size`, one complete scan of ODD.
fn odd(c: &Arc<ManualClock>, (w, h): (u16, u16)) -> Model {
    let mut m = model(c);
    update(&mut m, Action::Resize(w, h));
    let g = scan_gen(&connect(&mut m));
    batch(&mut m, g, ODD);
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: ODD.len() as u64,
        },
    );
    m
}

/// Moves the trace cursor onto `trace`.
fn select_trace(m: &mut Model, trace: &str) {
    while m.focus != Pane::Traces {
        update(m, key('h'));
    }
    update(m, key('g'));
    for _ in 0..m.traces.view.len() {
        if m.traces.selected.as_deref() == Some(trace) {
            return;
        }
        update(m, key('j'));
    }
    panic!("no trace {trace:?}");
}

/// The screen's line holding `needle`.
fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{screen}"))
}

#[test]
fn frame_wide_characters_80x24() {
    let c = clock();
    let mut m = odd(&c, (80, 24));
    select_trace(&mut m, "注文-1");
    for (k, kind, ttl) in [
        ("合計", "object", Ttl::Persistent),
        (
            "emoji🎉key",
            "string",
            Ttl::Expires(Duration::from_secs(5000)),
        ),
        ("text", "string", Ttl::Persistent),
    ] {
        meta(&mut m, &full("注文-1", k), kind, 31, ttl);
    }
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('j'));
    let text = format!("\"{}\"", "日本語のテキスト🎉".repeat(20));
    answer_value(&mut m, &c, text.as_bytes(), text.len() as u64);
    update(&mut m, key('l'));
    update(&mut m, key('w'));
    let s = screen(&m);
    // Every row keeps its right edge: the count, the TTL, the border.
    assert!(line_with(&s, "│注文-1 ").contains(" 3│"), "{s}");
    assert!(line_with(&s, "emoji🎉key").contains("1h 23m│"), "{s}");
    assert!(line_with(&s, "合計").contains("object"), "{s}");
    // Wrapped at cell widths: all 20 party poppers of the value (and the one of the key).
    assert_eq!(s.matches('🎉').count(), 21, "{s}");
    assert!(
        s.lines()
            .last()
            .is_some_and(|l| l.contains("? help · q quit")),
        "{s}"
    );
    insta::assert_snapshot!("wide_characters_80x24", s);
}

#[test]
fn frame_control_characters_are_escaped() {
    let c = clock();
    let mut m = odd(&c, (100, 30));
    select_trace(&mut m, "evil\x1b[41mRED");
    update(&mut m, code(KeyCode::Enter));
    answer_value(&mut m, &c, b"raw\x1b[31m red\r\nline two\tTAB\x07\x9b", 27);
    crate::browser::update::note(&mut m, "server said: \x1b]0;pwned\x07 gone\nnext", true);
    let s = screen(&m);
    assert!(
        !s.contains(['\x1b', '\x07', '\r']),
        "raw control characters: {s:?}"
    );
    assert!(s.contains("evil\\x1b[41mRED"), "{s}");
    assert!(s.contains("k\\x1b]0;title\\x07"), "{s}");
    assert!(s.contains("raw\\x1b[31m red\\r"), "{s}");
    assert!(s.contains("line two\\tTAB\\x07\\x9b"), "{s}");
    assert!(
        s.contains("server said: \\x1b]0;pwned\\x07 gone\\nnext"),
        "{s}"
    );
    insta::assert_snapshot!("control_characters_100x30", s);
    // A dialog naming them.
    update(&mut m, key('x'));
    select_trace(&mut m, "new\nline");
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('d'));
    let s = screen(&m);
    assert!(
        s.contains("Delete key cr\\rkey of trace new\\nline?"),
        "{s}"
    );
    assert!(s.contains("Keys · new\\nline (1)"), "{s}");
}

#[test]
fn frame_right_to_left_and_combining_marks() {
    let c = clock();
    let mut m = odd(&c, (100, 30));
    select_trace(&mut m, "rtl");
    meta(
        &mut m,
        &full("rtl", "שלום-עולם"),
        "string",
        27,
        Ttl::Persistent,
    );
    update(&mut m, code(KeyCode::Enter));
    let v = "\"مرحبا بالعالم · cafe\u{301} · 注文\"";
    answer_value(&mut m, &c, v.as_bytes(), v.len() as u64);
    let s = screen(&m);
    assert!(line_with(&s, "  שלום-עולם").contains("string"), "{s}");
    assert!(line_with(&s, "combining ").contains(" 1│"), "{s}");
    insta::assert_snapshot!("rtl_and_combining_100x30", s);
}

/// The demo-like data with a value open, at `size`.
fn sized(c: &Arc<ManualClock>, size: (u16, u16)) -> Model {
    let mut m = odd(c, size);
    select_trace(&mut m, "order-1001-f34dad");
    for (k, kind, ttl) in [
        (
            "payment:attempt:1",
            "object",
            Ttl::Expires(Duration::from_secs(86_400 * 3)),
        ),
        ("shipping:address:line", "string", Ttl::Persistent),
        ("status", "string", Ttl::Expires(Duration::from_secs(59))),
    ] {
        meta(&mut m, &full("order-1001-f34dad", k), kind, 321, ttl);
    }
    update(&mut m, code(KeyCode::Enter));
    update(&mut m, key('j'));
    update(&mut m, key('j'));
    let v = br#"{"amount":1200,"currency":"EUR","provider":"stripe","card":{"last4":"4242","brand":"visa"},"attempt":1}"#;
    answer_value(&mut m, c, v, v.len() as u64);
    m
}

#[test]
fn frame_80x24_names_first() {
    let c = clock();
    let m = sized(&c, (80, 24));
    let s = screen(&m);
    // Key names whole, the TTL kept; the date of the expiry whole or not at all.
    assert!(s.contains("      line "), "{s}");
    assert!(s.contains("      1 "), "{s}");
    let title = s.lines().next().unwrap_or_default();
    assert!(
        title.contains("2026-01-05 03:04") || !title.contains("2026"),
        "{title}"
    );
    let hints = s.lines().last().unwrap_or_default();
    assert!(
        hints
            .trim_end_matches(['"', ' '])
            .ends_with("? help · q quit"),
        "{hints}"
    );
    insta::assert_snapshot!("layout_80x24", s);
}

#[test]
fn frame_100x30() {
    let c = clock();
    let m = sized(&c, (100, 30));
    insta::assert_snapshot!("layout_100x30", screen(&m));
}

#[test]
fn frame_60x15_shows_two_panes() {
    let c = clock();
    let mut m = sized(&c, (60, 15));
    let s = screen(&m);
    assert!(
        s.contains("Keys · order-1001-f3… (3)") && s.contains("Value "),
        "{s}"
    );
    assert!(!s.contains("Traces ("), "{s}");
    assert!(
        s.lines()
            .last()
            .unwrap_or_default()
            .contains("? help · q quit"),
        "{s}"
    );
    insta::assert_snapshot!("layout_60x15", s);
    update(&mut m, key('h'));
    let s = screen(&m);
    assert!(s.contains("Traces (6)") && s.contains("Keys · "), "{s}");
    assert!(!s.contains("Value "), "{s}");
}

#[test]
fn frame_terminal_too_small() {
    let c = clock();
    let mut m = sized(&c, (39, 12));
    let s = screen(&m);
    assert!(
        s.starts_with("\"terminal too small: 39x12 (needs 40x8)"),
        "{s}"
    );
    let shown = s.lines().filter(|l| !l.trim_matches(['"', ' ']).is_empty());
    assert_eq!(shown.count(), 1, "{s}");
    update(&mut m, Action::Resize(30, 6));
    assert!(
        screen(&m).contains("too small: 30x6, needs 40x8"),
        "{}",
        screen(&m)
    );
    // Keys still work, and nothing breaks down to 1x1.
    for (w, h) in [(10, 3), (1, 1)] {
        update(&mut m, Action::Resize(w, h));
        update(&mut m, key('j'));
        screen(&m);
    }
}

#[test]
fn frame_read_only_custom_prefix_80x24() {
    let c = clock();
    let mut config = motia_state::Config::from_url("redis://127.0.0.1:6390").unwrap();
    config.read_only = true;
    config.key_prefix = "shop:state:".into();
    let mut m = initial_model(
        &config,
        &BrowserOptions::default(),
        Keymap::default(),
        c.clone(),
    );
    update(&mut m, Action::Resize(80, 24));
    let g = scan_gen(&connect(&mut m));
    ev(
        &mut m,
        WorkerEvent::ScanBatch {
            generation: g,
            keys: vec!["shop:state:t1:order".into()],
            seen: 1,
        },
    );
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 1,
        },
    );
    let s = screen(&m);
    let status = s.lines().nth(22).unwrap_or_default();
    assert!(
        status.contains("READ-ONLY") && status.contains("prefix shop:state:"),
        "{s}"
    );
    let hints = s.lines().last().unwrap_or_default();
    for writing in [" new", " ttl", " clear", " edit", " del"] {
        assert!(!hints.contains(writing), "{hints}");
    }
    assert!(hints.contains("? help · q quit"), "{hints}");
    insta::assert_snapshot!("read_only_prefix_80x24", s);
}

#[test]
fn value_scrolls_sideways_and_shows_where() {
    let c = clock();
    let mut m = loaded(&c);
    update(&mut m, Action::Resize(80, 24));
    update(&mut m, code(KeyCode::Enter));
    let long = format!(r#"{{"note":"{}END"}}"#, "abcdefghij".repeat(6));
    answer_value(&mut m, &c, long.as_bytes(), long.len() as u64);
    update(&mut m, key('l'));
    let s = screen(&m);
    assert!(s.contains("line 1 of 3 · col 1 · </>"), "{s}");
    assert!(!s.contains("END"), "{s}");
    for _ in 0..8 {
        update(&mut m, key('>'));
    }
    let s = screen(&m);
    assert!(s.contains("END\""), "scrolled to the end of the line: {s}");
    let col = m.value.hscroll;
    update(&mut m, key('>'));
    assert_eq!(m.value.hscroll, col, "no scrolling past the longest line");
    insta::assert_snapshot!("value_scrolled_80x24", screen(&m));
    update(&mut m, key('<'));
    assert!(m.value.hscroll < col);
    // Wrapping shows every column; there is nothing to scroll then.
    update(&mut m, key('w'));
    update(&mut m, key('>'));
    assert!(note_text(&m).contains("wrap"), "{}", note_text(&m));
}

mod conventions;
mod folding;
mod iii;
mod iii_live;
mod journal;
mod live;
mod live_bytes;
mod live_load;
mod other_layout;
mod stats;
mod streams;

fn with_connections(m: &mut Model) {
    use crate::browser::model::connections::ConnectionEntry;
    let entry = |name: &str, place: &str, mode: &str, read_only: bool| ConnectionEntry {
        name: name.into(),
        place: place.into(),
        mode: mode.into(),
        read_only,
        prefix: P.into(),
    };
    m.connections = vec![
        entry("local", "redis://127.0.0.1:6390/0", "standalone", false),
        entry(
            "prod",
            "redis://motia-reader@10.0.0.1:7000/0",
            "cluster",
            true,
        ),
        entry(
            "staging",
            "redis+sentinel://s1:26379/mymaster/0",
            "sentinel",
            false,
        ),
    ];
    m.settings.profile = Some("local".into());
}

#[test]
fn frame_connection_picker() {
    let c = clock();
    let mut m = loaded(&c);
    with_connections(&mut m);
    update(&mut m, key('c'));
    let text = screen(&m);
    assert!(text.contains("Connections"), "{text}");
    assert!(text.contains("read-only"), "{text}");
    insta::assert_snapshot!("connection_picker", text);
}

#[test]
fn picking_a_connection_asks_the_worker_and_starts_over_when_it_switched() {
    let c = clock();
    let mut m = loaded(&c);
    with_connections(&mut m);
    update(&mut m, key('c'));
    update(&mut m, key('j'));
    let fx = update(&mut m, code(KeyCode::Enter));
    assert!(
        fx.iter().any(|f| matches!(
            f,
            Effect::Worker(WorkerCmd::Switch { profile }) if profile == "prod"
        )),
        "{fx:?}"
    );
    assert!(m.overlay.is_none());
    // Refused (say, its password command failed): nothing changes.
    ev(
        &mut m,
        WorkerEvent::SwitchFailed {
            profile: "prod".into(),
            error: "password_command failed".into(),
        },
    );
    assert_eq!(m.settings.profile.as_deref(), Some("local"));
    assert!(m.index.total_keys > 0);
    // Switched: an empty screen on the new connection, read-only as the profile says.
    ev(
        &mut m,
        WorkerEvent::Switched {
            profile: "prod".into(),
        },
    );
    assert_eq!(m.settings.profile.as_deref(), Some("prod"));
    assert!(m.settings.read_only);
    assert_eq!(m.index.total_keys, 0);
    assert_eq!(m.connections.len(), 3);
    let fx = connect(&mut m);
    assert!(scan_gen(&fx) > 0, "connected: the scan starts");
    // Without saved connections `c` says how to add them.
    m.connections.clear();
    update(&mut m, key('c'));
    assert!(m.overlay.is_none());
    assert!(
        m.note
            .as_ref()
            .is_some_and(|n| n.text.contains("[profiles.NAME]"))
    );
}
