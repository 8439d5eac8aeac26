//! Live mode on the iii layout as plain `update` calls: the per-field changes the worker finds
//! by re-reading a scope keep the Scopes pane current, newest activity first, with marks; `F`
//! follows the scope written last; a FLUSHDB is told by scopes, not fields.

use motia_state::coalesce::{KeyChange, KeyState};
use motia_state::live::EventKind;
use motia_state::notify::NotifySetting;

use super::iii::{iii_loaded, scan_fixture};
use super::*;
use crate::browser::action::LiveEvent;
use crate::browser::model::keys::Selected;
use crate::browser::model::live::LiveState;
use crate::browser::model::traces::TraceSort;
use crate::browser::update::live::FLUSH_CONFIRM;

fn field(scope: &str, field: &str, state: KeyState) -> KeyChange {
    KeyChange {
        key: format!("state:{scope}:{field}"),
        state,
        ttl_changed: false,
        events: 1,
        last: if state == KeyState::Removed {
            EventKind::Del
        } else {
            EventKind::Set
        },
    }
}

fn live(m: &mut Model, e: LiveEvent) -> Vec<Effect> {
    ev(m, WorkerEvent::Live(e))
}

/// Live with `Kh`, after the scan that going live starts.
fn iii_live(c: &Arc<ManualClock>) -> Model {
    let mut m = iii_loaded(c);
    let fx = live(&mut m, LiveEvent::Live(NotifySetting::new("Kh")));
    scan_fixture(&mut m, scan_gen(&fx));
    m
}

fn view(m: &Model) -> Vec<&str> {
    m.traces.view.iter().map(|t| &**t).collect()
}

#[test]
fn changed_fields_and_a_new_scope_come_first_and_marked() {
    let c = clock();
    let mut m = iii_live(&c);
    assert_eq!(m.live.state, LiveState::Live);
    // Live on this layout: the scope written last first (no change yet: by name).
    assert_eq!(m.traces.sort, TraceSort::Newest);
    assert_eq!(view(&m), ["misc", "orders", "payments"]);
    live(
        &mut m,
        LiveEvent::Changes(vec![field("orders", "v1-ok-1", KeyState::Written)]),
    );
    c.advance(Duration::from_millis(200));
    live(
        &mut m,
        LiveEvent::Changes(vec![
            field("carts", "c-1", KeyState::Written),
            field("carts", "c-2", KeyState::Written),
        ]),
    );
    assert_eq!(view(&m), ["carts", "orders", "misc", "payments"]);
    assert_eq!(m.index.count("carts"), 2);
    let now = m.now();
    assert!(m.live.trace_marked("carts", now) && m.live.trace_marked("orders", now));
    assert!(m.live.key_marked("state:orders:v1-ok-1", now));
    assert!(!m.live.trace_marked("misc", now));
    let s = screen(&m);
    assert!(s.contains("Scopes (4) newest"), "{s}");
    let row = |name: &str| {
        s.lines()
            .find(|l| l.contains(&format!("│{name} ")))
            .unwrap_or("")
    };
    assert!(
        row("carts").contains('•') && !row("misc").contains('•'),
        "{s}"
    );
    insta::assert_snapshot!("iii_live_marks_100x16", s);
    // `s` cycles newest, id, count and back to newest while live.
    update(&mut m, key('s'));
    assert_eq!(m.traces.sort, TraceSort::Id);
    update(&mut m, key('s'));
    update(&mut m, key('s'));
    assert_eq!(m.traces.sort, TraceSort::Newest);
}

#[test]
fn the_scope_row_goes_with_its_last_field() {
    let c = clock();
    let mut m = iii_live(&c);
    live(
        &mut m,
        LiveEvent::Changes(vec![field("payments", "v1-ok-1", KeyState::Removed)]),
    );
    assert_eq!(view(&m), ["misc", "orders"]);
    assert!(!m.live.activity.contains_key("payments"));
    // One field of two of the open scope: shown gone for a moment, then removed; the scope
    // stays.
    assert_eq!(m.keys.trace.as_deref(), Some("misc"));
    live(
        &mut m,
        LiveEvent::Changes(vec![field("misc", "answer", KeyState::Removed)]),
    );
    assert!(screen(&m).contains("gone"), "{}", screen(&m));
    c.advance(crate::browser::update::meta::GONE_GRACE);
    update(&mut m, Action::Tick);
    assert_eq!(m.index.count("misc"), 1);
    assert!(view(&m).contains(&"misc"));
}

#[test]
fn follow_selects_the_scope_written_last_and_its_field() {
    let c = clock();
    let mut m = iii_live(&c);
    update(&mut m, key('F'));
    assert!(
        note_text(&m).contains("scope written last"),
        "{}",
        note_text(&m)
    );
    live(
        &mut m,
        LiveEvent::Changes(vec![
            field("orders", "v1-ok-2", KeyState::Written),
            field("orders", "v1-ok-1", KeyState::Written),
        ]),
    );
    assert_eq!(m.traces.selected.as_deref(), Some("orders"));
    assert_eq!(m.keys.selected, Some(Selected::Key("v1-ok-1".into())));
    // An existing scope written later takes over; a removal elsewhere does not.
    live(
        &mut m,
        LiveEvent::Changes(vec![
            field("misc", "answer", KeyState::Written),
            field("payments", "v1-ok-1", KeyState::Removed),
        ]),
    );
    assert_eq!(m.traces.selected.as_deref(), Some("misc"));
    assert_eq!(m.keys.selected, Some(Selected::Key("answer".into())));
    assert!(m.live.follow);
}

