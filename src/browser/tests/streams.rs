//! iii stream groups in the browser: the left pane's `Streams` section (frames), and the
//! worker's edits and deletes of stream items against a real redis-server, each PUBLISHed on
//! `stream::events` as the engine does.

use super::*;
use crate::browser::action::{WriteOp, WriteOutcome};
use crate::browser::stream_name::group_name;
use crate::browser::tests::iii::{iii_connected, scan_names};

/// `state:\s{stream}\x3a{group}:{id}`: a stream item as the worker names it.
fn item(stream_key: &str, id: &str) -> String {
    let group = group_name(stream_key.as_bytes()).unwrap();
    format!("state:{group}:{id}")
}

/// Connected on the iii layout; one scan of three scopes and two stream groups.
fn with_streams(clock: &Arc<ManualClock>, size: (u16, u16)) -> Model {
    let (mut m, g) = iii_connected(clock, size);
    let names = [
        "state:misc:answer".to_string(),
        "state:misc:greeting".into(),
        item("stream:orderStatus:orders", "v1-bad-1"),
        item("stream:orderStatus:orders", "v1-ok-1"),
        "state:orders:v1-ok-1".into(),
        item("stream:chat:room:eu", "m-1"),
        "state:payments:v1-ok-1".into(),
    ];
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    scan_names(&mut m, g, &names);
    m
}

#[test]
fn stream_groups_have_their_own_section_after_the_scopes() {
    let c = clock();
    let m = with_streams(&c, (100, 16));
    let s = screen(&m);
    assert!(s.contains("Scopes (3)"), "the title counts scopes: {s}");
    assert!(s.contains("Streams (2)"), "{s}");
    let at = |t: &str| s.find(t).unwrap_or_else(|| panic!("{t} in {s}"));
    assert!(at("payments") < at("Streams (2)"));
    assert!(
        at("Streams (2)") < at("chat/room:eu") && at("chat/room:eu") < at("orderStatus/orders")
    );
    assert!(!s.contains("\\s"), "internal names stay inside: {s}");
    insta::assert_snapshot!("iii_streams_section_100x16", s);
}

