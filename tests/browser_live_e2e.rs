//! End-to-end live mode: the real binary in tmux against private servers whose keyspace
//! notification setting each test chooses. Writes come from redis-cli; no key is pressed to
//! make them show (the periodic re-read is off with `--refresh 0`, so only notifications can).

mod common;

use common::RedisServer;
use common::term::Term;

fn setting(server: &RedisServer) -> String {
    let out = server.cli(&["CONFIG", "GET", "notify-keyspace-events"]);
    out.lines().nth(1).unwrap_or_default().to_string()
}

fn seed(server: &RedisServer) {
    server.set_raw("motia:state:trace-a:order", r#"{"id":7,"status":"new"}"#);
    server.set_raw("motia:state:trace-a:payment", r#"{"amount":5}"#);
    server.set_raw("motia:state:trace-b:note", "1");
}

#[test]
fn writes_deletes_and_expiries_show_without_a_key_press() {
    let server = RedisServer::start_with(&["--notify-keyspace-events", "K$gx"]);
    seed(&server);
    let t = Term::start("live-follow", &server.url(), "--refresh 0", None);
    t.wait_for("done");
    t.wait_for("· live");
    // A new trace written by the app appears by itself.
    server.set_raw("motia:state:trace-new:step", "1");
    t.wait_for("trace-new");
    // The open value changes in front of the user, the changed line marked.
    t.wait_for("\"status\": \"new\"");
    server.set_raw("motia:state:trace-a:order", r#"{"id":7,"status":"paid"}"#);
    let s = t.wait_for("\"status\": \"paid\"");
    assert!(s.contains("changed just now: 1 line marked"), "{s}");
    t.keys(&["="]);
    t.wait_for("diff with the previous version: +1 -1");
    t.keys(&["="]);
    // A deleted key goes (marked gone first), an expiring key goes when it expires.
    server.cli(&["DEL", "motia:state:trace-a:payment"]);
    t.wait("payment to go", |s| !s.contains("payment"));
    server.cli(&["PEXPIRE", "motia:state:trace-b:note", "300"]);
    t.wait("trace-b to go", |s| !s.contains("trace-b"));
    // Follow: the next new trace is selected with its last written key.
    t.keys(&["F"]);
    t.wait_for("· follow");
    server.set_raw("motia:state:trace-z:first", "1");
    server.set_raw("motia:state:trace-z:second", "2");
    t.wait_for("Keys · trace-z (2)");
    t.wait_for("Value trace-z:second");
    // A manual move ends following.
    t.keys(&["k"]);
    t.wait("follow to end", |s| !s.contains("· follow"));
    t.keys(&["q"]);
}

#[test]
fn live_on_asks_then_adds_flags_and_live_off_and_quitting_restore_them() {
    let server = RedisServer::start();
    server.cli(&["CONFIG", "SET", "notify-keyspace-events", "Elm"]);
    let before = setting(&server);
    seed(&server);
    let t = Term::start("live-on", &server.url(), "--refresh 0", None);
    t.wait_for("done");
    t.wait_for("· polling");
    t.keys(&[":"]);
    t.type_text("live on");
    t.keys(&["Enter"]);
    let s = t.wait_for("Live mode: switch on keyspace notifications");
    assert!(s.contains("to \"lEmK$gxeh\""), "{s}");
    assert_eq!(
        setting(&server),
        before,
        "nothing changes before the answer"
    );
    t.keys(&["y"]);
    t.wait_for("· live");
    let during = setting(&server);
    for flag in ["K", "$", "g", "x", "E", "l", "m"] {
        assert!(during.contains(flag), "{flag} in {during}");
    }
    server.set_raw("motia:state:trace-new:k", "1");
    t.wait_for("trace-new");
    t.keys(&[":"]);
    t.type_text("live off");
    t.keys(&["Enter"]);
    t.wait_for("· polling");
    assert_eq!(setting(&server), before);
    // Switched on again and left by quitting: restored too.
    t.keys(&[":"]);
    t.type_text("live on");
    t.keys(&["Enter"]);
    t.wait_for("Live mode: switch on");
    t.keys(&["y"]);
    t.wait_for("· live");
    t.keys(&["q"]);
    t.wait("the browser to quit", |s| !s.contains("Traces ("));
    common::poll_for("the setting to be restored", common::POLL_LIMIT, || {
        let now = server.try_cli(&["CONFIG", "GET", "notify-keyspace-events"])?;
        let now = now.lines().nth(1).unwrap_or_default().to_string();
        if now == before {
            Ok(())
        } else {
            Err(format!("notify-keyspace-events {now:?}, not {before:?}"))
        }
    });
}

#[test]
fn read_only_refuses_live_on() {
    let server = RedisServer::start();
    seed(&server);
    let t = Term::start("live-ro", &server.url(), "--read-only", None);
    t.wait_for("done");
    t.wait_for("· polling");
    t.keys(&[":"]);
    t.type_text("live on");
    t.keys(&["Enter"]);
    t.wait_for("read-only mode: :live on");
    t.keys(&[":"]);
    t.type_text("live off");
    t.keys(&["Enter"]);
    t.wait_for("read-only mode: :live off");
    assert_eq!(setting(&server), "");
}

#[test]
fn a_server_restart_while_live_resynchronises() {
    let mut server = RedisServer::start_with(&["--notify-keyspace-events", "K$gx"]);
    seed(&server);
    let t = Term::start("live-restart", &server.url(), "--refresh 0", None);
    t.wait_for("done");
    t.wait_for("· live");
    server.restart();
    // The restarted server is empty (nothing persisted) and gets new state. (The loss itself
    // may be too short to catch on screen; the old traces going without any event shows
    // that a resynchronising scan ran.)
    server.set_raw("motia:state:trace-after:k", "1");
    let s = t.wait("the index to be resynchronised", |s| {
        s.contains("trace-after") && !s.contains("trace-a ") && !s.contains("trace-b")
    });
    assert!(s.contains("· live"), "{s}");
    server.set_raw("motia:state:trace-later:k", "1");
    t.wait_for("trace-later");
}