#[test]
fn a_flushdb_is_told_by_the_number_of_scopes_not_fields() {
    let c = clock();
    let mut m = iii_live(&c);
    // Four fields in three hashes: DBSIZE 3 is the index's size.
    ev(&mut m, WorkerEvent::DbSize(3));
    c.advance(FLUSH_CONFIRM);
    let fx = update(&mut m, Action::Tick);
    assert!(
        !fx.iter()
            .any(|f| matches!(f, Effect::Worker(WorkerCmd::Scan { .. }))),
        "no rescan while the hashes are all there"
    );
    ev(&mut m, WorkerEvent::DbSize(0));
    c.advance(FLUSH_CONFIRM);
    let fx = update(&mut m, Action::Tick);
    scan_gen(&fx);
    assert!(note_text(&m).contains("FLUSHDB"), "{}", note_text(&m));
}

#[test]
fn polling_on_this_layout_keeps_rereading_the_open_scope() {
    let c = clock();
    let mut m = iii_loaded(&c);
    live(
        &mut m,
        LiveEvent::Polling {
            reason: "notify-keyspace-events is \"\", missing Kh".into(),
            setting: Some(NotifySetting::new("")),
        },
    );
    assert!(screen(&m).contains("polling"), "{}", screen(&m));
    assert!(crate::browser::update::live::refresh_needed(&m));
    answer_value(&mut m, &c, b"42", 2);
    for k in ["state:misc:answer", "state:misc:greeting"] {
        meta(&mut m, k, "number", 2, Ttl::Persistent);
    }
    c.advance(Duration::from_secs(2));
    let fx = update(&mut m, Action::Tick);
    assert!(
        fx.iter().any(|f| matches!(
            f,
            Effect::Worker(WorkerCmd::FetchMeta { keys }) if keys.iter().any(|k| k == "state:misc:greeting")
        )),
        "the open scope's fields are read again: {fx:?}"
    );
    let (_, open, _) = load_id(&fx).expect("the open field is read again");
    assert_eq!(open, "state:misc:answer");
    // Not live: `s` does not offer an order by activity it has not seen.
    update(&mut m, key('s'));
    update(&mut m, key('s'));
    assert_ne!(m.traces.sort, TraceSort::Newest);
}

/// The engine's set (HGET then HSET in one script, by EVALSHA) and delete (HGET, then HDEL),
/// as iii 0.9.0 sends them (`iii-state.md`).
fn engine_set(server: &RedisServer, scope: &str, field: &str, json: &str) {
    let script = "local old = redis.call('HGET', KEYS[1], ARGV[1]) \
                  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) return old";
    let sha = server.cli(&["SCRIPT", "LOAD", script]);
    server.cli(&["EVALSHA", &sha, "1", &format!("state:{scope}"), field, json]);
}

fn engine_delete(server: &RedisServer, scope: &str, field: &str) {
    let hash = format!("state:{scope}");
    server.cli(&["HGET", &hash, field]);
    assert_eq!(server.cli(&["HDEL", &hash, field]), "1");
}

use super::live_load::{Headless, RedisServer};

/// The real worker against a private server: polling until `Kh` is switched on elsewhere, then
/// the engine's writes reach the panes without a rescan or a periodic re-read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_turns_hash_events_into_field_changes() {
    let server = RedisServer::start();
    assert_eq!(
        server.cli(&["CONFIG", "SET", "notify-keyspace-events", ""]),
        "OK"
    );
    engine_set(&server, "misc", "answer", "42");
    engine_set(&server, "orders", "v1-ok-1", r#"{"status":"pending"}"#);
    engine_set(&server, "payments", "v1-ok-1", r#""card""#);
    let mut config = server.config();
    config.layout = Some(motia_state::Layout::Iii);
    config.key_prefix = "state:".into();
    let mut b = Headless::start_with(config);
    b.until("polling and the scopes", |m| {
        matches!(&m.live.state, LiveState::Polling { reason } if reason.contains("missing Kh"))
            && m.scan.completed_once
            && m.index.traces.len() == 3
    })
    .await;
    assert_eq!(
        server.cli(&["CONFIG", "SET", "notify-keyspace-events", "Kh"]),
        "OK"
    );
    b.until("live, once the setting has K and h", |m| {
        m.live.is_live() && !m.scan.running && m.traces.sort == TraceSort::Newest
    })
    .await;
    b.apply(key('F'));
    // A changed value of an existing field: marked, and followed.
    engine_set(&server, "orders", "v1-ok-1", r#"{"status":"paid"}"#);
    b.until("the changed field marked and followed", |m| {
        m.live.key_marked("state:orders:v1-ok-1", m.now())
            && m.traces.selected.as_deref() == Some("orders")
            && m.keys.selected == Some(Selected::Key("v1-ok-1".into()))
    })
    .await;
    // A new scope: listed first, followed to its field.
    engine_set(&server, "carts", "c-1", r#"{"items":2}"#);
    b.until("the new scope first and followed", |m| {
        m.traces.view.first().map(|t| &**t) == Some("carts")
            && m.traces.selected.as_deref() == Some("carts")
            && m.keys.selected == Some(Selected::Key("c-1".into()))
    })
    .await;
    assert!(!b.m.live.key_marked("state:misc:answer", b.m.now()));
    // The last field of a scope deleted as the engine does: the scope goes.
    engine_delete(&server, "payments", "v1-ok-1");
    b.until("payments to go", |m| {
        !m.index.traces.contains_key("payments")
    })
    .await;
    // A burst on one scope: every field arrives, the index as the server has it.
    for i in 0..50 {
        engine_set(&server, "burst", &format!("f{i}"), &i.to_string());
    }
    b.until("the burst's 50 fields", |m| m.index.count("burst") == 50)
        .await;
    assert_eq!(b.m.index.traces.len(), 4);
}
