//! Live mode as plain `update` calls and frames: changes from notifications keep the index
//! current, marks, the value diff, following, `:live on`/`:live off`.

use motia_state::coalesce::{KeyChange, KeyState};
use motia_state::live::EventKind;
use motia_state::notify::NotifySetting;

use super::*;
use crate::browser::action::{LiveCmd, LiveEvent};
use crate::browser::model::dialog::Dialog;
use crate::browser::model::live::{LiveState, MARK};

fn change(trace: &str, key: &str, state: KeyState) -> KeyChange {
    let last = match state {
        KeyState::Written => EventKind::Set,
        KeyState::Removed => EventKind::Del,
        KeyState::TtlChanged => EventKind::Expire,
    };
    KeyChange {
        key: full(trace, key),
        state,
        ttl_changed: state == KeyState::TtlChanged,
        events: 1,
        last,
    }
}

fn live(m: &mut Model, e: LiveEvent) -> Vec<Effect> {
    ev(m, WorkerEvent::Live(e))
}

fn live_model(c: &Arc<ManualClock>) -> Model {
    let mut m = loaded(c);
    live(&mut m, LiveEvent::Live(NotifySetting::new("$gxK")));
    m
}

fn changes(m: &mut Model, list: Vec<KeyChange>) -> Vec<Effect> {
    live(m, LiveEvent::Changes(list))
}

fn command(m: &mut Model, text: &str) -> Vec<Effect> {
    update(m, key(':'));
    let mut fx = typed(m, text);
    fx.extend(update(m, code(KeyCode::Enter)));
    fx
}

#[test]
fn a_write_to_an_unknown_key_adds_it_and_its_trace_in_place() {
    let c = clock();
    let mut m = live_model(&c);
    assert_eq!(m.live.state, LiveState::Live);
    // The user sits on trace-b.
    update(&mut m, key('j'));
    assert_eq!(m.traces.selected.as_deref(), Some("trace-b"));
    changes(
        &mut m,
        vec![
            change("trace-aa", "new", KeyState::Written),
            change("trace-b", "added", KeyState::Written),
            change("trace-0", "first", KeyState::Written),
        ],
    );
    let view: Vec<&str> = m.traces.view.iter().map(|t| &**t).collect();
    assert_eq!(
        view,
        ["trace-0", "trace-a", "trace-aa", "trace-b", "trace-c"]
    );
    // Same trace selected, its cursor moved with it.
    assert_eq!(m.traces.selected.as_deref(), Some("trace-b"));
    assert_eq!(m.traces.list.cursor, 3);
    assert_eq!(m.index.count("trace-b"), 3);
    assert!(m.live.trace_marked("trace-b", m.now()));
    assert!(m.live.key_marked(&full("trace-b", "added"), m.now()));
    // A filter is respected: a trace that does not match stays out of the list.
    update(&mut m, key('/'));
    typed(&mut m, "trace-a");
    update(&mut m, code(KeyCode::Enter));
    changes(&mut m, vec![change("other", "k", KeyState::Written)]);
    assert!(!m.traces.view.iter().any(|t| &**t == "other"));
    assert!(m.index.traces.contains_key("other"));
    // Marks fade.
    c.advance(MARK);
    update(&mut m, Action::Tick);
    assert!(!m.live.has_marks());
}

#[test]
fn removals_mark_shown_keys_gone_and_drop_others_at_once() {
    let c = clock();
    let mut m = live_model(&c);
    assert_eq!(m.keys.trace.as_deref(), Some("trace-a"));
    changes(
        &mut m,
        vec![
            change("trace-a", "order", KeyState::Removed),
            change("trace-c", "x", KeyState::Removed),
        ],
    );
    // trace-c had one key: gone with it; trace-a's key is shown gone for a moment.
    assert!(!m.index.traces.contains_key("trace-c"));
    assert!(m.meta[&full("trace-a", "order")].gone_since.is_some());
    assert!(screen(&m).contains("gone"));
    c.advance(GONE_GRACE);
    update(&mut m, Action::Tick);
    assert_eq!(m.index.count("trace-a"), 3);
    // Renamed: gone from one place, there in the other.
    changes(
        &mut m,
        vec![
            change("trace-b", "payment", KeyState::Removed),
            change("trace-b", "payment:v2", KeyState::Written),
        ],
    );
    let b = &m.index.traces["trace-b"];
    assert!(b.contains("payment:v2") && !b.contains("payment"));
}

