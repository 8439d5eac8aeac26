//! Per-field TTLs on the iii layout where the server has hash-field expiry (Valkey 9, like
//! Redis 7.4): `ttl` reads HPTTL, `expire` sets HPEXPIRE or removes with HPERSIST.

mod common;

use common::run_on as run;

use common::iii::engine_fixture;
use common::{RedisServer, motia_state};

#[test]
fn field_ttls_on_a_server_with_hash_field_expiry() {
    let s = RedisServer::start_bin(common::valkey_server(), &[]);
    engine_fixture(&s);
    assert_eq!(
        run(&s, &["ttl", "misc", "answer"]).1,
        "-1\n",
        "the engine sets none"
    );
    let (code, out, err) = run(&s, &["expire", "misc", "answer", "1h"]);
    assert_eq!((code, out.as_str()), (0, "1\n"), "{err}");
    let ttl: i64 = run(&s, &["ttl", "misc", "answer"])
        .1
        .trim()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&ttl), "{ttl}");
    assert_eq!(
        s.cli(&["HTTL", "state:misc", "FIELDS", "1", "greeting"]),
        "-1"
    );
    // Every field of a scope, then persist.
    assert_eq!(run(&s, &["expire", "misc", "2h"]).1, "2\n");
    assert_eq!(run(&s, &["expire", "misc", "persist"]).1, "2\n");
    assert_eq!(run(&s, &["ttl", "misc", "greeting"]).1, "-1\n");
    // Missing field: status 1; read-only: status 2, nothing changed.
    assert_eq!(run(&s, &["expire", "misc", "nope", "1h"]).0, 1);
    assert_eq!(run(&s, &["ttl", "misc", "nope"]).0, 1);
    assert_eq!(
        run(&s, &["--read-only", "expire", "misc", "answer", "1h"]).0,
        2
    );
    assert_eq!(run(&s, &["ttl", "misc", "answer"]).1, "-1\n");
}

#[test]
fn undo_puts_a_field_back_with_its_field_ttl() {
    let s = RedisServer::start_bin(common::valkey_server(), &[]);
    engine_fixture(&s);
    let dir = tempfile::tempdir().unwrap();
    let ok = |args: &[&str]| {
        let out = motia_state()
            .env("MOTIA_STATE_JOURNAL", dir.path())
            .args(["--url", &s.url()])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let ttl = |field: &str| -> i64 {
        s.cli(&["HTTL", "state:misc", "FIELDS", "1", field])
            .parse()
            .unwrap()
    };
    ok(&["expire", "misc", "answer", "2h"]);
    // A set drops the field's TTL (HSET does); its undo gives back value and TTL.
    ok(&["set", "misc", "answer", "43"]);
    assert_eq!(ttl("answer"), -1);
    let dry = ok(&["undo"]);
    assert!(
        dry.contains("restore misc:answer (field, TTL 1h 59m"),
        "{dry}"
    );
    ok(&["undo", "--yes"]);
    assert_eq!(s.cli(&["HGET", "state:misc", "answer"]), "42");
    assert!((7000..=7200).contains(&ttl("answer")), "{}", ttl("answer"));
    // The expire itself is journalled: its undo takes the TTL back off.
    ok(&["undo", "--yes"]);
    assert_eq!(ttl("answer"), -1);
    // A clear keeps every field's TTL.
    ok(&["expire", "misc", "greeting", "1h"]);
    ok(&["clear", "misc"]);
    ok(&["undo", "--yes"]);
    assert!(
        (3500..=3600).contains(&ttl("greeting")),
        "{}",
        ttl("greeting")
    );
    assert_eq!(ttl("answer"), -1);
}
