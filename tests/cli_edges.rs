//! The CLI at the edges: names that are not UTF-8 or hold control characters, values that are
//! not text, keys of other Redis types, exact JSON text, exit codes. Run as a real process
//! against private redis-servers.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use assert_cmd::Command;
use common::RedisServer;
use common::motia_state as bin;
use predicates::prelude::*;

fn on(server: &RedisServer) -> Command {
    let mut c = bin();
    c.args(["--url", &server.url()]);
    c
}

/// A byte string as a command-line argument, exactly.
fn arg(bytes: &[u8]) -> &OsStr {
    OsStr::from_bytes(bytes)
}

fn conn(server: &RedisServer) -> redis::Connection {
    redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

fn set(c: &mut redis::Connection, key: &[u8], value: &[u8]) {
    let () = redis::cmd("SET").arg(key).arg(value).query(c).unwrap();
}

fn get(c: &mut redis::Connection, key: &[u8]) -> Option<Vec<u8>> {
    redis::cmd("GET").arg(key).query(c).unwrap()
}

fn stdout(c: &mut Command) -> Vec<u8> {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn names_are_bytes_in_every_listing_and_operation() {
    let s = RedisServer::start();
    let mut c = conn(&s);
    set(&mut c, b"motia:state:o1:a", b"1");
    set(&mut c, b"motia:state:o1:k\xffx", b"2");
    set(&mut c, b"motia:state:o\xfe:k", b"3");
    set(&mut c, b"motia:state:new\nline:k", b"4");
    set(&mut c, b"motia:state:tab\there:k", b"5");

    assert_eq!(stdout(on(&s).args(["keys", "o1"])), b"a\nk\xffx\n");
    assert_eq!(
        stdout(on(&s).args(["keys", "o1", "--json"])),
        b"{\"key\":\"a\"}\n{\"keyBase64\":\"a/94\"}\n"
    );
    // Exact bytes into a pipe, except the line and column separators.
    assert_eq!(
        stdout(on(&s).arg("traces")),
        b"new\\nline\no1\no\xfe\ntab\\there\n"
    );
    assert_eq!(
        stdout(on(&s).args(["traces", "--counts"])),
        b"new\\nline\t1\no1\t2\no\xfe\t1\ntab\\there\t1\n"
    );
    let json = String::from_utf8(stdout(on(&s).args(["traces", "--json"]))).unwrap();
    let ids: Vec<serde_json::Value> = json
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            serde_json::json!([v["traceId"], v["traceIdBase64"], v["keys"]])
        })
        .collect();
    assert_eq!(
        ids,
        [
            serde_json::json!(["new\nline", null, 1]),
            serde_json::json!(["o1", null, 2]),
            serde_json::json!(["tab\there", null, 1]),
            serde_json::json!([null, "b/4=", 1]),
        ]
    );

    // Names go back in as exact bytes.
    assert_eq!(
        stdout(on(&s).arg("get").arg("o1").arg(arg(b"k\xffx"))),
        b"2\n"
    );
    assert_eq!(
        stdout(on(&s).arg("get").arg(arg(b"o\xfe")).arg("k")),
        b"3\n"
    );
    on(&s)
        .arg("set")
        .arg(arg(b"o\xfe"))
        .arg(arg(b"n\x01"))
        .arg("[1]")
        .assert()
        .success();
    assert_eq!(
        get(&mut c, b"motia:state:o\xfe:n\x01"),
        Some(b"[1]".to_vec())
    );
    assert_eq!(
        stdout(on(&s).arg("ttl").arg(arg(b"o\xfe")).arg(arg(b"n\x01"))),
        b"-1\n"
    );
    on(&s)
        .arg("expire")
        .arg(arg(b"o\xfe"))
        .arg("10m")
        .assert()
        .success()
        .stdout("2\n");
    assert_eq!(
        stdout(on(&s).arg("del").arg(arg(b"o\xfe")).arg("k")),
        b"3\n"
    );
    on(&s)
        .arg("get")
        .arg(arg(b"o\xfe"))
        .arg("k")
        .assert()
        .code(1)
        .stderr("motia-state: no key \"k\" in trace \"o\\xfe\"\n");

    // clear counts and removes every key of the trace, whatever its bytes.
    on(&s)
        .args(["clear", "o1"])
        .assert()
        .success()
        .stdout("2\n");
    assert_eq!(get(&mut c, b"motia:state:o1:k\xffx"), None);
    on(&s).args(["keys", "o1"]).assert().code(1);
}

