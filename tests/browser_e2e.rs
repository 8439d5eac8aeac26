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
    t.wait("the help", |s| {
        s.contains("┌ Help · ") && s.contains("Esc closes")
    });
    t.keys(&["Escape"]);
    t.wait("help to close", |s| !s.contains("┌ Help · "));
    // New trace written by "the app": r picks it up without losing the selection.
    server.set_raw("motia:state:trace-d:k", "1");
    t.keys(&["r"]);
    let s = t.wait_for("trace-d");
    assert!(s.contains("Keys · trace-c"), "selection kept: {s}");
    // A big trace (60 keys in folders) starts folded; + expands all, - folds back onto the
    // folder that holds the selected key.
    let mut mset = vec!["MSET".to_string()];
    for i in 0..30 {
        for k in [format!("step:{i}:input"), format!("user:{i}:name")] {
            mset.push(format!("motia:state:trace-big:{k}"));
            mset.push("1".into());
        }
    }
    server.cli(&mset.iter().map(String::as_str).collect::<Vec<_>>());
    t.keys(&["r"]);
    t.wait_for("trace-big");
    t.keys(&["/", "-big", "Enter", "Enter"]);
    t.wait_for("Keys · trace-big (60)");
    t.wait("folded folders", |s| {
        s.contains("▸ step: (30)") && s.contains("▸ user: (30)") && !s.contains("input")
    });
    t.wait_for("- collapse · + expand");
    t.keys(&["+"]);
    t.wait("expanded folders", |s| {
        s.contains("▾ step: (30)") && s.contains("input")
    });
    t.keys(&["j", "j"]);
    t.wait("the value of step:0:input", |s| {
        s.contains("step:0:input") && s.contains("number")
    });
    t.keys(&["-"]);
    t.wait("folded again", |s| {
        s.contains("▸ step: (30)") && !s.contains("input")
    });
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

/// The line of `screen` holding `needle`.
fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen.lines().find(|l| l.contains(needle)).unwrap_or("")
}

#[test]
fn odd_names_in_a_80x24_terminal_and_smaller() {
    let server = RedisServer::start();
    let text = format!("\"{}\"", "日本語のテキスト🎉".repeat(20));
    for (key, value) in [
        (
            "motia:state:order-1001-f34dad:payment:attempt:1",
            r#"{"amount":1200}"#,
        ),
        ("motia:state:注文-1:合計", r#"{"total":1200}"#),
        ("motia:state:注文-1:emoji🎉key", r#""party""#),
        ("motia:state:注文-1:text", text.as_str()),
        (
            "motia:state:evil\x1b[41mRED:k",
            "raw\x1b[31m red\r\nline two",
        ),
        ("motia:state:new\nline:k", "1"),
    ] {
        server.set_raw(key, value);
    }
    server.cli(&["EXPIRE", "motia:state:注文-1:emoji🎉key", "5000"]);
    let t = Term::start_sized(
        "edges",
        &server.url(),
        "--prefix motia:state:",
        None,
        (80, 24),
    );
    let s = t.wait_for("done");
    // Names reach the terminal escaped, not as escape sequences or line breaks.
    assert!(s.contains("evil\\x1b[41mRED"), "{s}");
    assert!(s.contains("new\\nline"), "{s}");
    assert!(
        line_with(&s, "? help")
            .trim_end()
            .ends_with("? help · q quit"),
        "{s}"
    );
    // The value of the evil trace (the first): control characters visible, the line break kept.
    let s = t.wait_for("raw\\x1b[31m red\\r");
    assert!(s.contains("line two"), "{s}");
    // A CJK trace keeps its key count, an emoji key its TTL.
    t.keys(&["G"]);
    let s = t.wait_for("Keys · 注文-1 (3)");
    assert!(line_with(&s, "│注文-1 ").contains(" 3│"), "{s}");
    let s = t.wait("the TTL of the emoji key", |s| {
        line_with(s, "  emoji🎉key").contains("1h 23m│")
    });
    assert!(line_with(&s, "合計").contains("object"), "{s}");
    // Wrapped, the CJK text keeps every character at the line breaks.
    t.keys(&["Enter", "j", "l", "w"]);
    // 20 party poppers in the value, 1 in the key.
    let s = t.wait("all of the wrapped value", |s| {
        s.matches('🎉').count() == 21
    });
    assert!(s.contains("│🎉\" "), "{s}");
    // Smaller: two panes, then one line; back to 80x24 as it was.
    t.resize((60, 15));
    // The whole frame: tmux can be read while the footer is still being written.
    t.wait("two panes and the footer", |s| {
        !s.contains("Traces (") && s.contains("Keys · ") && s.contains("? help · q quit")
    });
    t.resize((39, 10));
    t.wait_for("terminal too small: 39x10 (needs 40x8)");
    t.resize((80, 24));
    t.wait_for("Traces (4)");
    t.keys(&["q"]);
    t.wait("the browser to quit", |s| !s.contains("Traces ("));
}

/// `demo --static` shows its fixed set as of the set's own time, as the README's screenshots
/// do, rather than with ages counted from today (years).
#[test]
fn demo_static_shows_the_fixed_set_as_of_its_own_time() {
    let t = Term::start("demo-static", "", "demo --static", None);
    let screen = t.wait_for("MRP58-0540717 failed · 3 retries");
    assert!(
        screen
            .lines()
            .any(|l| l.contains("MRP58-0540717 failed · 3 retries") && l.contains(" 1h Create")),
        "the failed flow started an hour before the set's end:\n{screen}"
    );
    t.keys(&["j", "j", "T"]);
    t.wait_for("Timeline MRP58-0540717");
    t.wait_for("(1h ago) · 6 steps");
}