#[test]
fn expiry_changes_reread_the_ttl_of_rows_on_screen_only() {
    let c = clock();
    let mut m = live_model(&c);
    let k = full("trace-a", "order");
    meta(&mut m, &k, "object", 7, Ttl::Persistent);
    let fx = changes(
        &mut m,
        vec![change("trace-a", "order", KeyState::TtlChanged)],
    );
    assert!(
        fx.iter().any(
            |f| matches!(f, Effect::Worker(WorkerCmd::FetchMeta { keys }) if keys.contains(&k))
        )
    );
    // A trace not on screen: nothing is read.
    let fx = changes(&mut m, vec![change("trace-b", "raw", KeyState::TtlChanged)]);
    assert!(!fx.iter().any(|f| matches!(f, Effect::Worker(WorkerCmd::FetchMeta { keys }) if keys.contains(&full("trace-b", "raw")))));
}

#[test]
fn a_scan_page_read_before_a_removal_does_not_bring_the_key_back() {
    let c = clock();
    let mut m = live_model(&c);
    let g = scan_gen(&update(&mut m, key('r')));
    changes(&mut m, vec![change("trace-b", "raw", KeyState::Removed)]);
    batch(&mut m, g, DATA);
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 7,
        },
    );
    assert!(!m.index.traces["trace-b"].contains("raw"));
    assert_eq!(m.index.count("trace-b"), 1);
}

#[test]
fn live_mode_stops_the_periodic_reread_and_lost_events_rescan() {
    let c = clock();
    let mut m = live_model(&c);
    update(&mut m, code(KeyCode::Enter));
    answer_value(&mut m, &c, b"{\"a\":1}", 7);
    c.advance(Duration::from_secs(2));
    let fx = update(&mut m, Action::Tick);
    assert!(load_id(&fx).is_none(), "no periodic value read while live");
    live(&mut m, LiveEvent::Reconnecting);
    assert!(screen(&m).contains("live: reconnecting"));
    let fx = live(&mut m, LiveEvent::Resync);
    scan_gen(&fx);
    assert_eq!(m.live.state, LiveState::Live);
    // Polling again: the periodic read comes back.
    live(
        &mut m,
        LiveEvent::Polling {
            reason: "notify-keyspace-events is \"\"".into(),
            setting: Some(NotifySetting::new("")),
        },
    );
    c.advance(Duration::from_secs(2));
    let fx = update(&mut m, Action::Tick);
    assert!(load_id(&fx).is_some());
    assert!(screen(&m).contains("· polling"));
}

#[test]
fn the_open_value_updates_keeping_its_scroll_with_changed_lines_and_a_diff() {
    let c = clock();
    let mut m = live_model(&c);
    update(&mut m, code(KeyCode::Enter));
    let fields = |b: u32| {
        let body: Vec<String> = (0..30)
            .map(|i| format!("\"f{i}\":{}", if i == 3 { b } else { i }))
            .collect();
        format!("{{{}}}", body.join(","))
    };
    let (v1, v2) = (fields(3), fields(30));
    answer_value(&mut m, &c, v1.as_bytes(), v1.len() as u64);
    m.focus = Pane::Value;
    update(&mut m, key('j'));
    let scroll = m.value.scroll;
    assert_eq!(scroll, 1);
    update(&mut m, key('='));
    assert!(!m.value.show_diff, "no previous version yet");
    let fx = changes(&mut m, vec![change("trace-a", "order", KeyState::Written)]);
    let (id, key_read, _) = load_id(&fx).expect("the open value is read again");
    ev(
        &mut m,
        WorkerEvent::Value {
            id,
            full_key: key_read,
            result: Ok(Some(Arc::new(ValueDoc::build(
                v2.as_bytes(),
                v2.len() as u64,
            )))),
        },
    );
    assert_eq!(m.value.scroll, scroll);
    assert_eq!(m.value.changed_lines, [4]);
    insta::assert_snapshot!("live_value_changed", screen(&m));
    update(&mut m, key('='));
    assert!(m.value.show_diff);
    insta::assert_snapshot!("live_value_diff", screen(&m));
    update(&mut m, key('='));
    assert!(!m.value.show_diff);
    c.advance(MARK);
    update(&mut m, Action::Tick);
    assert!(m.value.changed_lines.is_empty());
}