#[test]
fn export_then_import_restores_every_key_byte_for_byte() {
    let s = RedisServer::start();
    let mut c = conn(&s);
    let binary: Vec<u8> = (0..=255u8).collect();
    let cases: Vec<(&[u8], Vec<u8>)> = vec![
        (b"motia:state:t:cafe", b"caf\xe9".to_vec()),
        (b"motia:state:t:bin", binary.clone()),
        (b"motia:state:t:", b"\"empty key name\"".to_vec()),
        (b"motia:state:t:big", b"[1e400,1.5e10,1E5,-0.0]".to_vec()),
        (b"motia:state:t:spaced", b"{ \"a\" : 1 }".to_vec()),
        (b"motia:state:t:padded", b" 1 ".to_vec()),
        (b"motia:state:t:empty", b"".to_vec()),
        (b"motia:state:t\xff:k\x1b[0m", b"\"x\"".to_vec()),
        (b"motia:state:nocolon", b"text".to_vec()),
    ];
    for (k, v) in &cases {
        set(&mut c, k, v);
    }
    let () = redis::cmd("PEXPIRE")
        .arg("motia:state:t:bin")
        .arg(500_000)
        .query(&mut c)
        .unwrap();
    let () = redis::cmd("HSET")
        .arg("motia:state:t:h")
        .arg(&b"f\xff"[..])
        .arg("v")
        .query(&mut c)
        .unwrap();
    let _: String = redis::cmd("XADD")
        .arg("motia:state:t:s")
        .arg("5-1")
        .arg("f")
        .arg("v")
        .query(&mut c)
        .unwrap();
    let () = redis::cmd("EXPIRE")
        .arg("motia:state:t:s")
        .arg(900)
        .query(&mut c)
        .unwrap();

    let file = s.dir().join("export.json");
    on(&s)
        .args(["export", "-o"])
        .arg(&file)
        .assert()
        .success()
        .stderr(
            predicate::str::contains("motia:state:t:h is a Redis hash")
                .and(predicate::str::contains(
                    "motia:state:t:s is a Redis stream",
                ))
                .and(predicate::str::contains(
                    "motia:state:nocolon is not a {traceId}:{key} name",
                )),
        );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("\"value\": [1e400,1.5e10,1E5,-0.0]"),
        "{text}"
    );
    assert!(text.contains("\"rawBase64\": \"Y2Fm6Q==\""), "{text}");

    on(&s)
        .args(["--db", "1", "import"])
        .arg(&file)
        .assert()
        .success()
        .stdout("imported 11 items in 2 traces (0 replaced existing keys)\n");
    let mut d = redis::Client::open(format!("{}/1", s.url()))
        .unwrap()
        .get_connection()
        .unwrap();
    for (k, v) in &cases {
        assert_eq!(
            get(&mut d, k).as_ref(),
            Some(v),
            "{}",
            String::from_utf8_lossy(k)
        );
    }
    for key in ["motia:state:t:h", "motia:state:t:s", "motia:state:t:bin"] {
        let dump = |c: &mut redis::Connection| -> (String, Vec<u8>, i64) {
            let t: String = redis::cmd("TYPE").arg(key).query(c).unwrap();
            let d: Vec<u8> = redis::cmd("DUMP").arg(key).query(c).unwrap();
            let ttl: i64 = redis::cmd("PTTL").arg(key).query(c).unwrap();
            (t, d, ttl)
        };
        let (a, b) = (dump(&mut c), dump(&mut d));
        assert_eq!((&a.0, &a.1), (&b.0, &b.1), "{key}");
        assert!((a.2 - b.2).abs() <= 1000, "{key}: ttl {} vs {}", a.2, b.2);
    }
    let size: u64 = redis::cmd("DBSIZE").query(&mut d).unwrap();
    assert_eq!(size, 11);

    // Another prefix: said before writing.
    on(&s)
        .args(["--db", "2", "--prefix", "copy:", "import"])
        .arg(&file)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "exported under the prefix \"motia:state:\"; its items are written under \"copy:\"",
        ));
}

