//! What the binary says, word for word, where it used to say something wrong or unhelpful: a
//! port that is no Redis, duration errors, the status words, empty key names, counts of one.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;

use common::RedisServer;
use common::motia_state as bin;
use common::traces::{Flow, Step};
use predicates::prelude::*;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn on(server: &RedisServer) -> assert_cmd::Command {
    let mut c = bin();
    c.args(["--url", &server.url()]);
    c
}

fn run_ok(c: &mut assert_cmd::Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An HTTP server on a port given as Redis: each connection gets a 400 and is closed.
#[test]
fn a_port_that_is_not_redis_is_named_so() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    let url = format!("redis://127.0.0.1:{port}");
    for args in [&["keys", "t1"][..], &["traces", "--json"], &["stats"]] {
        bin()
            .args(["--url", &url, "--connect-timeout", "10"])
            .args(args)
            .assert()
            .code(3)
            .stderr(
                predicate::str::contains(format!(
                    "cannot connect to 127.0.0.1:{port}: not a Redis server \
                     (it answered \"HTTP/1.1 400 Bad Request\")"
                ))
                .and(predicate::str::contains("Parse error").not())
                .and(predicate::str::contains("Unexpected").not()),
            );
    }
}

/// Every duration a flag or argument takes names our units when it is refused, and nothing
/// is written.
#[test]
fn duration_errors_list_the_units_we_accept() {
    let s = RedisServer::start();
    s.set_raw("motia:state:t1:k", "1");
    let cases: [&[&str]; 5] = [
        &["expire", "t1", "k", "10 parsecs"],
        &["expire", "t1", "soon"],
        &["--ttl", "1M", "set", "t1", "k", "2"],
        &["gc", "--older-than", "5ns", "--delete", "--yes"],
        &["gc", "--no-records", "--expire", "1.5h", "--yes"],
    ];
    for args in cases {
        let out = on(&s).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("(units: ms, s, m, h, d, w, y)"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("supported units"), "{args:?}: {err}");
    }
    assert_eq!(s.cli(&["GET", "motia:state:t1:k"]), "1");
    assert_eq!(s.cli(&["PTTL", "motia:state:t1:k"]), "-1");
    // The units listed work.
    run_ok(on(&s).args(["expire", "t1", "k", "1w 2d 3h 4m 5s 6ms"]));
    let pttl: i64 = s.cli(&["PTTL", "motia:state:t1:k"]).parse().unwrap();
    assert!(
        pttl > 9 * DAY && pttl <= 9 * DAY + 3 * HOUR + 245_006,
        "{pttl}"
    );
}

/// `traces --status` said `all` and `gc --status` said `any`: both take both.
#[test]
fn the_status_words_any_and_all_work_in_traces_and_gc() {
    let s = RedisServer::start();
    let now = now_ms();
    Flow::new("RUN1", "Import", now - 3 * DAY)
        .step(Step::new(1, "Import", "cron", now - 3 * DAY).running())
        .write(&s);
    Flow::new("DONE1", "Order", now - 2 * DAY)
        .step(Step::new(2, "Order", "api", now - 2 * DAY))
        .write(&s);
    s.set_raw("motia:state:RUN1:progress", "1");
    s.set_raw("motia:state:DONE1:order", "1");

    let all = run_ok(on(&s).args(["traces", "--json", "--status", "all"]));
    let any = run_ok(on(&s).args(["traces", "--json", "--status", "any"]));
    assert_eq!(all.lines().count(), 2, "{all}");
    assert_eq!(any, all);

    let gc = |status: &str| {
        run_ok(on(&s).args(["gc", "--older-than", "1d", "--status", status, "--delete"]))
    };
    let (any, all) = (gc("any"), gc("all"));
    assert!(any.contains("RUN1") && any.contains("DONE1"), "{any}");
    // The same flows chosen; ages are left out, as the two runs see the clock apart.
    let chosen = |out: &str| -> Vec<String> {
        out.lines()
            .map(|l| l.split("  ").next().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(chosen(&all), chosen(&any));
    on(&s)
        .args(["gc", "--older-than", "1d", "--status", "some", "--delete"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("completed, failed, or any/all"));
}

/// A key named "" printed as an empty line looked like no key at all.
#[test]
fn keys_shows_an_empty_key_name_as_quotes() {
    let s = RedisServer::start();
    s.set_raw("motia:state:t1:", "1");
    s.set_raw("motia:state:t1:a", "2");
    assert_eq!(run_ok(on(&s).args(["keys", "t1"])), "\"\"\na\n");
    assert_eq!(
        run_ok(on(&s).args(["keys", "t1", "--json"])),
        "{\"key\":\"\"}\n{\"key\":\"a\"}\n"
    );
}

#[test]
fn counts_of_one_are_singular() {
    let s = RedisServer::start();
    // gc: one key that already expires sooner than the TTL gc would give.
    s.cli(&["SET", "motia:state:ORPH:x", "1", "EX", "600"]);
    let dry = run_ok(on(&s).args(["gc", "--no-records", "--expire", "1d"]));
    assert!(
        dry.contains("1 key already expires sooner and keeps its TTL"),
        "{dry}"
    );
    let done = run_ok(on(&s).args(["gc", "--no-records", "--expire", "1d", "--yes"]));
    assert!(
        done.contains("1 key already expires sooner and keeps its TTL"),
        "{done}"
    );

    // import of one item.
    let doc = tempfile::NamedTempFile::new().unwrap();
    let export = run_ok(on(&s).args(["export", "--trace", "ORPH"]));
    std::fs::write(doc.path(), export).unwrap();
    s.cli(&["DEL", "motia:state:ORPH:x"]);
    let imported = run_ok(on(&s).args(["import", doc.path().to_str().unwrap()]));
    assert_eq!(
        imported,
        "imported 1 item in 1 trace (0 replaced existing keys)\n"
    );
}
