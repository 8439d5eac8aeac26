//! Trace records of trace ids that are not UTF-8 or hold control characters, joined with the
//! state by their exact bytes; `history` of a state group that is not a trace id; the `trace`
//! table's widths and times.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use common::RedisServer;
use common::motia_state as bin;
use common::traces::*;
use serde_json::{Value, json};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The command on `server` with `args`, each any bytes.
fn run(server: &RedisServer, args: &[&[u8]]) -> Run {
    let mut c = bin();
    c.args(["--url", &server.url()]);
    for a in args {
        c.arg(OsStr::from_bytes(a));
    }
    let out = c.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// A flow under the exact bytes `trace`: its group record, one completed step that sets
/// `order` (its events name the trace as JSON text, lossily where it is not UTF-8), and the
/// state key `order`.
fn write_flow(server: &RedisServer, trace: &[u8], name: &str, start: i64) {
    let text = String::from_utf8_lossy(trace);
    let step = Step::new(start as u32 % 1000, name, "api", start + 2).event(set(
        start + 10,
        &text,
        "order",
        json!({"n": 1}),
    ));
    let group = json!({"id": text, "name": name, "startTime": start}).to_string();
    let mut con = connection(server);
    let mut records_key = b"motia:trace:".to_vec();
    records_key.extend_from_slice(trace);
    let mut state_key = b"motia:state:".to_vec();
    state_key.extend_from_slice(trace);
    state_key.extend_from_slice(b":order");
    let () = redis::pipe()
        .cmd("HSET")
        .arg("motia:trace:default")
        .arg(trace)
        .arg(group)
        .ignore()
        .cmd("HSET")
        .arg(&records_key)
        .arg(&step.id)
        .arg(step.to_json(&text))
        .ignore()
        .cmd("SET")
        .arg(&state_key)
        .arg(r#"{"n":1}"#)
        .ignore()
        .query(&mut con)
        .unwrap();
}

#[test]
fn trace_ids_that_are_not_utf8_or_hold_control_characters_join_by_their_bytes() {
    let s = RedisServer::start();
    let bad: &[u8] = b"o\xff1";
    let ctl: &[u8] = b"a\x1bb\nc";
    write_flow(&s, bad, "Bytes", T0);
    write_flow(&s, ctl, "Controls", T0 + 1000);
    write_flow(&s, b"plain", "Plain", T0 + 2000);

    // One row per trace, each with its status from its records; no U+FFFD anywhere.
    for extra in [&[][..], &[&b"--all"[..]][..]] {
        let mut args: Vec<&[u8]> = vec![b"traces", b"--json"];
        args.extend_from_slice(extra);
        let r = run(&s, &args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(!r.stdout.contains('\u{fffd}'), "{}", r.stdout);
        let lines = json_lines(&r.stdout);
        assert_eq!(lines.len(), 3, "{}", r.stdout);
        let find = |field: &str, id: &str| {
            lines
                .iter()
                .find(|l| l[field] == id)
                .unwrap_or_else(|| panic!("{id} in {}", r.stdout))
                .clone()
        };
        let bad_row = find("traceIdBase64", "b/8x");
        assert_eq!(bad_row.get("traceId"), None, "{bad_row}");
        assert_eq!(bad_row["flow"], "Bytes");
        assert_eq!(bad_row["status"], "completed");
        assert_eq!(
            (bad_row["keys"].clone(), bad_row["steps"].clone()),
            (json!(1), json!(1))
        );
        let ctl_row = find("traceId", "a\u{1b}b\nc");
        assert_eq!(ctl_row["flow"], "Controls");
        assert_eq!(ctl_row["status"], "completed");
        assert_eq!(ctl_row["keys"], 1);
        assert!(r.stderr.is_empty(), "{}", r.stderr);
    }

    // `trace` and `history` take the exact bytes.
    let r = run(&s, &[b"trace", bad, b"--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json_lines(&r.stdout)[0]["name"], "Bytes");
    let r = run(&s, &[b"trace", ctl]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("trace a\\x1bb\\nc  flow Controls  completed"),
        "{}",
        r.stdout
    );
    let r = run(&s, &[b"history", ctl, b"order", b"--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json_lines(&r.stdout)[0]["value"], json!({"n": 1}));
    // The trace's own records name it lossily (JSON is text): they are its history.
    let r = run(&s, &[b"history", bad, b"order", b"--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(json_lines(&r.stdout)[0]["step"], "Bytes");
    // No JSON event can name a key that is not UTF-8: said so, not "invalid UTF-8".
    let r = run(&s, &[b"history", b"plain", b"k\xff"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("key \"k\\xff\": it is not UTF-8, and Motia's records are JSON text"),
        "{}",
        r.stderr
    );
    // A trace without records is named escaped.
    let r = run(&s, &[b"trace", b"n\xfe"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stderr.contains("trace \"n\\xfe\" has no step records"),
        "{}",
        r.stderr
    );
}

#[tokio::test]
async fn the_library_reads_groups_and_records_by_their_exact_bytes() {
    let s = RedisServer::start();
    write_flow(&s, b"o\xff1", "Bytes", T0);
    write_flow(&s, b"o\xfe1", "Other", T0 + 1);
    let state = motia_state::RedisStateAdapter::connect(s.config())
        .await
        .unwrap();
    let mut groups = state.scan_trace_groups().collect_all().await.unwrap();
    groups.sort_by(|a, b| a.trace_id_bytes.cmp(&b.trace_id_bytes));
    let ids: Vec<&[u8]> = groups.iter().map(|g| g.trace_id_bytes.as_slice()).collect();
    assert_eq!(ids, [&b"o\xfe1"[..], b"o\xff1"]);
    assert_eq!(groups[1].trace_id, "o\\xff1");
    let ids: Vec<Vec<u8>> = groups.iter().map(|g| g.trace_id_bytes.clone()).collect();
    let records = state
        .read_traces(&ids, motia_state::adapter::traces::TraceLimits::default())
        .await
        .unwrap();
    let names: Vec<&str> = records.iter().map(|r| r.steps[0].name.as_str()).collect();
    assert_eq!(names, ["Other", "Bytes"]);
    let summaries = state
        .flow_summaries(groups, motia_state::adapter::traces::TraceLimits::default())
        .await
        .unwrap();
    assert!(summaries.iter().all(|f| f.steps == 1 && !f.records_expired));
}

/// A flow whose steps write to the group `orders` (not a trace id) and to their own group.
fn write_orders(s: &RedisServer, trace: &str, start: i64, n: u32, status: &str) {
    Flow::new(trace, "PlaceOrder", start)
        .step(
            Step::new(n, "PlaceOrder", "api", start + 1)
                .event(set(start + 5, trace, "cart", json!(["sku"])))
                .event(set(
                    start + 10,
                    "orders",
                    "ord_1",
                    json!({"status": status}),
                )),
        )
        .write(s);
}

#[test]
fn history_of_a_group_that_is_not_a_trace_id_searches_every_flow() {
    let s = RedisServer::start();
    write_orders(&s, "FLOW1-0000001", T0, 1, "pending");
    write_orders(&s, "FLOW2-0000002", T0 + 5000, 2, "paid");
    Flow::new("OTHER-0000003", "Unrelated", T0 + 9000)
        .step(Step::new(3, "Unrelated", "cron", T0 + 9001))
        .write(&s);
    s.set_raw("motia:state:orders:ord_1", r#"{"status":"paid"}"#);

    let r = run(&s, &[b"history", b"orders", b"ord_1", b"--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        json_lines(&r.stdout),
        [
            json!({"timestamp": T0 + 10, "step": "PlaceOrder", "operation": "set",
                   "traceId": "FLOW1-0000001", "value": {"status": "pending"}}),
            json!({"timestamp": T0 + 5010, "step": "PlaceOrder", "operation": "set",
                   "traceId": "FLOW2-0000002", "value": {"status": "paid"}}),
        ]
    );
    assert!(r.stderr.contains("all 3 flows listed"), "{}", r.stderr);
    let r = run(&s, &[b"history", b"orders", b"ord_1"]);
    assert!(
        r.stdout
            .lines()
            .last()
            .unwrap()
            .contains("PlaceOrder (trace FLOW2-0000002)  set  {\"status\":\"paid\"}"),
        "{}",
        r.stdout
    );

    // Nothing found: what was searched, never expiry.
    let r = run(&s, &[b"history", b"orders", b"ord_9"]);
    assert_eq!(r.code, 1);
    assert!(!r.stderr.contains("expire"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("\"orders\" has no step records of its own")
            && r.stderr.contains("all 3 flows listed"),
        "{}",
        r.stderr
    );
}

#[test]
fn the_trace_table_aligns_wide_names_and_prints_times_with_their_offset() {
    let s = RedisServer::start();
    Flow::new("WIDE0-0000001", "注文作成", T0)
        .step(Step::new(1, "注文作成", "api", T0))
        .step(Step::new(2, "Ship", "event", T0 + 100))
        .write(&s);
    let r = run(&s, &[b"trace", b"WIDE0-0000001"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The TYPE column starts in the same terminal cell on every row.
    let lines: Vec<&str> = r.stdout.lines().skip(1).collect();
    let type_cell = |line: &str| {
        let at = ["TYPE", "api", "event"]
            .iter()
            .find_map(|w| line.find(&format!("  {w} ")))
            .unwrap_or_else(|| panic!("{line}"));
        unicode_width(&line[..at])
    };
    let cells: Vec<usize> = lines.iter().map(|l| type_cell(l)).collect();
    assert!(
        cells.windows(2).all(|w| w[0] == w[1]),
        "{cells:?}\n{}",
        r.stdout
    );

    // `started 2025-12-11 06:48:24.821 +00:00` under TZ=UTC, `+01:00` in Paris in winter.
    for (tz, offset) in [("UTC", "+00:00"), ("Europe/Paris", "+01:00")] {
        let out = bin()
            .env("TZ", tz)
            .args(["--url", &s.url(), "trace", "WIDE0-0000001"])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let first = text.lines().next().unwrap();
        assert!(first.contains(&format!(".821 {offset}  ")), "{tz}: {first}");
    }
}

/// Cells of a line: every character here is one cell, or two for CJK ideographs.
fn unicode_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if ('\u{4e00}'..='\u{9fff}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}