#[test]
fn json_is_stored_as_written() {
    let s = RedisServer::start();
    on(&s).args(["set", "t", "n", "1.5e10"]).assert().success();
    assert_eq!(s.cli(&["GET", "motia:state:t:n"]), "1.5e10");
    on(&s)
        .args([
            "set",
            "t",
            "o",
            "{ \"b\" : [ 1E400, \"a  b\", \"\\u00e9\" ] ,\n \"a\": 1.0 }",
        ])
        .assert()
        .success();
    assert_eq!(
        s.cli(&["GET", "motia:state:t:o"]),
        r#"{"b":[1E400,"a  b","\u00e9"],"a":1.0}"#
    );
    // --ttl takes the durations expire takes.
    on(&s)
        .args(["set", "t", "d", "1", "--ttl", "10m"])
        .assert()
        .success();
    let ttl: i64 = s.cli(&["TTL", "motia:state:t:d"]).parse().unwrap();
    assert!((590..=600).contains(&ttl), "{ttl}");
    on(&s)
        .args(["set", "t", "d", "1", "--ttl", "persist"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--ttl"));
}

#[test]
fn keys_of_other_types_and_exit_codes() {
    let s = RedisServer::start();
    s.cli(&["HSET", "motia:state:t:h", "f", "v"]);
    s.cli(&["RPUSH", "motia:state:t:l", "a"]);
    // Not a server error: the key holds something else than a state value.
    on(&s)
        .args(["get", "t", "h"])
        .assert()
        .code(2)
        .stdout("")
        .stderr("motia-state: motia:state:t:h holds a Redis hash, not a state value (a string)\n");
    // del removes it, as clear and the browser do, naming its type.
    on(&s)
        .args(["del", "t", "h"])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains(
            "deleted motia:state:t:h, a Redis hash",
        ));
    assert_eq!(s.cli(&["EXISTS", "motia:state:t:h"]), "0");

    on(&s)
        .args(["expire", "none", "10m"])
        .assert()
        .code(1)
        .stderr("motia-state: no trace \"none\" (it has no keys)\n");
    on(&s)
        .args(["clear", "none"])
        .assert()
        .code(1)
        .stderr("motia-state: no trace \"none\" (it has no keys)\n");
    on(&s)
        .args(["--db", "99", "traces"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("database 99 does not exist")
                .and(predicate::str::contains("is the server running").not()),
        );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("config.toml");
    std::fs::write(&bad, "[keys]\nquit = [\"Hyper-q\"]\n").unwrap();
    on(&s)
        .arg("--config")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("config.toml"));
    on(&s)
        .args(["keys", "a:b"])
        .assert()
        .code(2)
        .stderr("motia-state: invalid trace id \"a:b\": it contains ':', which separates the trace id from the key\n");
}

#[test]
fn control_characters_never_reach_a_terminal_raw() {
    let s = RedisServer::start();
    let mut c = conn(&s);
    set(&mut c, b"motia:state:evil\x1b[41mRED:k", b"1");
    set(&mut c, b"motia:state:new\nline:k", b"2");
    set(
        &mut c,
        b"motia:state:t:raw",
        b"bell\x07 \x1b]0;title\x07 caf\xe9",
    );
    let term = common::term::Term::start("cli-tty", &s.url(), "traces", None);
    let screen = term.wait_for("new\\nline");
    assert!(screen.contains("evil\\x1b[41mRED"), "{screen}");
    drop(term);
    let term = common::term::Term::start("cli-tty-get", &s.url(), "get t raw", None);
    let screen = term.wait_for("caf\\xe9");
    assert!(
        screen.contains("bell\\x07 \\x1b]0;title\\x07 caf\\xe9"),
        "{screen}"
    );
}

/// Three names that are not UTF-8 beside an ordinary one, under a fresh server.
fn seed_bytes(s: &RedisServer) -> redis::Connection {
    let mut c = conn(s);
    set(&mut c, b"motia:state:o1:a", b"1");
    set(&mut c, b"motia:state:o1:k\xffx", b"{\"n\":2}");
    set(&mut c, b"motia:state:o\xfe:k", b"{\"n\":3}");
    c
}

fn json_lines(bytes: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn items_lists_names_that_are_not_utf8_with_their_exact_bytes() {
    let s = RedisServer::start();
    let _c = seed_bytes(&s);
    let all = json_lines(&stdout(on(&s).arg("items")));
    assert_eq!(
        all,
        [
            serde_json::json!({"groupId": "o1", "key": "a", "type": "number", "value": 1}),
            serde_json::json!({"groupId": "o1", "keyBase64": "a/94", "type": "object", "value": {"n": 2}}),
            serde_json::json!({"groupIdBase64": "b/4=", "key": "k", "type": "object", "value": {"n": 3}}),
        ]
    );
    // The filtered path and a trace given as bytes agree.
    let filtered = json_lines(&stdout(on(&s).args(["items", "--filter", "n gt 2"])));
    assert_eq!(filtered, all[2..]);
    let one = json_lines(&stdout(
        on(&s).args(["items", "--trace"]).arg(arg(b"o\xfe")),
    ));
    assert_eq!(one, all[2..]);
}

#[test]
fn stats_counts_names_that_are_not_utf8() {
    let s = RedisServer::start();
    let _c = seed_bytes(&s);
    let out = stdout(on(&s).args(["stats", "--json"]));
    let stats: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        (stats["keys"].as_u64(), stats["traces"].as_u64()),
        (Some(3), Some(2)),
        "{stats}"
    );
    // Listed by name, escaped, with the exact bytes in base64 beside it.
    let traces = stats["topTraces"].as_array().unwrap();
    assert!(
        traces
            .iter()
            .any(|t| t["traceId"] == "o\\xfe" && t["traceIdBase64"] == "b/4="),
        "{stats}"
    );
    let keys = stats["topKeys"].as_array().unwrap();
    assert!(
        keys.iter()
            .any(|k| k["traceId"] == "o1" && k["key"] == "k\\xffx" && k["keyBase64"] == "a/94"),
        "{stats}"
    );
    assert!(
        keys.iter()
            .all(|k| k.get("traceIdBase64").is_none() || k["traceId"] == "o\\xfe")
    );
    let text = String::from_utf8(stdout(on(&s).arg("stats"))).unwrap();
    assert!(text.contains("3 in 2 traces"), "{text}");
    assert!(text.contains("o1 k\\xffx"), "{text}");
}

#[test]
fn gc_selects_and_deletes_names_that_are_not_utf8_exactly() {
    let s = RedisServer::start();
    let mut c = seed_bytes(&s);
    let dry = String::from_utf8(stdout(on(&s).args(["gc", "--no-records", "--delete"]))).unwrap();
    assert!(dry.contains("o\\xfe"), "{dry}");
    assert!(dry.contains("total: would delete 3 keys"), "{dry}");
    assert_eq!(
        get(&mut c, b"motia:state:o\xfe:k").as_deref(),
        Some(&b"{\"n\":3}"[..])
    );
    stdout(on(&s).args(["gc", "--no-records", "--delete", "--yes"]));
    for k in [
        &b"motia:state:o1:a"[..],
        b"motia:state:o1:k\xffx",
        b"motia:state:o\xfe:k",
    ] {
        assert_eq!(get(&mut c, k), None, "{}", String::from_utf8_lossy(k));
    }
}
