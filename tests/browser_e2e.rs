//! End-to-end: the real binary in a tmux terminal against a private redis-server. Keys go in
//! with `tmux send-keys`, the screen comes back with `tmux capture-pane`, and every check polls
//! with a deadline.

mod common;

use common::RedisServer;
use common::term::Term;

fn seed(server: &RedisServer) {
    server.set_raw(
        "motia:state:trace-a:order",
        r#"{"id":7,"status":"paid","items":[{"sku":"A1","qty":2}]}"#,
    );
    server.set_raw("motia:state:trace-a:user:1:name", r#""Ada""#);
    server.set_raw("motia:state:trace-a:user:2:name", r#""Grace""#);
    server.set_raw("motia:state:trace-b:note", "plain text, not JSON");
    server.set_raw("motia:state:trace-c:count", "42");
    server.set_raw("other:key", "not under the prefix");
}

#[test]
fn traces_keys_and_values_appear() {
    let server = RedisServer::start();
    seed(&server);
    let t = Term::start("browse", &server.url(), "", None);
    let s = t.wait_for("done");
    assert!(s.contains("Traces (3)"), "{s}");
    assert!(s.contains("trace-a") && s.contains("trace-b") && s.contains("trace-c"));
    assert!(!s.contains("other:key"));
    assert!(
        s.contains("keys 5 · traces 3"),
        "the index, not DBSIZE: {s}"
    );
    // The first trace's keys show as a tree; the first key's value loads.
    let s = t.wait_for("Keys · trace-a (3)");
    assert!(s.contains("▾ user: (2)"), "{s}");
    t.wait_for("\"status\": \"paid\"");
    // Type and size come from the pipelined metadata of the rows on screen.
    t.wait("the type column", |s| {
        s.contains("object") && s.contains("55B")
    });
    // A TTL set by the app appears with the refresh and counts down.
    server.cli(&["EXPIRE", "motia:state:trace-a:order", "500"]);
    t.wait_for("TTL 8m");
    // Open the trace, move onto a nested key: its value replaces the previous one.
    t.keys(&["Enter", "j", "j", "j"]);
    t.wait_for("\"Ada\"");
    // The non-JSON value of trace-b, shown as text with a note.
    t.keys(&["h", "j"]);
    t.wait_for("Keys · trace-b (1)");
    t.wait_for("plain text, not JSON");
    t.wait("the raw type", |s| s.contains(" raw "));
    t.wait_for("shown as text");
    t.keys(&["q"]);
    t.wait("the browser to quit", |s| !s.contains("Traces ("));
}

#[test]
fn filter_help_and_rescan() {
    let server = RedisServer::start();
    seed(&server);
    let t = Term::start("filter", &server.url(), "", None);
    t.wait_for("done");
    t.keys(&["/", "-c"]);
    t.wait_for("Traces (1/3)");
    t.wait_for("Keys · trace-c");
    t.keys(&["Escape"]);
    t.wait_for("Traces (3)");
    t.keys(&["?"]);
    t.wait_for("Help · Esc closes");
    t.keys(&["Escape"]);
    t.wait("help to close", |s| !s.contains("Help · Esc"));
    // New trace written by "the app": r picks it up without losing the selection.
    server.set_raw("motia:state:trace-d:k", "1");
    t.keys(&["r"]);
    let s = t.wait_for("trace-d");
    assert!(s.contains("Keys · trace-c"), "selection kept: {s}");
}

#[test]
fn live_refresh_shows_changes_and_removes_vanished_keys() {
    let server = RedisServer::start();
    seed(&server);
    let t = Term::start("live", &server.url(), "", None);
    t.wait_for("\"status\": \"paid\"");
    server.set_raw(
        "motia:state:trace-a:order",
        r#"{"id":7,"status":"shipped","items":[]}"#,
    );
    t.wait_for("\"status\": \"shipped\"");
    server.cli(&["DEL", "motia:state:trace-a:user:2:name"]);
    t.wait("the deleted key to go", |s| {
        s.contains("Keys · trace-a (2)") && !s.contains("Grace")
    });
}

#[test]
fn a_server_restart_is_survived() {
    let mut server = RedisServer::start();
    seed(&server);
    let t = Term::start("restart", &server.url(), "", None);
    t.wait_for("done");
    t.wait_for("\"status\": \"paid\"");
    server.stop();
    let s = t.wait_for("disconnected from");
    assert!(
        s.contains("trace-a") && s.contains("\"status\": \"paid\""),
        "the screen keeps what it had: {s}"
    );
    server.restart();
    t.wait("reconnected", |_| t.status_line().starts_with("● "));
    // The restarted server is empty; what the app writes now shows after a rescan.
    server.set_raw("motia:state:trace-new:k", r#"{"fresh":true}"#);
    t.keys(&["r"]);
    t.wait_for("trace-new");
    t.wait("the old traces to go", |s| !s.contains("trace-b"));
    t.keys(&["g"]);
    t.wait_for("\"fresh\": true");
}

#[test]
fn an_unreachable_server_at_start_is_retried() {
    let mut server = RedisServer::start();
    server.stop();
    let t = Term::start("unreachable", &server.url(), "", None);
    let s = t.wait_for("connecting to");
    assert!(s.contains("Traces (0)"), "the browser opens anyway: {s}");
    t.wait_for("refused");
    server.restart();
    seed(&server);
    t.wait_for("Traces (3)");
    t.wait_for("done");
}

#[test]
fn a_bad_config_file_is_reported_before_the_screen_is_taken() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("config/motia-state");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.toml"), "[keys]\nquit = [\"Hyper-q\"]\n").unwrap();
    let out = common::motia_state()
        .args(["--url", "redis://127.0.0.1:1"])
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_STATE_HOME", home.path().join("state"))
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let path = dir.join("config.toml");
    assert!(err.contains(&*path.to_string_lossy()), "{err}");
    assert!(err.contains("quit: unknown key \"Hyper-q\""), "{err}");
    // Nothing was drawn: no alternate screen escape on stdout.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("\x1b[?1049h"));
}
