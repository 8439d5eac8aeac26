//! End-to-end writes from the browser: the real binary in a tmux terminal against a private
//! redis-server. Keys go in with `tmux send-keys`, the screen comes back with
//! `tmux capture-pane`, Redis is checked with redis-cli, and every check polls with a deadline.

mod common;

use std::process::Command;

use common::RedisServer;
use common::term::{DEADLINE, Term};

const ORDER: &str = "motia:state:trace-a:order";
const ORDER_JSON: &str = r#"{"id":7,"status":"paid","items":[{"sku":"A1","qty":2}]}"#;

/// Polls Redis until `pred` holds for `redis-cli args`; panics with the last answer.
fn wait_redis(server: &RedisServer, args: &[&str], pred: impl Fn(&str) -> bool) -> String {
    common::poll_for(&format!("redis-cli {args:?}"), DEADLINE, || {
        let out = server.try_cli(args)?;
        if pred(&out) {
            Ok(out)
        } else {
            Err(format!("the answer {out:?}"))
        }
    })
}

fn seed(server: &RedisServer) {
    server.set_raw(ORDER, ORDER_JSON);
    server.set_raw("motia:state:trace-a:user:1:name", r#""Ada""#);
    server.set_raw("motia:state:trace-a:user:2:name", r#""Grace""#);
    server.set_raw("motia:state:trace-b:note", "plain text, not JSON");
    server.set_raw("motia:state:trace-c:count", "42");
}

/// Browser open on trace-a's `order`, its value shown, focus on the Keys pane.
fn open_on_order(name: &str, server: &RedisServer, args: &str, editor: Option<&str>) -> Term {
    let t = Term::start(name, &server.url(), args, editor);
    t.wait_for("\"status\": \"paid\"");
    t.keys(&["Enter"]);
    // The Keys pane's hints (no sort; with --read-only no edit either).
    t.wait("the Keys pane focused", |s| {
        s.contains("Enter open") && !s.contains("s sort")
    });
    t
}

#[test]
fn edit_and_save_is_compact_and_keeps_the_ttl_and_bad_json_is_refused() {
    let server = RedisServer::start();
    seed(&server);
    server.cli(&["EXPIRE", ORDER, "1000"]);
    let t = open_on_order("save", &server, "", None);
    t.keys(&["e"]);
    t.wait_for("Edit trace-a:order");
    // Invalid JSON: the error names line and column, nothing is written, the text stays.
    t.type_text("x");
    t.keys(&["C-s"]);
    t.wait_for("not saved: invalid JSON at line 1, column 1");
    assert_eq!(server.cli(&["GET", ORDER]), ORDER_JSON);
    assert!(t.screen().contains("x{"));
    // Fix it and change the id: line 2 is `  "id": 7,`.
    t.keys(&["BSpace", "Down", "End", "BSpace", "BSpace"]);
    t.type_text("8,");
    t.keys(&["C-s"]);
    t.wait_for("save trace-a:order: done");
    assert_eq!(
        server.cli(&["GET", ORDER]),
        r#"{"id":8,"status":"paid","items":[{"sku":"A1","qty":2}]}"#
    );
    let ttl: i64 = server.cli(&["TTL", ORDER]).parse().unwrap();
    assert!(ttl > 900 && ttl <= 1000, "TTL kept: {ttl}");
    // The editor closed and the Value pane shows the saved value.
    t.wait_for("\"id\": 8");
}

#[test]
fn a_concurrent_write_is_detected_and_nothing_is_lost() {
    let server = RedisServer::start();
    seed(&server);
    let t = open_on_order("conflict", &server, "--refresh 0", None);
    t.keys(&["e"]);
    t.wait_for("Edit trace-a:order");
    t.keys(&["Down", "End", "BSpace", "BSpace"]);
    t.type_text("9,");
    // The app writes while the editor is open.
    let theirs = r#"{"id":7,"status":"shipped","items":[]}"#;
    server.set_raw(ORDER, theirs);
    t.keys(&["C-s"]);
    t.wait_for("The value changed since it was loaded; nothing was written.");
    assert_eq!(server.cli(&["GET", ORDER]), theirs, "their write is intact");
    // Show their value, go back to the edited text (kept), then save over what was seen.
    t.keys(&["s"]);
    t.wait("their value", |s| {
        s.contains("Value now in Redis") && s.contains("\"shipped\"")
    });
    t.keys(&["Escape"]);
    t.wait("the edited text", |s| {
        s.contains("\"id\": 9,") && s.contains("Ctrl-S now replaces")
    });
    t.keys(&["C-s"]);
    t.wait_for("save trace-a:order: done");
    assert_eq!(
        server.cli(&["GET", ORDER]),
        r#"{"id":9,"status":"paid","items":[{"sku":"A1","qty":2}]}"#
    );
}

#[test]
fn external_editor_flow_with_a_scripted_editor() {
    let server = RedisServer::start();
    seed(&server);
    server.cli(&["EXPIRE", ORDER, "1000"]);
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("editor.sh");
    // Rewrites the file it is given, the way a user would in vi.
    std::fs::write(
        &script,
        "#!/bin/sh\nsed 's/\"paid\"/\"refunded\"/' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"\n",
    )
    .unwrap();
    Command::new("chmod")
        .args(["+x", &script.to_string_lossy()])
        .status()
        .unwrap();
    let t = open_on_order("external", &server, "", Some(&script.to_string_lossy()));
    t.keys(&["E"]);
    t.wait_for("save trace-a:order: done");
    assert_eq!(
        server.cli(&["GET", ORDER]),
        r#"{"id":7,"status":"refunded","items":[{"sku":"A1","qty":2}]}"#
    );
    let ttl: i64 = server.cli(&["TTL", ORDER]).parse().unwrap();
    assert!(ttl > 900, "TTL kept: {ttl}");
    // The screen is drawn again in full and takes keys again.
    t.wait("a full redraw", |s| {
        s.contains("Traces (3)") && s.contains("\"refunded\"")
    });
    t.keys(&["?"]);
    t.wait("the help", |s| {
        s.contains("┌ Help · ") && s.contains("Esc closes")
    });
}

#[test]
fn ttl_is_set_and_removed_and_a_bad_duration_changes_nothing() {
    let server = RedisServer::start();
    seed(&server);
    let t = open_on_order("ttl", &server, "", None);
    t.keys(&["t"]);
    t.wait_for("TTL for trace-a:order");
    t.type_text("soon");
    t.keys(&["Enter"]);
    t.wait_for("nothing was changed");
    assert_eq!(server.cli(&["TTL", ORDER]), "-1");
    // The prompt stays open with "soon"; Esc leaves it.
    t.keys(&["Escape"]);
    t.wait("the prompt closed", |s| {
        !s.contains("TTL for trace-a:order")
    });
    t.keys(&["t"]);
    t.type_text("10m");
    t.keys(&["Enter"]);
    wait_redis(&server, &["TTL", ORDER], |s| {
        s.parse::<i64>().is_ok_and(|n| n > 590 && n <= 600)
    });
    t.wait("the TTL shown", |s| {
        s.contains("TTL 10m") || s.contains("TTL 9m")
    });
    // The command line does the same; :persist removes it.
    t.keys(&[":"]);
    t.type_text("pers");
    t.keys(&["Tab", "Enter"]);
    wait_redis(&server, &["TTL", ORDER], |s| s == "-1");
    t.wait_for("no TTL");
    // On the Traces pane, t applies to every key of the trace after a confirmation.
    t.keys(&["h", "t"]);
    t.type_text("1h");
    t.keys(&["Enter"]);
    t.wait_for("every key of trace trace-a (3 keys)?");
    t.keys(&["y"]);
    wait_redis(&server, &["TTL", "motia:state:trace-a:user:2:name"], |s| {
        s.parse::<i64>().is_ok_and(|n| n > 3500)
    });
    assert_eq!(server.cli(&["TTL", "motia:state:trace-b:note"]), "-1");
}

#[test]
fn delete_and_clear_update_the_screen_without_a_rescan() {
    let server = RedisServer::start();
    seed(&server);
    let t = open_on_order("delete", &server, "", None);
    t.keys(&["d"]);
    t.wait_for("Delete key order of trace trace-a?");
    t.keys(&["n"]);
    t.wait_for("cancelled");
    assert_eq!(server.cli(&["EXISTS", ORDER]), "1");
    t.keys(&["d"]);
    t.wait_for("Delete key order of trace trace-a?");
    t.keys(&["y"]);
    t.wait_for("Keys · trace-a (2)");
    assert_eq!(server.cli(&["EXISTS", ORDER]), "0");
    t.keys(&["h", "D"]);
    t.wait_for("Clear trace trace-a: delete all 2 keys?");
    t.keys(&["y"]);
    t.wait("trace-a to go", |s| {
        s.contains("Traces (2)") && !s.contains("trace-a")
    });
    assert_eq!(server.cli(&["KEYS", "motia:state:trace-a:*"]), "");
    assert_eq!(server.cli(&["EXISTS", "motia:state:trace-b:note"]), "1");
}

#[test]
fn read_only_refuses_writes_and_changes_nothing() {
    let server = RedisServer::start();
    seed(&server);
    let t = open_on_order("readonly", &server, "--read-only", None);
    assert!(t.screen().contains("READ-ONLY"));
    t.keys(&["e"]);
    t.wait_for("read-only mode: editing refused, nothing was sent to Redis");
    t.keys(&["d"]);
    t.wait_for("read-only mode: deleting refused");
    t.keys(&["t"]);
    t.wait_for("read-only mode: changing a TTL refused");
    t.keys(&[":"]);
    t.type_text("clear");
    t.keys(&["Enter"]);
    t.wait_for("read-only mode: clearing a trace refused");
    t.keys(&["?"]);
    t.wait_for("(writes: off, read-only)");
    assert_eq!(server.cli(&["GET", ORDER]), ORDER_JSON);
    assert_eq!(server.cli(&["DBSIZE"]), "5");
    assert_eq!(server.cli(&["TTL", ORDER]), "-1");
}

#[test]
fn export_all_and_import_from_the_command_line() {
    let server = RedisServer::start();
    seed(&server);
    server.cli(&["EXPIRE", ORDER, "1000"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("all.json");
    let file_str = file.to_string_lossy().to_string();
    let t = open_on_order("export", &server, "--refresh 0", None);
    t.keys(&[":"]);
    t.type_text(&format!("export-all {file_str}"));
    t.keys(&["Enter"]);
    t.wait_for("5 items written");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(doc["format"], "motia-state-export");
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items.len(), 5, "every trace: {doc}");
    assert!(items.iter().any(|i| i["raw"] == "plain text, not JSON"));

    // Importing over existing keys is refused and writes nothing.
    server.set_raw(ORDER, r#""changed""#);
    t.keys(&[":"]);
    t.type_text(&format!("import {file_str}"));
    t.keys(&["Enter"]);
    t.wait_for("exist already");
    assert_eq!(server.cli(&["GET", ORDER]), r#""changed""#);

    // Into an empty database it restores every item, TTL included, and the screen shows them.
    server.cli(&["FLUSHALL"]);
    t.keys(&["x"]);
    t.keys(&[":"]);
    t.type_text(&format!("import {file_str}"));
    t.keys(&["Enter"]);
    wait_redis(&server, &["DBSIZE"], |s| s == "5");
    assert_eq!(server.cli(&["GET", ORDER]), ORDER_JSON);
    let ttl: i64 = server.cli(&["TTL", ORDER]).parse().unwrap();
    assert!(ttl > 900 && ttl <= 1000, "TTL restored: {ttl}");
    assert_eq!(
        server.cli(&["GET", "motia:state:trace-b:note"]),
        "plain text, not JSON"
    );
    t.wait_for("Traces (3)");

    // A file exported under another prefix: the browser says so and writes only after `y`.
    let mut other = doc.clone();
    other["prefix"] = "app:".into();
    let other_file = dir.path().join("other.json");
    std::fs::write(&other_file, other.to_string()).unwrap();
    server.cli(&["FLUSHALL"]);
    for answer in ["n", "y"] {
        t.keys(&[":"]);
        t.type_text(&format!("import {}", other_file.to_string_lossy()));
        t.keys(&["Enter"]);
        t.wait_for("exported under the prefix \"app:\"");
        assert_eq!(server.cli(&["DBSIZE"]), "0", "nothing written before `y`");
        t.keys(&[answer]);
        t.wait("the question to close", |s| {
            !s.contains("exported under the prefix")
        });
    }
    wait_redis(&server, &["DBSIZE"], |s| s == "5");
    assert_eq!(server.cli(&["GET", ORDER]), ORDER_JSON);
}
