//! End-to-end: the real binary in a tmux terminal against a private redis-server. Keys go in
//! with `tmux send-keys`, the screen comes back with `tmux capture-pane`, and every check polls
//! with a deadline.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::RedisServer;

const DEADLINE: Duration = Duration::from_secs(20);

/// A tmux server of its own (unique socket) running the browser; killed on drop.
struct Term {
    socket: String,
    _home: tempfile::TempDir,
}

impl Term {
    fn start(name: &str, url: &str) -> Self {
        let home = tempfile::tempdir().unwrap();
        let socket = format!("motia-e2e-{name}-{}", std::process::id());
        let bin = env!("CARGO_BIN_EXE_motia-state");
        // Own config and state directories: no user keymap, logs stay in the temp dir.
        let cmd = format!(
            "env XDG_CONFIG_HOME={h}/config XDG_STATE_HOME={h}/state HOME={h} {bin} --url {url}; sleep 60",
            h = home.path().display()
        );
        let ok = Command::new("tmux")
            .args([
                "-L",
                &socket,
                "new-session",
                "-d",
                "-s",
                "t",
                "-x",
                "150",
                "-y",
                "40",
                &cmd,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        Self {
            socket,
            _home: home,
        }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            let ok = Command::new("tmux")
                .args(["-L", &self.socket, "send-keys", "-t", "t", "--", k])
                .status()
                .unwrap()
                .success();
            assert!(ok, "tmux send-keys {k}");
        }
    }

    /// Polls until `pred` holds for the screen; panics with the last screen at the deadline.
    fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + DEADLINE;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > end {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait(&format!("{text:?}"), |s| s.contains(text))
    }

    fn status_line(&self) -> String {
        let s = self.screen();
        let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
        lines.iter().rev().nth(1).unwrap_or(&"").to_string()
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

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
    let t = Term::start("browse", &server.url());
    let s = t.wait_for("done");
    assert!(s.contains("Traces (3)"), "{s}");
    assert!(s.contains("trace-a") && s.contains("trace-b") && s.contains("trace-c"));
    assert!(!s.contains("other:key"));
    assert!(s.contains("keys 5 of 6"), "progress against DBSIZE: {s}");
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
    let t = Term::start("filter", &server.url());
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
    let t = Term::start("live", &server.url());
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
    let t = Term::start("restart", &server.url());
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
    let t = Term::start("unreachable", &server.url());
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
    let out = Command::new(env!("CARGO_BIN_EXE_motia-state"))
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
