//! The iii layout (Motia 1.x / iii engine: one `state:{scope}` hash per scope) through every
//! subcommand, on state written exactly as the engine writes it (`tests/common/iii.rs`).

mod common;

use common::run_on as run;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::iii::{ORDER_AFTER_UPDATE, engine_delete, engine_fixture, engine_set};
use common::{MOTIA_ENV, RedisServer, motia_state};
use serde_json::Value;

fn ok(s: &RedisServer, args: &[&str]) -> String {
    let (code, out, err) = run(s, args);
    assert_eq!(code, 0, "{args:?}: {err}");
    out
}

#[test]
fn detected_without_a_flag_and_every_read_shows_what_the_engine_stored() {
    let s = RedisServer::start();
    engine_fixture(&s);
    let (code, out, err) = run(&s, &["-v", "traces"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out, "misc\norders\npayments\n",
        "stream groups are not scopes"
    );
    assert!(
        err.contains("layout Motia 1.x / iii") && err.contains("state:* hashes exist"),
        "{err}"
    );
    assert_eq!(
        ok(&s, &["scopes", "--counts"]),
        "misc\t2\norders\t1\npayments\t1\n"
    );
    let json: Vec<Value> = ok(&s, &["scopes", "--json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json[0], serde_json::json!({"scope": "misc", "keys": 2}));
    assert_eq!(ok(&s, &["keys", "misc"]), "answer\ngreeting\n");
    // Exactly as stored: `\/`, `{}` for an emptied array, cjson's 14 digits, key order.
    assert_eq!(
        ok(&s, &["get", "orders", "v1-ok-1"]),
        format!("{ORDER_AFTER_UPDATE}\n")
    );
    assert_eq!(ok(&s, &["get", "payments", "v1-ok-1"]), "\"card\"\n");
    assert_eq!(ok(&s, &["get", "misc", "answer"]), "42\n");
    let items = ok(&s, &["items"]);
    assert!(
        items.contains(&format!(
            r#"{{"groupId":"orders","key":"v1-ok-1","type":"object","value":{ORDER_AFTER_UPDATE}}}"#
        )),
        "{items}"
    );
    assert_eq!(items.lines().count(), 4);
    let paid = ok(&s, &["items", "--filter", "status eq paid"]);
    assert_eq!(paid.lines().count(), 1, "{paid}");
    assert_eq!(ok(&s, &["items", "--trace", "misc"]).lines().count(), 2);
    // Missing things are status 1 and say scope.
    let (code, _, err) = run(&s, &["get", "misc", "nope"]);
    assert_eq!(code, 1);
    assert!(err.contains("no key \"nope\" in scope \"misc\""), "{err}");
    let (code, _, err) = run(&s, &["keys", "nope"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn writes_are_json_the_engine_reads_back_and_bad_input_changes_nothing() {
    let s = RedisServer::start();
    engine_fixture(&s);
    ok(
        &s,
        &["set", "carts", "c-1", r#"{"items": [1, 2], "note": "x/y"}"#],
    );
    let stored = s.cli(&["HGET", "state:carts", "c-1"]);
    assert_eq!(stored, r#"{"items":[1,2],"note":"x/y"}"#);
    let parsed: Value = serde_json::from_str(&stored).expect("the engine's HGET + parse");
    assert_eq!(parsed["items"][1], 2);
    // Invalid JSON and read-only: nothing written, status 2.
    let (code, _, err) = run(&s, &["set", "carts", "c-2", "{bad"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&s, &["--read-only", "set", "carts", "c-2", "1"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = run(&s, &["--read-only", "clear", "carts"]);
    assert_eq!(code, 2);
    assert_eq!(s.cli(&["HEXISTS", "state:carts", "c-2"]), "0");
    // The engine sets no TTL: a write with one is refused.
    let (code, _, err) = run(&s, &["--ttl", "60", "set", "carts", "c-2", "1"]);
    assert_eq!(code, 2);
    assert!(err.contains("no TTL"), "{err}");
    // del prints the old value; the scope goes with its last field.
    assert_eq!(ok(&s, &["del", "carts", "c-1"]), format!("{stored}\n"));
    assert_eq!(s.cli(&["EXISTS", "state:carts"]), "0");
    let (code, _, _) = run(&s, &["del", "carts", "c-1"]);
    assert_eq!(code, 1);
    // clear removes the scope and counts its fields.
    assert_eq!(ok(&s, &["clear", "misc"]), "2\n");
    assert_eq!(s.cli(&["EXISTS", "state:misc"]), "0");
    let (code, _, _) = run(&s, &["clear", "misc"]);
    assert_eq!(code, 1);
    // An engine delete of the last field removes the scope from the listing.
    engine_delete(&s, "payments", "v1-ok-1");
    assert_eq!(ok(&s, &["scopes"]), "orders\n");
}

#[test]
fn what_the_layout_does_not_have_is_said_with_status_2() {
    let s = RedisServer::start_redis(&[]);
    engine_fixture(&s);
    for (args, words) in [
        (&["trace", "t1"][..], "keeps no trace records"),
        (
            &["history", "orders", "v1-ok-1"][..],
            "keeps no trace records",
        ),
        (
            &["traces", "--status", "failed"][..],
            "keeps no trace records",
        ),
        (
            &["gc", "--older-than", "1d", "--delete"][..],
            "gc does not apply",
        ),
    ] {
        let (code, out, err) = run(&s, args);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert!(err.contains(words), "{args:?}: {err}");
    }
    // Redis 7.0 has no hash-field expiry.
    let version = s.cli(&["INFO", "server"]);
    if version.contains("redis_version:7.0") || version.contains("redis_version:6.") {
        for args in [
            &["ttl", "orders", "v1-ok-1"][..],
            &["expire", "orders", "v1-ok-1", "1h"][..],
        ] {
            let (code, _, err) = run(&s, args);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(
                err.contains("this layout has no expiry on this server"),
                "{err}"
            );
        }
    }
}

#[test]
fn both_layouts_or_one_asked_for_nothing_is_skipped_in_silence() {
    let s = RedisServer::start();
    engine_fixture(&s);
    // Asked for 0.x on a server with only iii state: empty, with a note.
    let (code, out, err) = run(&s, &["--layout", "motia", "traces"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.contains("--layout iii"), "{err}");
    // The environment variable picks it too.
    let out = motia_state()
        .env("MOTIA_STATE_LAYOUT", "iii")
        .args(["--url", &s.url(), "scopes"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "misc\norders\npayments\n"
    );
    // Both: 0.x, and a note naming --layout iii.
    s.set_raw("motia:state:t1:order", r#"{"id":1}"#);
    let (code, out, err) = run(&s, &["traces"]);
    assert_eq!((code, out.as_str()), (0, "t1\n"));
    assert!(err.contains("give --layout iii"), "{err}");
    assert_eq!(
        ok(&s, &["--layout", "iii", "scopes"]),
        "misc\norders\npayments\n"
    );
    let (code, _, err) = run(&s, &["--layout", "v9", "scopes"]);
    assert_eq!(code, 2);
    assert!(err.contains("expected motia or iii"), "{err}");
}

#[test]
fn export_records_the_layout_imports_exactly_and_refuses_the_other_layout() {
    let s = RedisServer::start();
    engine_fixture(&s);
    let doc = ok(&s, &["export"]);
    let v: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(v["layout"], "iii");
    assert!(doc.contains(ORDER_AFTER_UPDATE), "values as stored: {doc}");
    let file = s.dir().join("iii.json");
    std::fs::write(&file, &doc).unwrap();
    let path = file.to_str().unwrap();
    let t = RedisServer::start();
    t.cli(&["HSET", "state:seed", "k", "1"]);
    let out = ok(&t, &["import", path]);
    assert!(out.starts_with("imported 4 items in 3 scopes"), "{out}");
    assert_eq!(
        t.cli(&["HGET", "state:orders", "v1-ok-1"]),
        ORDER_AFTER_UPDATE
    );
    let (code, _, err) = run(&t, &["import", path]);
    assert_eq!(code, 2, "existing keys refuse without --overwrite: {err}");
    // A 0.x document into the iii layout, and the iii document into 0.x: refused, nothing written.
    let u = RedisServer::start();
    u.set_raw("motia:state:t1:order", r#"{"id":1}"#);
    let (code, _, err) = run(&u, &["import", path]);
    assert_eq!(code, 2);
    assert!(
        err.contains("importing across layouts is not supported"),
        "{err}"
    );
    let motia_doc = ok(&u, &["export"]);
    let mfile = s.dir().join("motia.json");
    std::fs::write(&mfile, motia_doc).unwrap();
    let (code, _, err) = run(&t, &["import", mfile.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--layout motia"), "{err}");
    assert_eq!(u.cli(&["KEYS", "state:*"]), "");
}

#[test]
fn stats_gives_fields_and_bytes_per_scope() {
    let s = RedisServer::start();
    engine_fixture(&s);
    let v: Value = serde_json::from_str(&ok(&s, &["stats", "--json"])).unwrap();
    assert_eq!(v["layout"], "iii");
    assert_eq!(
        (v["scopes"].as_u64(), v["fields"].as_u64()),
        (Some(3), Some(4))
    );
    assert_eq!(v["biggestScopes"][0]["scope"], "orders");
    assert_eq!(v["biggestFields"][0]["key"], "v1-ok-1");
    assert_eq!(
        (v["streamGroups"].as_u64(), v["streamItems"].as_u64()),
        (Some(1), Some(1))
    );
    let table = ok(&s, &["stats"]);
    assert!(table.contains("4 keys in 3 scopes"), "{table}");
}

#[test]
fn a_scope_of_100000_fields_is_listed_in_pages() {
    let s = RedisServer::start();
    let mut script = String::new();
    for i in 0..100_000 {
        script.push_str(&format!("HSET state:big k{i:06} {i}\n"));
    }
    s.load(&script);
    engine_set(&s, "small", "a", "1");
    assert_eq!(ok(&s, &["scopes", "--counts"]), "big\t100000\nsmall\t1\n");
    let keys = ok(&s, &["keys", "big"]);
    assert_eq!(keys.lines().count(), 100_000);
    assert_eq!(keys.lines().next(), Some("k000000"));
    assert_eq!(ok(&s, &["get", "big", "k099999"]), "99999\n");
    assert_eq!(
        ok(&s, &["items", "--trace", "big"]).lines().count(),
        100_000
    );
}

#[test]
fn watch_prints_one_line_per_changed_field_from_hash_events() {
    let s = RedisServer::start();
    engine_fixture(&s);
    // Without the h flag, watch says what it needs.
    let (code, _, err) = run(&s, &["watch"]);
    assert_eq!(code, 2);
    assert!(err.contains("needs K and h"), "{err}");
    s.cli(&["CONFIG", "SET", "notify-keyspace-events", "Kh"]);
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("motia-state"));
    for v in MOTIA_ENV {
        cmd.env_remove(v);
    }
    let mut child = cmd
        .args(["--url", &s.url(), "watch", "--values"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                break;
            }
        }
    });
    // The watcher reads every scope once it listens: a change shows once both are done.
    let mut n = 0;
    let first = common::poll_for("watch to report a change", common::POLL_LIMIT, || {
        n += 1;
        engine_set(&s, "warmup", "w", &n.to_string());
        lines
            .recv_timeout(Duration::from_millis(200))
            .map_err(|e| e.to_string())
    });
    assert_eq!(
        (first["scope"].as_str(), first["key"].as_str()),
        (Some("warmup"), Some("w"))
    );
    while lines.recv_timeout(Duration::from_millis(300)).is_ok() {}
    engine_set(&s, "misc", "answer", "43");
    engine_delete(&s, "misc", "greeting");
    let a = lines.recv_timeout(common::POLL_LIMIT).unwrap();
    let b = lines.recv_timeout(common::POLL_LIMIT).unwrap();
    assert_eq!(
        (&a["scope"], &a["key"], &a["event"], &a["value"]),
        (&"misc".into(), &"answer".into(), &"set".into(), &43.into())
    );
    assert_eq!(
        (&b["scope"], &b["key"], &b["event"]),
        (&"misc".into(), &"greeting".into(), &"del".into())
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs the binary against `s` with the journal in `journal`; (status, stdout, stderr).
fn run_j(s: &RedisServer, journal: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    common::output(
        motia_state()
            .env("MOTIA_STATE_JOURNAL", journal)
            .args(["--url", &s.url()])
            .args(args),
    )
}

#[test]
fn iii_writes_are_journalled_by_field_and_undo_restores_them_compare_and_set() {
    let s = RedisServer::start();
    engine_fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| {
        let (code, out, err) = run_j(&s, dir.path(), args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    };
    // set: the field's before-image, then undo puts the old text back.
    ok(&["set", "misc", "answer", "43"]);
    assert_eq!(s.cli(&["HGET", "state:misc", "answer"]), "43");
    let listed = ok(&["journal", "--json"]);
    let entry: Value = serde_json::from_str(listed.lines().last().unwrap()).unwrap();
    assert_eq!(entry["operation"], "set");
    assert_eq!(entry["prefix"], "state:");
    assert_eq!(
        entry["keys"],
        serde_json::json!([{"key": "state:misc", "field": "answer"}])
    );
    assert!(
        ok(&["journal"]).contains("set\tmisc:answer"),
        "text listing"
    );
    let dry = ok(&["undo"]);
    assert!(
        dry.contains("restore misc:answer (field, no expiry)"),
        "{dry}"
    );
    assert_eq!(ok(&["undo", "--yes"]), "restored 1 key\n");
    assert_eq!(s.cli(&["HGET", "state:misc", "answer"]), "42");
    // A field the write created is deleted by the undo.
    ok(&["set", "misc", "fresh", "true"]);
    ok(&["undo", "--yes"]);
    assert_eq!(s.cli(&["HEXISTS", "state:misc", "fresh"]), "0");
    // del of a scope's last field: the scope comes back with it.
    ok(&["del", "payments", "v1-ok-1"]);
    assert_eq!(s.cli(&["EXISTS", "state:payments"]), "0");
    ok(&["undo", "--yes"]);
    assert_eq!(s.cli(&["HGET", "state:payments", "v1-ok-1"]), r#""card""#);
    // clear: every field back, exactly as stored.
    assert_eq!(ok(&["clear", "orders"]), "1\n");
    assert_eq!(ok(&["clear", "misc"]), "2\n");
    assert_eq!(ok(&["undo", "--yes"]), "restored 2 keys\n");
    assert_eq!(s.cli(&["HGET", "state:misc", "greeting"]), r#""hello""#);
    assert_eq!(s.cli(&["HGET", "state:misc", "answer"]), "42");
    ok(&["undo", "--yes"]);
    assert_eq!(
        s.cli(&["HGET", "state:orders", "v1-ok-1"]),
        ORDER_AFTER_UPDATE
    );
    // A field the engine changed after the write is a conflict, kept; the others are restored.
    ok(&["clear", "misc"]);
    engine_set(&s, "misc", "answer", "99");
    let out = ok(&["undo", "--yes"]);
    assert!(
        out.contains("restored 1 key")
            && out.contains("left 1 key as it is")
            && out.contains("misc:answer"),
        "{out}"
    );
    assert_eq!(s.cli(&["HGET", "state:misc", "answer"]), "99");
    assert_eq!(s.cli(&["HGET", "state:misc", "greeting"]), r#""hello""#);
    // An import --overwrite is journalled too: undo puts the replaced text back.
    let file = dir.path().join("doc.json");
    std::fs::write(
        &file,
        ok(&["export", "--trace", "misc"]).replace("99", "100"),
    )
    .unwrap();
    ok(&["import", file.to_str().unwrap(), "--overwrite"]);
    assert_eq!(s.cli(&["HGET", "state:misc", "answer"]), "100");
    ok(&["undo", "--yes"]);
    assert_eq!(s.cli(&["HGET", "state:misc", "answer"]), "99");
    // An undo is journalled: undoing it redoes the write.
    let undo_id = ok(&["journal", "--json"])
        .lines()
        .last()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].clone())
        .unwrap();
    ok(&["undo", "--yes", &undo_id.to_string()]);
    assert_eq!(s.cli(&["HGET", "state:misc", "answer"]), "100");
}

#[test]
fn set_if_value_and_if_absent_write_only_what_the_script_read_on_both_layouts() {
    let s = RedisServer::start();
    engine_fixture(&s);
    // iii: the right old value (as get printed it) writes.
    let old = ok(&s, &["get", "orders", "v1-ok-1"]);
    ok(
        &s,
        &[
            "set",
            "orders",
            "v1-ok-1",
            r#"{"status":"shipped"}"#,
            "--if-value",
            old.trim(),
        ],
    );
    assert_eq!(
        s.cli(&["HGET", "state:orders", "v1-ok-1"]),
        r#"{"status":"shipped"}"#
    );
    // A stale one: status 2, the value now on stdout, nothing written.
    let (code, out, err) = run(
        &s,
        &["set", "orders", "v1-ok-1", "1", "--if-value", old.trim()],
    );
    assert_eq!(code, 2, "{err}");
    assert_eq!(out, "{\"status\":\"shipped\"}\n");
    assert!(err.contains("holds another value"), "{err}");
    assert_eq!(
        s.cli(&["HGET", "state:orders", "v1-ok-1"]),
        r#"{"status":"shipped"}"#
    );
    // Whitespace between tokens does not count (get --pretty output works).
    ok(
        &s,
        &[
            "set",
            "orders",
            "v1-ok-1",
            "2",
            "--if-value",
            "{ \"status\" : \"shipped\" }",
        ],
    );
    assert_eq!(s.cli(&["HGET", "state:orders", "v1-ok-1"]), "2");
    // --if-absent: refused on an existing field, writes a new one.
    let (code, out, _) = run(&s, &["set", "misc", "answer", "7", "--if-absent"]);
    assert_eq!((code, out.as_str()), (2, "42\n"));
    ok(&s, &["set", "misc", "new", "7", "--if-absent"]);
    assert_eq!(s.cli(&["HGET", "state:misc", "new"]), "7");
    // A missing field with --if-value: refused, nothing printed, nothing created.
    let (code, out, err) = run(&s, &["set", "misc", "gone", "1", "--if-value", "1"]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert_eq!(s.cli(&["HEXISTS", "state:misc", "gone"]), "0");
    // Invalid JSON in --if-value is bad input; both flags together are refused by clap.
    let (code, _, err) = run(&s, &["set", "misc", "answer", "1", "--if-value", "{bad"]);
    assert_eq!(code, 2);
    assert!(err.contains("--if-value"), "{err}");
    let (code, _, _) = run(
        &s,
        &[
            "set",
            "misc",
            "answer",
            "1",
            "--if-value",
            "42",
            "--if-absent",
        ],
    );
    assert_eq!(code, 2);

    // Motia 0.x: the same flags, on a string key; the key keeps its TTL.
    let m = RedisServer::start();
    m.set_raw("motia:state:t1:order", r#"{"id":1}"#);
    m.cli(&["EXPIRE", "motia:state:t1:order", "5000"]);
    ok(
        &m,
        &[
            "set",
            "t1",
            "order",
            r#"{"id":2}"#,
            "--if-value",
            r#"{"id":1}"#,
        ],
    );
    assert_eq!(m.cli(&["GET", "motia:state:t1:order"]), r#"{"id":2}"#);
    let ttl: i64 = m.cli(&["TTL", "motia:state:t1:order"]).parse().unwrap();
    assert!(ttl > 4000, "{ttl}");
    let (code, out, _) = run(
        &m,
        &["set", "t1", "order", "3", "--if-value", r#"{"id":1}"#],
    );
    assert_eq!((code, out.as_str()), (2, "{\"id\":2}\n"));
    let (code, _, _) = run(&m, &["set", "t1", "order", "3", "--if-absent"]);
    assert_eq!(code, 2);
    ok(&m, &["set", "t1", "other", "3", "--if-absent"]);
    assert_eq!(m.cli(&["GET", "motia:state:t1:other"]), "3");
    assert_eq!(m.cli(&["GET", "motia:state:t1:order"]), r#"{"id":2}"#);
}

/// Connections the server has accepted so far (this INFO's own included).
fn connections(s: &RedisServer) -> u64 {
    s.cli(&["INFO", "stats"])
        .lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}

#[test]
fn one_connection_per_command_and_verbose_names_the_layout_for_every_subcommand() {
    let s = RedisServer::start();
    engine_fixture(&s);
    let m = RedisServer::start();
    m.set_raw("motia:state:t1:order", r#"{"id":1}"#);
    // Layout detection and the command share one connection, on both layouts.
    for (server, args) in [
        (&s, &["keys", "misc"][..]),
        (&s, &["set", "misc", "c", "1"][..]),
        (&m, &["keys", "t1"][..]),
        (&m, &["set", "t1", "c", "1"][..]),
    ] {
        let before = connections(server);
        ok(server, args);
        // One for the command, one for the INFO that reads the count.
        assert_eq!(connections(server) - before, 2, "{args:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.json");
    let (_, doc, _) = run(&s, &["export", "--trace", "misc"]);
    std::fs::write(&file, doc).unwrap();
    let path = file.to_str().unwrap();
    let iii: &[&[&str]] = &[
        &["traces"],
        &["keys", "misc"],
        &["get", "misc", "answer"],
        &["set", "misc", "v", "1"],
        &["del", "misc", "v"],
        &["ttl", "misc", "answer"],
        &["expire", "misc", "answer", "1h"],
        &["items"],
        &["export"],
        &["import", path, "--overwrite"],
        &["stats"],
        &["undo"],
        &["clear", "payments"],
        &["trace", "x"],
        &["history", "misc", "answer"],
        &["gc", "--older-than", "1d", "--delete"],
    ];
    for args in iii {
        let (_, _, err) = run(&s, &[&["-v"][..], args].concat());
        assert!(
            err.contains("layout Motia 1.x / iii (state:{scope} hashes): detected"),
            "{args:?}: {err}"
        );
    }
    for args in [&["traces"][..], &["get", "t1", "order"], &["undo"]] {
        let (_, _, err) = run(&m, &[&["-v"][..], args].concat());
        assert!(
            err.contains("layout Motia 0.x (strings under the prefix): detected"),
            "{args:?}: {err}"
        );
    }
    for args in [&["journal"][..], &["man"], &["completions", "bash"]] {
        let (_, _, err) = run(&s, &[&["-v"][..], args].concat());
        assert!(err.contains("layout: none needed"), "{args:?}: {err}");
    }
    // No server: said, and input errors still come first.
    let (code, _, err) = motia_state()
        .args(["-v", "--url", "redis://127.0.0.1:1", "keys", "t"])
        .output()
        .map(|o| {
            (
                o.status.code().unwrap_or(-1),
                String::new(),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            )
        })
        .unwrap();
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("layout not detected: no connection"), "{err}");
}

#[test]
fn a_refused_compare_and_set_leaves_no_journal_entry() {
    let s = RedisServer::start();
    engine_fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let (code, _, _) = run_j(
        &s,
        dir.path(),
        &["set", "misc", "answer", "1", "--if-value", "7"],
    );
    assert_eq!(code, 2);
    let (code, _, _) = run_j(
        &s,
        dir.path(),
        &["set", "misc", "answer", "1", "--if-absent"],
    );
    assert_eq!(code, 2);
    let (_, listed, _) = run_j(&s, dir.path(), &["journal"]);
    assert_eq!(listed, "", "nothing was written, nothing to undo");
    let (code, out, err) = run_j(
        &s,
        dir.path(),
        &["set", "misc", "answer", "1", "--if-value", "42"],
    );
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (_, listed, _) = run_j(&s, dir.path(), &["journal"]);
    assert_eq!(listed.lines().count(), 1, "{listed}");
}
