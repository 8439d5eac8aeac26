//! The `motia-state` binary against private redis-servers: output, exit codes, messages.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Instant;

use assert_cmd::Command;
use common::RedisServer;
use common::motia_state as bin;
use predicates::prelude::*;

/// The binary pointed at a test server.
fn on(server: &RedisServer) -> Command {
    let mut c = bin();
    c.args(["--url", &server.url()]);
    c
}

fn stdout_of(c: &mut Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn seeded() -> RedisServer {
    let s = RedisServer::start();
    s.set_raw("motia:state:t2:zeta", r#"{"n":2}"#);
    s.set_raw(
        "motia:state:t1:order",
        r#"{"id":7,"status":"paid","big":12345678901234567890}"#,
    );
    s.set_raw("motia:state:t1:payment:attempt:1", r#"{"status":"failed"}"#);
    s.set_raw("motia:state:t1:a", r#""ünïcødé ✓""#);
    s.set_raw("motia:state:t2:alpha", "[1,2]");
    s.set_raw("motia:state:t3:note", "plain text, not JSON");
    s.cli(&["HSET", "motia:stream:x:t9", "f", "v"]);
    s
}

#[test]
fn traces_and_keys_are_sorted() {
    let s = seeded();
    assert_eq!(stdout_of(on(&s).arg("traces")), "t1\nt2\nt3\n");
    assert_eq!(
        stdout_of(on(&s).args(["traces", "--counts"])),
        "t1\t3\nt2\t2\nt3\t1\n"
    );
    assert_eq!(
        stdout_of(on(&s).args(["keys", "t1"])),
        "a\norder\npayment:attempt:1\n"
    );
    on(&s)
        .args(["keys", "nothing"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("motia-state: no trace \"nothing\" (it has no keys)\n");
    on(&s)
        .args(["keys", "a:b"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("motia-state: invalid trace id"));
}

#[test]
fn get_prints_the_stored_text() {
    let s = seeded();
    assert_eq!(
        stdout_of(on(&s).args(["get", "t1", "order"])),
        "{\"id\":7,\"status\":\"paid\",\"big\":12345678901234567890}\n"
    );
    assert_eq!(
        stdout_of(on(&s).args(["get", "t1", "order", "--pretty"])),
        "{\n  \"id\": 7,\n  \"status\": \"paid\",\n  \"big\": 12345678901234567890\n}\n"
    );
    assert_eq!(
        stdout_of(on(&s).args(["get", "t1", "a"])),
        "\"ünïcødé ✓\"\n"
    );
    on(&s)
        .args(["get", "t3", "note"])
        .assert()
        .success()
        .stdout("plain text, not JSON\n")
        .stderr(predicate::str::contains("warning").and(predicate::str::contains("not JSON")));
    on(&s)
        .args(["get", "t1", "missing"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("motia-state: no key \"missing\" in trace \"t1\"\n");
    // An empty key name is a name like any other (Redis can hold `motia:state:t1:`).
    on(&s).args(["get", "t1", ""]).assert().code(1);
}

#[test]
fn set_from_argument_and_stdin() {
    let s = RedisServer::start();
    on(&s)
        .args(["set", "t", "k:1", "{ \"b\": 1, \"a\": [true, null] }"])
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        s.cli(&["GET", "motia:state:t:k:1"]),
        r#"{"b":1,"a":[true,null]}"#
    );
    assert_eq!(s.cli(&["TTL", "motia:state:t:k:1"]), "-1");

    on(&s)
        .args(["set", "t", "k:2"])
        .write_stdin("\"from stdin\"\n")
        .assert()
        .success();
    assert_eq!(s.cli(&["GET", "motia:state:t:k:2"]), "\"from stdin\"");
    on(&s)
        .args(["set", "t", "k:3", "-", "--ttl", "120"])
        .write_stdin("[1, 2]")
        .assert()
        .success();
    assert_eq!(s.cli(&["GET", "motia:state:t:k:3"]), "[1,2]");
    let ttl: i64 = s.cli(&["TTL", "motia:state:t:k:3"]).parse().unwrap();
    assert!((1..=120).contains(&ttl), "{ttl}");
    // A plain set drops the expiry, as Motia's does.
    on(&s).args(["set", "t", "k:3", "3"]).assert().success();
    assert_eq!(s.cli(&["TTL", "motia:state:t:k:3"]), "-1");
}

#[test]
fn invalid_json_names_line_and_column_and_writes_nothing() {
    let s = RedisServer::start();
    s.set_raw("motia:state:t:k", "\"old\"");
    on(&s)
        .args(["set", "t", "k", "{\n  \"a\": 1,\n  \"b\": }"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid JSON at line 3, column 8"));
    on(&s)
        .args(["set", "t", "k"])
        .write_stdin("not json")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 1, column 2"));
    assert_eq!(s.cli(&["GET", "motia:state:t:k"]), "\"old\"");
    assert_eq!(s.cli(&["DBSIZE"]), "1");
}

#[test]
fn del_prints_the_old_value_and_clear_counts() {
    let s = seeded();
    on(&s)
        .args(["del", "t1", "payment:attempt:1"])
        .assert()
        .success()
        .stdout("{\"status\":\"failed\"}\n");
    assert_eq!(s.cli(&["EXISTS", "motia:state:t1:payment:attempt:1"]), "0");
    on(&s)
        .args(["del", "t1", "payment:attempt:1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no key"));
    on(&s)
        .args(["clear", "t2"])
        .assert()
        .success()
        .stdout("2\n");
    on(&s)
        .args(["clear", "t2"])
        .assert()
        .code(1)
        .stdout("")
        .stderr("motia-state: no trace \"t2\" (it has no keys)\n");
    assert_eq!(stdout_of(on(&s).arg("traces")), "t1\nt3\n");
    assert_eq!(s.cli(&["EXISTS", "motia:stream:x:t9"]), "1");
}

#[test]
fn ttl_and_expire() {
    let s = seeded();
    on(&s)
        .args(["ttl", "t1", "order"])
        .assert()
        .success()
        .stdout("-1\n");
    on(&s).args(["ttl", "t1", "nope"]).assert().code(1);
    on(&s)
        .args(["expire", "t1", "order", "10m"])
        .assert()
        .success()
        .stdout("1\n");
    let ttl: i64 = stdout_of(on(&s).args(["ttl", "t1", "order"]))
        .trim()
        .parse()
        .unwrap();
    assert!((590..=600).contains(&ttl), "{ttl}");
    // Without KEY: every key of the trace.
    on(&s)
        .args(["expire", "t1", "2h"])
        .assert()
        .success()
        .stdout("3\n");
    let ttl: i64 = s.cli(&["TTL", "motia:state:t1:a"]).parse().unwrap();
    assert!((7000..=7200).contains(&ttl), "{ttl}");
    assert_eq!(s.cli(&["TTL", "motia:state:t2:zeta"]), "-1");
    on(&s)
        .args(["expire", "t1", "persist"])
        .assert()
        .success()
        .stdout("3\n");
    on(&s)
        .args(["expire", "t1", "persist"])
        .assert()
        .success()
        .stdout("0\n");
    assert_eq!(s.cli(&["TTL", "motia:state:t1:order"]), "-1");
    on(&s)
        .args(["expire", "t1", "order", "90"])
        .assert()
        .success();
    on(&s)
        .args(["expire", "t1", "nope", "90s"])
        .assert()
        .code(1);
    on(&s)
        .args(["expire", "t1", "order", "soon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid duration \"soon\""));
    on(&s).args(["expire", "t1", "1d"]).assert().success();
    on(&s).args(["expire", "t1", "0"]).assert().code(2);
    let ttl: i64 = s.cli(&["TTL", "motia:state:t1:order"]).parse().unwrap();
    assert!(ttl > 80_000, "the bad duration changed nothing: {ttl}");
}

#[test]
fn values_and_durations_beginning_with_a_dash() {
    let s = RedisServer::start();
    for (value, stored) in [
        ("-7", "-7"),
        ("-0.5", "-0.5"),
        ("-12345678901234567890", "-12345678901234567890"),
    ] {
        on(&s)
            .args(["set", "t", "n", value])
            .assert()
            .success()
            .stdout("");
        assert_eq!(s.cli(&["GET", "motia:state:t:n"]), stored);
    }
    // Flags after a dash value are still flags.
    on(&s)
        .args(["set", "t", "n", "-3", "--ttl", "60"])
        .assert()
        .success();
    let ttl: i64 = s.cli(&["TTL", "motia:state:t:n"]).parse().unwrap();
    assert!((1..=60).contains(&ttl), "{ttl}");
    on(&s)
        .args(["set", "t", "n", "-x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid JSON at line 1, column 2"));
    assert_eq!(s.cli(&["GET", "motia:state:t:n"]), "-3");

    for args in [
        &["expire", "t", "n", "-5"][..],
        &["expire", "t", "-5"],
        &["expire", "t", "n", "-10m"],
        &["expire", "t", "n", "-5", "--read-only"],
    ] {
        on(&s).args(args).assert().code(2).stderr(
            predicate::str::contains("a duration cannot be negative")
                .and(predicate::str::contains("--").not()),
        );
    }
    let ttl: i64 = s.cli(&["TTL", "motia:state:t:n"]).parse().unwrap();
    assert!(
        (1..=60).contains(&ttl),
        "the refused durations changed nothing: {ttl}"
    );
    on(&s)
        .args(["expire", "t", "n", "10m", "--read-only"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--read-only is given"));
}

#[test]
fn items_without_filters_writes_values_through() {
    let s = RedisServer::start();
    s.set_raw(
        "motia:state:t:a",
        r#"{"z":1,"a":1.50,"big":123456789012345678901234567890}"#,
    );
    s.set_raw("motia:state:t:b", "  [1, 2]  ");
    s.set_raw("motia:state:t:c", "{\n  \"pretty\": true\n}");
    s.set_raw("motia:state:t:d", r#""tab\there \u00e9 \ud83d\ude00""#);
    s.set_raw("motia:state:t:e", "-0.0");
    s.set_raw("motia:state:t:f", "{\"a\":");
    s.set_raw("motia:state:u\"q:g", "null");
    s.cli(&["SET", "motia:state:t:h", ""]);
    let out = on(&s).arg("items").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        concat!(
            r#"{"groupId":"t","key":"a","type":"object","value":{"z":1,"a":1.50,"big":123456789012345678901234567890}}"#,
            "\n",
            r#"{"groupId":"t","key":"b","type":"array","value":[1, 2]}"#,
            "\n",
            r#"{"groupId":"t","key":"c","type":"object","value":{"pretty":true}}"#,
            "\n",
            r#"{"groupId":"t","key":"d","type":"string","value":"tab\there \u00e9 \ud83d\ude00"}"#,
            "\n",
            r#"{"groupId":"t","key":"e","type":"number","value":-0.0}"#,
            "\n",
            r#"{"groupId":"u\"q","key":"g","type":"null","value":null}"#,
            "\n",
        )
    );
    assert_eq!(
        String::from_utf8(out.stderr).unwrap(),
        "motia-state: skipped motia:state:t:f: the value is not JSON\n"
    );
}

#[test]
fn items_as_json_lines_with_filters() {
    let s = seeded();
    let out = on(&s).arg("items").output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines.len(),
        5,
        "the non-JSON value and the hash are left out"
    );
    assert_eq!(
        lines[0].to_string(),
        r#"{"groupId":"t1","key":"a","type":"string","value":"ünïcødé ✓"}"#
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("skipped motia:state:t3:note"), "{stderr}");

    assert_eq!(
        stdout_of(on(&s).args(["items", "--filter", "status eq paid"])),
        "{\"groupId\":\"t1\",\"key\":\"order\",\"type\":\"object\",\"value\":{\"id\":7,\"status\":\"paid\",\"big\":12345678901234567890}}\n"
    );
    assert_eq!(
        stdout_of(on(&s).args(["items", "--trace", "t2", "--filter", "n gte 2"])),
        "{\"groupId\":\"t2\",\"key\":\"zeta\",\"type\":\"object\",\"value\":{\"n\":2}}\n"
    );
    assert_eq!(
        stdout_of(on(&s).args([
            "items",
            "--filter",
            "n isNull",
            "--filter",
            "status isNotNull"
        ]))
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["key"].to_string())
        .collect::<Vec<_>>(),
        ["\"order\"", "\"payment:attempt:1\""],
    );
    on(&s)
        .args(["items", "--filter", "status between 1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown operator"));
}

#[test]
fn export_import_round_trip() {
    let s = seeded();
    s.cli(&["EXPIRE", "motia:state:t1:order", "5000"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state.json");
    on(&s)
        .args(["export", "-o", file.to_str().unwrap()])
        .assert()
        .success()
        .stdout("");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(doc["items"].as_array().unwrap().len(), 6);

    // Always a standalone server of its own (in the cluster suite: from a cluster to one server).
    let other = RedisServer::start_with(&[]);
    on(&other)
        .args(["import", file.to_str().unwrap()])
        .assert()
        .success()
        .stdout("imported 6 items in 3 traces (0 replaced existing keys)\n");
    for k in [
        "motia:state:t1:order",
        "motia:state:t1:a",
        "motia:state:t3:note",
        "motia:state:t2:alpha",
    ] {
        assert_eq!(other.cli(&["GET", k]), s.cli(&["GET", k]), "{k}");
    }
    let ttl: i64 = other.cli(&["TTL", "motia:state:t1:order"]).parse().unwrap();
    assert!((4900..=5000).contains(&ttl), "{ttl}");
    assert_eq!(other.cli(&["TTL", "motia:state:t1:a"]), "-1");

    // Existing keys: refused, nothing written, unless --overwrite.
    other.set_raw("motia:state:t1:a", "\"changed\"");
    other.cli(&["DEL", "motia:state:t2:zeta"]);
    on(&other)
        .args(["import", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("exist already").and(predicate::str::contains("--overwrite")),
        );
    assert_eq!(other.cli(&["GET", "motia:state:t1:a"]), "\"changed\"");
    assert_eq!(other.cli(&["EXISTS", "motia:state:t2:zeta"]), "0");
    on(&other)
        .args(["import", "--overwrite"])
        .pipe_stdin(&file)
        .unwrap()
        .assert()
        .success()
        .stdout("imported 6 items in 3 traces (5 replaced existing keys)\n");
    assert_eq!(
        other.cli(&["GET", "motia:state:t1:a"]),
        s.cli(&["GET", "motia:state:t1:a"])
    );

    // One trace to stdout.
    let one = stdout_of(on(&s).args(["export", "--trace", "t2"]));
    let doc: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(doc["items"].as_array().unwrap().len(), 2);

    on(&other)
        .arg("import")
        .write_stdin("{\"format\":\"motia-state-export\",\n\"items\": [}")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 2, column"));
    on(&other)
        .args(["import", dir.path().join("missing.json").to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read"));
}

#[test]
fn read_only_refuses_every_write() {
    let s = seeded();
    let before = s.cli(&["DEBUG", "DIGEST"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("doc.json");
    std::fs::write(
        &file,
        r#"{"format":"motia-state-export","version":1,"prefix":"motia:state:","items":[{"groupId":"n","key":"k","value":1}]}"#,
    )
    .unwrap();
    let writes: [&[&str]; 6] = [
        &["set", "t1", "order", "1"],
        &["del", "t1", "order"],
        &["clear", "t1"],
        &["expire", "t1", "10m"],
        &["expire", "t1", "order", "persist"],
        &["import", file.to_str().unwrap()],
    ];
    for args in writes {
        on(&s)
            .arg("--read-only")
            .args(args)
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("--read-only")
                    .and(predicate::str::contains("nothing was changed")),
            );
    }
    assert_eq!(s.cli(&["DEBUG", "DIGEST"]), before);
    // Reads still work.
    on(&s)
        .args(["--read-only", "get", "t1", "order"])
        .assert()
        .success();
}

#[test]
fn connection_errors_exit_3() {
    let port = common::free_port().to_string();
    bin()
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--connect-timeout",
            "3",
            "traces",
        ])
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("cannot connect to 127.0.0.1:")
                .and(predicate::str::contains(&port)),
        );

    let s = RedisServer::start_with(&["--requirepass", "right"]);
    bin()
        .args(["--url", &s.url(), "--password", "wrong", "traces"])
        .assert()
        .code(3)
        .stderr(
            predicate::str::contains("authentication").and(predicate::str::contains("password")),
        );
    bin()
        .env("REDIS_PASSWORD", "right")
        .args(["--url", &s.url(), "traces"])
        .assert()
        .success();
}

#[test]
fn bad_settings_exit_2_naming_the_setting() {
    bin()
        .args(["--port", "abc", "traces"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--port").and(predicate::str::contains("\"abc\"")));
    bin()
        .env("REDIS_PORT", "abc")
        .arg("traces")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid setting REDIS_PORT"));
    bin()
        .env("STATE_TTL", "-5")
        .arg("traces")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("STATE_TTL"));
    bin()
        .env("REDIS_URL", "http://x")
        .arg("traces")
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("REDIS_URL").and(predicate::str::contains("unknown scheme")),
        );
    bin().args(["frobnicate"]).assert().code(2);
    bin()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit status").and(predicate::str::contains("Examples")));
}

/// Lines of a child's stdout, read on a thread so the test can wait with a deadline.
fn line_reader(stdout: std::process::ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for_url(rx: &mpsc::Receiver<String>) -> String {
    let deadline = Instant::now() + common::POLL_LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = rx
            .recv_timeout(left)
            .expect("demo printed no redis:// URL in time");
        if let Some(i) = line.find("redis://") {
            return line[i..].split_whitespace().next().unwrap().to_string();
        }
    }
}

fn answers(port: &str) -> bool {
    std::process::Command::new("redis-cli")
        .args(["-p", port, "PING"])
        .stderr(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("PONG"))
        .unwrap_or(false)
}

fn wait_until_gone(port: &str) {
    common::poll_for(
        &format!("redis-server on {port} to stop"),
        common::POLL_LIMIT,
        || {
            if answers(port) {
                Err("it still answers PING".to_string())
            } else {
                Ok(())
            }
        },
    );
}

fn start_demo() -> (std::process::Child, String, mpsc::Receiver<String>) {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("motia-state"));
    for v in common::MOTIA_ENV {
        cmd.env_remove(v);
    }
    let mut child = cmd
        .args(["demo", "--no-browser"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = line_reader(child.stdout.take().unwrap());
    let url = wait_for_url(&rx);
    (child, url, rx)
}

#[test]
fn demo_seeds_a_private_server_and_stops_it() {
    let (mut child, url, rx) = start_demo();
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let redis = |args: &[&str]| {
        let out = std::process::Command::new("redis-cli")
            .args(["-p", &port])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_end()
            .to_string()
    };
    let traces = stdout_of(bin().args(["--url", &url, "traces"]));
    assert!(traces.lines().count() >= 40, "{traces}");
    assert!(traces.lines().all(|t| !t.contains("stream")));
    let keys: Vec<String> = redis(&["--scan", "--pattern", "motia:state:*"])
        .lines()
        .map(String::from)
        .collect();
    assert!(keys.len() > 300);
    assert!(keys.iter().any(|k| k.contains(":payment:attempt:1")));
    let big = keys
        .iter()
        .map(|k| redis(&["STRLEN", k]).parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert!(big > 2_000_000, "one value of several MB: {big}");
    let with_ttl = keys.iter().filter(|k| redis(&["TTL", k]) != "-1").count();
    assert!(with_ttl > 0);
    assert_eq!(
        redis(&["TYPE", "motia:stream:notifications:default"]),
        "hash"
    );
    let out = bin().args(["--url", &url, "items"]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not JSON"),
        "one non-JSON value"
    );

    // SIGTERM: the demo stops its server and exits 0.
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    wait_until_gone(&port);
    drop(rx);
}

#[cfg(target_os = "linux")]
#[test]
fn demo_server_dies_with_a_killed_demo() {
    let (mut child, url, _rx) = start_demo();
    let port = url.rsplit(':').next().unwrap().to_string();
    assert!(answers(&port));
    child.kill().unwrap();
    child.wait().unwrap();
    wait_until_gone(&port);
}
