//! The browser on the iii layout, end to end: the real binary in tmux against a private
//! redis-server holding state written as the iii engine writes it.

mod common;

use common::iii::{engine_fixture, engine_set, engine_stream_set};
use common::term::{DEADLINE, Term};
use common::{RedisServer, poll_for};

fn wait_redis(server: &RedisServer, args: &[&str], want: &str) {
    poll_for(&format!("redis-cli {args:?}"), DEADLINE, || {
        let out = server.try_cli(args)?;
        if out == want {
            Ok(())
        } else {
            Err(format!("the answer {out:?}"))
        }
    });
}

#[test]
fn scopes_fields_values_edit_delete_and_clear_through_the_hashes() {
    let server = RedisServer::start();
    engine_fixture(&server);
    let t = Term::start("iii", &server.url(), "", None);
    let s = t.wait("the scopes", |s| {
        s.contains("Scopes (3)") && s.contains("iii layout")
    });
    assert!(
        s.contains("misc") && s.contains("orders") && s.contains("payments"),
        "{s}"
    );
    // The stream group is in a section of its own, not counted as a scope.
    t.wait_for("Streams (1)");
    // orders: its one field, the value exactly as stored (`\/`, `{}`, cjson's digits).
    t.keys(&["g", "j"]);
    t.wait_for("Keys · orders (1)");
    t.wait_for(r#""note": "a\/b""#);
    t.wait_for(r#""big": 1.2345678901235e+19"#);
    t.wait_for(r#""tags": {}"#);
    // No timeline on this layout, and it says why.
    t.keys(&["T"]);
    t.wait_for("no timeline or history on the iii layout");
    // Edit the field: compare-and-set on the hash field, stored compact.
    t.keys(&["Enter", "e"]);
    t.wait_for("Edit orders:v1-ok-1");
    t.keys(&["Down", "End", "BSpace", "BSpace"]);
    t.type_text("2,");
    t.keys(&["C-s"]);
    t.wait_for("save orders:v1-ok-1: done");
    let stored = server.cli(&["HGET", "state:orders", "v1-ok-1"]);
    assert!(
        stored.starts_with(r#"{"attempts":2,"total":42.5,"#),
        "{stored}"
    );
    // Delete payments' only field: the scope goes with it.
    t.keys(&["Escape", "h", "j"]);
    t.wait_for("Keys · payments (1)");
    t.keys(&["Enter", "d"]);
    t.wait_for("Delete key v1-ok-1");
    t.keys(&["y"]);
    t.wait("payments to go", |s| {
        s.contains("Scopes (2)") && !s.contains("payments")
    });
    wait_redis(&server, &["EXISTS", "state:payments"], "0");
    // Clear misc: every field.
    t.keys(&["h", "g"]);
    t.wait_for("Keys · misc (2)");
    t.keys(&["D"]);
    t.wait_for("delete all 2 keys?");
    t.keys(&["y"]);
    t.wait("misc to go", |s| {
        s.contains("Scopes (1)") && s.contains("Streams (1)")
    });
    wait_redis(&server, &["EXISTS", "state:misc"], "0");
}

#[test]
fn read_only_refuses_writes_and_changes_nothing() {
    let server = RedisServer::start();
    engine_fixture(&server);
    let t = Term::start("iii-ro", &server.url(), "--read-only", None);
    t.wait("the scopes", |s| {
        s.contains("Scopes (3)") && s.contains("READ-ONLY")
    });
    t.keys(&["g", "Enter", "d"]);
    t.wait_for("read-only");
    assert_eq!(server.cli(&["HLEN", "state:misc"]), "2");
}

#[test]
fn a_stream_group_lists_its_items_and_an_edit_is_published() {
    let server = RedisServer::start();
    engine_fixture(&server);
    engine_stream_set(
        &server,
        "orderStatus",
        "orders",
        "v1-ok-1",
        r#"{"id":"v1-ok-1","status":"pending"}"#,
    );
    // A subscriber, as the engine's UIs are: it prints each stream event on a line.
    let events = server.dir().join("events.txt");
    let out = std::fs::File::create(&events).expect("events file");
    let mut subscriber = std::process::Command::new("redis-cli")
        .args([
            "-p",
            &server.port.to_string(),
            "SUBSCRIBE",
            "stream::events",
        ])
        .stdout(out)
        .spawn()
        .expect("redis-cli");
    poll_for("the subscription", DEADLINE, || {
        match server
            .try_cli(&["PUBSUB", "NUMSUB", "stream::events"])?
            .lines()
            .nth(1)
        {
            Some("1") => Ok(()),
            other => Err(format!("{other:?} subscribers")),
        }
    });
    let t = Term::start("iii-streams", &server.url(), "", None);
    t.wait("both sections", |s| {
        s.contains("Scopes (3)") && s.contains("Streams (1)") && s.contains("orderStatus/orders")
    });
    // The last row is the stream group, past the heading.
    t.keys(&["G"]);
    t.wait_for("Keys · orderStatus/orders (2)");
    t.keys(&["l", "g", "Enter"]);
    t.wait_for(r#""status": "failed""#);
    t.keys(&["e"]);
    t.wait_for("Edit orderStatus/orders:v1-bad-1");
    t.keys(&[
        "Down", "Down", "End", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace",
        "BSpace", "BSpace",
    ]);
    t.type_text("\"retried\"");
    t.keys(&["C-s"]);
    t.wait_for("save orderStatus/orders:v1-bad-1: done");
    wait_redis(
        &server,
        &["HGET", "stream:orderStatus:orders", "v1-bad-1"],
        r#"{"id":"v1-bad-1","status":"retried"}"#,
    );
    t.wait_for(r#""status": "retried""#);
    // The subscriber got the engine's `update` event for it.
    let update = poll_for("the update event", DEADLINE, || {
        let text = std::fs::read_to_string(&events).map_err(|e| e.to_string())?;
        text.lines()
            .find(|l| l.contains(r#""type":"update""#))
            .map(str::to_string)
            .ok_or_else(|| format!("events so far: {text:?}"))
    });
    let ev: serde_json::Value = serde_json::from_str(&update).expect("JSON");
    assert_eq!(
        (&ev["streamName"], &ev["groupId"], &ev["id"]),
        (&"orderStatus".into(), &"orders".into(), &"v1-bad-1".into()),
        "{ev}"
    );
    assert_eq!(ev["event"]["data"]["status"], "retried", "{ev}");
    // A delete: the item goes, and so does its `delete` event.
    t.keys(&["h", "g", "d"]);
    t.wait_for("Delete key v1-bad-1 of stream group orderStatus/orders?");
    t.keys(&["y"]);
    t.wait_for("Keys · orderStatus/orders (1)");
    wait_redis(
        &server,
        &["HEXISTS", "stream:orderStatus:orders", "v1-bad-1"],
        "0",
    );
    poll_for("the delete event", DEADLINE, || {
        let text = std::fs::read_to_string(&events).map_err(|e| e.to_string())?;
        text.lines()
            .find(|l| l.contains(r#""type":"delete""#) && l.contains(r#""id":"v1-bad-1""#))
            .map(|_| ())
            .ok_or_else(|| format!("events so far: {text:?}"))
    });
    let _ = subscriber.kill();
    let _ = subscriber.wait();
    // No scope was written.
    assert_eq!(server.cli(&["EXISTS", "state:orderStatus"]), "0");
}

/// A config file with two saved connections: `iii` (the engine's server) and `old` (0.x).
fn two_profiles(dir: &std::path::Path, iii: &RedisServer, old: &RedisServer) -> std::path::PathBuf {
    let file = dir.join("config.toml");
    std::fs::write(
        &file,
        format!(
            "[profiles.iii]\nurl = \"{}\"\n\n[profiles.old]\nurl = \"{}\"\n",
            iii.url(),
            old.url()
        ),
    )
    .unwrap();
    file
}

#[test]
fn scope_with_colons_stats_export_import_and_the_layout_found_again_on_switching() {
    let iii = RedisServer::start();
    engine_fixture(&iii);
    engine_set(&iii, "orders:eu", "eu-1", r#"{"id":"eu-1","region":"eu"}"#);
    let old = RedisServer::start();
    old.set_raw("motia:state:t-old:order", r#"{"id":1}"#);
    let dir = tempfile::tempdir().unwrap();
    let config = two_profiles(dir.path(), &iii, &old);
    let t = Term::start(
        "iiirest",
        "",
        &format!("--config {} --profile iii", config.display()),
        None,
    );
    let s = t.wait("the scopes", |s| {
        s.contains("Scopes (4)") && s.contains("iii layout") && s.contains("done")
    });
    assert!(s.contains(r"orders\x3aeu"), "{s}");
    // The scope `orders:eu`: listed after orders, its field and value read from its hash.
    t.keys(&["g", "j", "j", "Enter"]);
    t.wait_for(r"Keys · orders\x3aeu (1)");
    t.wait_for(r#""region": "eu""#);
    // The stats view: scopes and fields, no age charts, and why.
    t.keys(&["S"]);
    let s = t.wait("the iii stats", |s| {
        s.contains("Stats of the iii layout") && s.contains("done · r recomputes")
    });
    for want in [
        "4 scopes · 5 fields",
        "1 stream group (1 item)",
        "No ages or TTLs",
        "Biggest scopes",
        r"orders\x3aeu",
    ] {
        assert!(s.contains(want), "{want}: {s}");
    }
    assert!(!s.contains("Traces by age"), "{s}");
    t.keys(&["Escape"]);
    // :export of the selected scope: an iii document with the exact scope name.
    let file = dir.path().join("eu.json");
    t.keys(&[":"]);
    t.type_text(&format!("export {}", file.display()));
    t.keys(&["Enter"]);
    // The notification may wrap or be gone by the time tmux is read: the file is the answer.
    poll_for(
        "the exported file",
        DEADLINE,
        || match std::fs::read_to_string(&file) {
            Ok(d) if d.ends_with("}\n") => Ok(()),
            _ => Err("not written yet".to_string()),
        },
    );
    let doc = std::fs::read_to_string(&file).unwrap();
    assert!(doc.contains(r#""layout": "iii""#), "{doc}");
    assert!(doc.contains(r#""groupId": "orders:eu""#), "{doc}");
    // :import while the field exists: refused, says how to overwrite.
    t.keys(&[":"]);
    t.type_text(&format!("import {}", file.display()));
    t.keys(&["Enter"]);
    // A failure notification wraps between words: its words are looked for one by one.
    t.wait("the refusal", |s| {
        s.contains("exists") && s.contains("--overwrite")
    });
    // Clear the scope (the hash goes), then import it back byte for byte.
    t.keys(&["x", "h", "D"]);
    t.wait_for(r"Clear scope orders\x3aeu");
    t.keys(&["y"]);
    t.wait("orders:eu to go", |s| s.contains("Scopes (3)"));
    wait_redis(&iii, &["EXISTS", "state:orders:eu"], "0");
    t.keys(&[":"]);
    t.type_text(&format!("import {}", file.display()));
    t.keys(&["Enter"]);
    t.wait("the import's rescan", |s| s.contains("Scopes (4)"));
    wait_redis(
        &iii,
        &["HGET", "state:orders:eu", "eu-1"],
        r#"{"id":"eu-1","region":"eu"}"#,
    );
    // A Motia 0.x document is refused on this layout, nothing written.
    let motia_doc = dir.path().join("motia.json");
    std::fs::write(
        &motia_doc,
        r#"{"format":"motia-state-export","version":1,"prefix":"motia:state:","items":[{"groupId":"t9","key":"k","value":1}]}"#,
    )
    .unwrap();
    t.keys(&["x", ":"]);
    t.type_text(&format!("import {}", motia_doc.display()));
    t.keys(&["Enter"]);
    t.wait("the refusal", |s| {
        s.contains("across") && s.contains("supported")
    });
    assert_eq!(iii.cli(&["EXISTS", "state:t9"]), "0");
    // Switch to the 0.x server: traces, and the status bar says which layout and why.
    t.keys(&["x", "c"]);
    t.wait("the picker", |s| {
        s.contains("Connections") && s.contains("old")
    });
    t.keys(&["Down", "Enter"]);
    let s = t.wait("the 0.x connection", |s| {
        s.contains("Traces (1)") && s.contains("t-old") && s.contains("done")
    });
    assert!(s.contains("layout motia"), "{s}");
    assert!(!s.contains("iii layout"), "{s}");
    // The iii document is refused there too.
    t.keys(&[":"]);
    t.type_text(&format!("import {}", file.display()));
    t.keys(&["Enter"]);
    t.wait("the refusal", |s| {
        s.contains("across") && s.contains("Motia 1.x")
    });
    assert_eq!(old.cli(&["KEYS", "*orders*"]), "");
    // And back: scopes again.
    t.keys(&["x", "c"]);
    t.wait("the picker", |s| {
        s.contains("Connections") && s.contains("old")
    });
    t.keys(&["Up", "Enter"]);
    t.wait("the iii connection again", |s| {
        s.contains("Scopes (4)") && s.contains("iii layout") && s.contains("done")
    });
}

fn setting(server: &RedisServer) -> String {
    let out = server.cli(&["CONFIG", "GET", "notify-keyspace-events"]);
    out.lines().nth(1).unwrap_or_default().to_string()
}

/// The line of the Scopes pane (the left column) naming `scope`.
fn scope_row<'a>(s: &'a str, scope: &str) -> Option<&'a str> {
    s.lines().find(|l| {
        l.split('│')
            .nth(1)
            .is_some_and(|left| left.split_whitespace().next() == Some(scope))
    })
}

#[test]
fn live_mode_follows_the_engines_hash_writes_and_restores_the_setting() {
    use common::iii::{engine_delete, engine_set};
    let server = RedisServer::start();
    server.cli(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    engine_fixture(&server);
    // No periodic re-read: only notifications can change the screen.
    let t = Term::start("iii-live", &server.url(), "--refresh 0", None);
    t.wait("the scopes, polling", |s| {
        s.contains("Scopes (3)") && s.contains("· polling")
    });
    t.keys(&[":"]);
    t.type_text("live on");
    t.keys(&["Enter"]);
    let s = t.wait_for("Live mode: switch on keyspace notifications");
    assert!(s.contains("to \"K$gxeh\""), "{s}");
    assert_eq!(setting(&server), "", "nothing changes before the answer");
    t.keys(&["y"]);
    t.wait("live, newest activity first", |s| {
        s.contains("· live") && s.contains("Scopes (3) newest")
    });
    let during = setting(&server);
    assert!(during.contains('K') && during.contains('h'), "{during}");
    t.keys(&["F"]);
    t.wait_for("· follow");
    // The engine changes an existing field: its scope and field are selected, marked.
    engine_set(
        &server,
        "orders",
        "v1-ok-1",
        r#"{"id":"v1-ok-1","status":"shipped"}"#,
    );
    let s = t.wait("orders followed with its new value", |s| {
        s.contains("Keys · orders (1)") && s.contains(r#""status": "shipped""#)
    });
    assert!(
        scope_row(&s, "orders").is_some_and(|l| l.contains('•')),
        "orders marked: {s}"
    );
    // A new scope: listed first and followed to its field.
    engine_set(&server, "carts", "c-1", r#"{"items":2}"#);
    let s = t.wait("the new scope", |s| {
        s.contains("Scopes (4)") && s.contains("Keys · carts (1)") && s.contains(r#""items": 2"#)
    });
    let first = s.lines().find_map(|l| {
        ["carts", "misc", "orders", "payments"]
            .into_iter()
            .find(|n| scope_row(l, n).is_some())
    });
    assert_eq!(first, Some("carts"), "newest first: {s}");
    // Another client's HSET and HDEL on misc.
    server.cli(&["HSET", "state:misc", "extra", r#"{"n":1}"#]);
    t.wait("misc followed with its new field", |s| {
        s.contains("Keys · misc (3)") && s.contains(r#""n": 1"#)
    });
    server.cli(&["HDEL", "state:misc", "greeting"]);
    t.wait("greeting to go", |s| {
        s.contains("Keys · misc (2)") && !s.contains("greeting")
    });
    // The engine deletes payments' last field: the scope goes.
    engine_delete(&server, "payments", "v1-ok-1");
    t.wait("payments to go", |s| {
        s.contains("Scopes (3)") && !s.contains("payments")
    });
    // FLUSHDB publishes no event per hash: DBSIZE below the scopes listed brings a rescan.
    server.cli(&["FLUSHDB"]);
    t.wait("the scopes to go", |s| s.contains("Scopes (0)"));
    // Quitting restores the setting found.
    t.keys(&["q"]);
    t.wait("the browser to quit", |s| !s.contains("Scopes ("));
    common::poll_for("the setting to be restored", DEADLINE, || {
        let now = server.try_cli(&["CONFIG", "GET", "notify-keyspace-events"])?;
        match now.lines().nth(1).unwrap_or_default() {
            "" => Ok(()),
            other => Err(format!("notify-keyspace-events {other:?}")),
        }
    });
}

#[test]
fn sigterm_restores_what_live_on_added_on_this_layout() {
    let server = RedisServer::start();
    server.cli(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
    let before = setting(&server);
    engine_fixture(&server);
    let t = Term::start("iii-live-term", &server.url(), "--refresh 0", None);
    t.wait("polling, missing K and h", |s| {
        s.contains("Scopes (3)") && s.contains("· polling")
    });
    t.keys(&[":"]);
    t.type_text("live on");
    t.keys(&["Enter"]);
    t.wait_for("y yes, change the server setting");
    t.keys(&["y"]);
    t.wait_for("· live");
    assert_ne!(setting(&server), before);
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &t.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    common::poll_for("the setting to be restored", DEADLINE, || {
        let now = server.try_cli(&["CONFIG", "GET", "notify-keyspace-events"])?;
        match now.lines().nth(1).unwrap_or_default() {
            now if now == before => Ok(()),
            other => Err(format!("notify-keyspace-events {other:?}, not {before:?}")),
        }
    });
}

#[test]
fn a_0x_view_names_the_iii_state_beside_it_once_its_index_is_complete() {
    let server = RedisServer::start();
    engine_fixture(&server);
    server.load("SET motia:state:t1:order {\"id\":1}\nSET motia:state:t2:order {\"id\":2}\n");
    let t = Term::start("other-layout", &server.url(), "", None);
    let s = t.wait("the 0.x traces and the note", |s| {
        s.contains("Traces (2)") && s.contains("also holds Motia 1.x / iii state")
    });
    assert!(!s.contains("iii layout"), "0.x is browsed: {s}");
}
