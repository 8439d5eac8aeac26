//! The iii layout (Motia 1.x / iii engine: one `state:{scope}` hash per scope) through every
//! subcommand, on state written exactly as the engine writes it (`tests/common/iii.rs`).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::iii::{ORDER_AFTER_UPDATE, engine_delete, engine_fixture, engine_set};
use common::{MOTIA_ENV, RedisServer, motia_state};
use serde_json::Value;

/// Runs the binary against `s`; (status, stdout, stderr).
fn run(s: &RedisServer, args: &[&str]) -> (i32, String, String) {
    let out = motia_state()
        .args(["--url", &s.url()])
        .args(args)
        .output()
        .expect("run motia-state");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

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