#[test]
fn follow_jumps_to_the_newest_trace_and_any_move_ends_it() {
    let c = clock();
    let mut m = live_model(&c);
    update(&mut m, key('F'));
    assert!(m.live.follow);
    changes(
        &mut m,
        vec![
            change("trace-new", "order", KeyState::Written),
            change("trace-new", "payment", KeyState::Written),
        ],
    );
    assert_eq!(m.traces.selected.as_deref(), Some("trace-new"));
    assert_eq!(m.cursor_key(), Some("payment"));
    changes(
        &mut m,
        vec![change("trace-new", "order", KeyState::Written)],
    );
    assert_eq!(m.cursor_key(), Some("order"));
    insta::assert_snapshot!("live_follow", screen(&m));
    update(&mut m, key('k'));
    assert!(!m.live.follow);
    changes(&mut m, vec![change("trace-newer", "x", KeyState::Written)]);
    assert_ne!(m.traces.selected.as_deref(), Some("trace-newer"));
}

#[test]
fn live_on_explains_and_asks_and_live_off_restores() {
    let c = clock();
    let mut m = loaded(&c);
    live(
        &mut m,
        LiveEvent::Polling {
            reason: "notify-keyspace-events is \"Ex\", missing K$g".into(),
            setting: Some(NotifySetting::new("xE")),
        },
    );
    let fx = command(&mut m, "live on");
    assert!(fx.is_empty(), "nothing is sent before the user confirms");
    let Some(Dialog::ConfirmLive { text }) = &m.dialog else {
        panic!("a confirmation")
    };
    assert!(text.contains("from \"xE\" to \"xEK$geh\""), "{text}");
    // The key to press shows below the whole (wrapped) explanation.
    let s = screen(&m);
    assert!(s.contains("y yes, change the server setting"), "{s}");
    insta::assert_snapshot!("live_on_confirm", s);
    let fx = update(&mut m, key('y'));
    assert!(fx.contains(&Effect::Worker(WorkerCmd::Live(LiveCmd::On))));
    live(
        &mut m,
        LiveEvent::Switched {
            on: true,
            changed: true,
            result: Ok("set".into()),
        },
    );
    let fx = command(&mut m, "live off");
    assert!(fx.contains(&Effect::Worker(WorkerCmd::Live(LiveCmd::Off))));
    live(
        &mut m,
        LiveEvent::Switched {
            on: false,
            changed: true,
            result: Ok("restored".into()),
        },
    );
    // Nothing left to restore.
    let fx = command(&mut m, "live off");
    assert!(fx.is_empty());
    // Any other key cancels.
    command(&mut m, "live on");
    let fx = update(&mut m, key('n'));
    assert!(fx.is_empty() && m.dialog.is_none());
}

#[test]
fn live_on_and_off_are_refused_read_only() {
    let c = clock();
    let config = motia_state::Config::from_url("redis://127.0.0.1:6390").unwrap();
    let mut m = initial_model(
        &motia_state::Config {
            read_only: true,
            ..config
        },
        &BrowserOptions::default(),
        Keymap::default(),
        c.clone(),
    );
    update(&mut m, Action::Resize(100, 20));
    connect(&mut m);
    live(
        &mut m,
        LiveEvent::Polling {
            reason: "off".into(),
            setting: Some(NotifySetting::new("")),
        },
    );
    for cmd in ["live on", "live off"] {
        let fx = command(&mut m, cmd);
        assert!(fx.is_empty(), "{cmd}");
        assert!(m.dialog.is_none());
        assert!(note_text(&m).contains("read-only"), "{}", note_text(&m));
    }
}

#[test]
fn a_database_smaller_than_the_index_for_a_moment_rescans_once_it_lasts() {
    use crate::browser::update::live::FLUSH_CONFIRM;
    let c = clock();
    let mut m = live_model(&c);
    // The scan that going live starts (changes may have been missed) ends first.
    let g = m.scan.generation;
    batch(&mut m, g, DATA);
    ev(
        &mut m,
        WorkerEvent::ScanDone {
            generation: g,
            seen: 7,
        },
    );
    // Deletions whose events are still on their way: back in step before the check.
    ev(&mut m, WorkerEvent::DbSize(5));
    changes(
        &mut m,
        vec![
            change("trace-a", "order", KeyState::Removed),
            change("trace-c", "x", KeyState::Removed),
        ],
    );
    ev(&mut m, WorkerEvent::DbSize(6));
    c.advance(FLUSH_CONFIRM);
    let fx = update(&mut m, Action::Tick);
    assert!(
        !fx.iter()
            .any(|f| matches!(f, Effect::Worker(WorkerCmd::Scan { .. })))
    );
    // A FLUSHDB: no events, an empty database that stays empty.
    ev(&mut m, WorkerEvent::DbSize(0));
    c.advance(FLUSH_CONFIRM);
    let fx = update(&mut m, Action::Tick);
    scan_gen(&fx);
    assert!(note_text(&m).contains("FLUSHDB"), "{}", note_text(&m));
}