#[test]
fn the_cursor_passes_the_heading_both_ways_and_a_group_shows_its_items() {
    let c = clock();
    let mut m = with_streams(&c, (120, 16));
    update(&mut m, key('g'));
    for _ in 0..3 {
        update(&mut m, key('j'));
    }
    let chat = group_name(b"stream:chat:room:eu").unwrap();
    assert_eq!(
        m.traces.selected.as_deref(),
        Some(chat.as_str()),
        "over the heading"
    );
    update(&mut m, key('k'));
    assert_eq!(m.traces.selected.as_deref(), Some("payments"), "and back");
    update(&mut m, key('G'));
    update(&mut m, code(KeyCode::Tab));
    for (id, len) in [("v1-bad-1", 35), ("v1-ok-1", 35)] {
        let name = item("stream:orderStatus:orders", id);
        meta(&mut m, &name, "object", len, Ttl::Persistent);
    }
    let value = br#"{"id":"v1-bad-1","status":"failed"}"#;
    answer_value(&mut m, &c, value, value.len() as u64);
    let s = screen(&m);
    assert!(s.contains("Keys · orderStatus/orders (2)"), "{s}");
    assert!(
        s.contains("orderStatus/orders:v1-bad-1"),
        "the value's title: {s}"
    );
    assert!(s.contains(r#""status": "failed""#), "{s}");
    insta::assert_snapshot!("iii_stream_item_120x16", s);
    // The questions name a stream group, not a scope.
    update(&mut m, key('d'));
    let s = screen(&m);
    assert!(
        s.contains("Delete key v1-bad-1 of stream group orderStatus/orders?"),
        "{s}"
    );
}

#[test]
fn a_new_item_is_asked_for_and_edited_under_its_groups_name() {
    let c = clock();
    let mut m = with_streams(&c, (120, 16));
    update(&mut m, key('G'));
    update(&mut m, code(KeyCode::Tab));
    update(&mut m, key('n'));
    assert!(
        screen(&m).contains("New item in stream group orderStatus/orders"),
        "{}",
        screen(&m)
    );
    for ch in "v1-new".chars() {
        update(&mut m, key(ch));
    }
    update(&mut m, code(KeyCode::Enter));
    let s = screen(&m);
    assert!(s.contains("New orderStatus/orders:v1-new"), "{s}");
    assert!(!s.contains("\\s"), "{s}");
    let ed = m.editor.as_ref().expect("the editor");
    assert_eq!(ed.full_key, item("stream:orderStatus:orders", "v1-new"));
}

#[test]
fn a_filter_matches_a_stream_group_by_its_shown_name() {
    let c = clock();
    let mut m = with_streams(&c, (100, 16));
    update(&mut m, key('/'));
    for ch in "status/ord".chars() {
        update(&mut m, key(ch));
    }
    let s = screen(&m);
    assert!(s.contains("orderStatus/orders"), "{s}");
    assert!(
        s.contains("Streams (1/2)") && !s.contains("payments"),
        "{s}"
    );
}

// ---- the worker, against a real redis-server ----

use super::live_load::RedisServer;
use crate::browser::worker::iii;

/// The next message on `stream::events`, as JSON; a deadline, not a wait.
async fn next_event(
    messages: &mut (impl futures::Stream<Item = redis::Msg> + Unpin),
) -> serde_json::Value {
    use futures::StreamExt;
    let msg = tokio::time::timeout(Duration::from_secs(60), messages.next())
        .await
        .expect("a message within the deadline")
        .expect("the subscription is open");
    let text: String = msg.get_payload().expect("text");
    serde_json::from_str(&text).expect("JSON")
}

fn check_event(ev: &serde_json::Value, kind: &str, id: &str, data: serde_json::Value) {
    assert_eq!(ev["type"], "stream", "{ev}");
    assert!(ev["timestamp"].as_u64().is_some_and(|t| t > 0), "{ev}");
    assert_eq!(ev["streamName"], "orderStatus", "{ev}");
    assert_eq!(ev["groupId"], "orders", "{ev}");
    assert_eq!(ev["id"], id, "{ev}");
    assert_eq!(ev["event"]["type"], kind, "{ev}");
    assert_eq!(ev["event"]["data"], data, "{ev}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_and_deletes_of_stream_items_publish_the_engines_events() {
    let server = RedisServer::start();
    let hash = "stream:orderStatus:orders";
    let stored = r#"{"id":"v1-bad-1","status":"failed"}"#;
    server.cli(&["HSET", hash, "v1-bad-1", stored]);
    let mut config = server.config();
    config.layout = Some(motia_state::Layout::Iii);
    let adapter = motia_state::RedisStateAdapter::connect(config)
        .await
        .unwrap();
    let state = adapter.iii();
    let client = redis::Client::open(server.url()).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.subscribe("stream::events").await.unwrap();
    let mut messages = pubsub.on_message();

    // The walk names the item so that the worker's jobs find it again.
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    iii::run_scan(state.clone(), 1, tx).await;
    let mut names = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        if let WorkerEvent::ScanBatch { keys, .. } = ev {
            names.extend(keys);
        }
    }
    let name = item(hash, "v1-bad-1");
    assert_eq!(names, std::slice::from_ref(&name));

    // An edit: compare-and-set against the bytes loaded, then an `update` event.
    let save = |expected: Option<&str>, text: &str, full_key: &str| WriteOp::Save {
        full_key: full_key.to_string(),
        expected: expected.map(|e| e.as_bytes().to_vec()),
        text: text.to_string(),
    };
    let out = iii::write(
        &state,
        &save(
            Some(stored),
            r#"{"id":"v1-bad-1","status":"retried"}"#,
            &name,
        ),
    )
    .await
    .unwrap();
    assert!(matches!(out, WriteOutcome::Saved));
    let ev = next_event(&mut messages).await;
    check_event(
        &ev,
        "update",
        "v1-bad-1",
        serde_json::json!({"id":"v1-bad-1","status":"retried"}),
    );
    assert_eq!(
        server.cli(&["HGET", hash, "v1-bad-1"]),
        r#"{"id":"v1-bad-1","status":"retried"}"#
    );

    // A stale save changes nothing and publishes nothing: the next message is ours.
    let out = iii::write(&state, &save(Some(stored), "1", &name))
        .await
        .unwrap();
    assert!(matches!(out, WriteOutcome::Conflict(Some(_))));
    server.cli(&["PUBLISH", "stream::events", r#"{"marker":1}"#]);
    assert_eq!(next_event(&mut messages).await["marker"], 1);

    // A new item: `create`.
    let new = item(hash, "v1-new");
    let out = iii::write(&state, &save(None, r#"{"id":"v1-new"}"#, &new))
        .await
        .unwrap();
    assert!(matches!(out, WriteOutcome::Saved));
    check_event(
        &next_event(&mut messages).await,
        "create",
        "v1-new",
        serde_json::json!({"id":"v1-new"}),
    );

    // A delete: `delete` with the value removed.
    let out = iii::write(
        &state,
        &WriteOp::Unlink {
            full_keys: vec![name.clone()],
        },
    )
    .await
    .unwrap();
    assert!(matches!(out, WriteOutcome::Unlinked(1)));
    check_event(
        &next_event(&mut messages).await,
        "delete",
        "v1-bad-1",
        serde_json::json!({"id":"v1-bad-1","status":"retried"}),
    );
    assert_eq!(server.cli(&["HGET", hash, "v1-bad-1"]), "");

    // Stream items have no TTL here; refused before anything is written.
    let err = iii::write(
        &state,
        &WriteOp::Expire {
            full_keys: vec![new.clone()],
            expiry: motia_state::Expiry::Persist,
        },
    )
    .await
    .unwrap_err();
    assert!(err.contains("stream items have no TTL"), "{err}");
    // No scope was written by any of it.
    assert_eq!(server.cli(&["EXISTS", "state:orderStatus"]), "0");
}
