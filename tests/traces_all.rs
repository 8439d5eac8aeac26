//! `traces --json --all` reads each step record's header only (issue 19): the same lines, byte
//! for byte, as the full read printed before, on a fixture of realistic and awkward records;
//! and the library's header-only read agrees with reading every record whole.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::PathBuf;

use common::RedisServer;
use common::motia_state as bin;
use common::traces::*;
use motia_state::RedisStateAdapter;
use motia_state::adapter::traces::{FlowStatus, TraceLimits, TraceRecords};
use serde_json::{Value, json};

/// The listings compared, each with the file holding what the full read printed.
const LISTINGS: [(&[&str], &str); 4] = [
    (&["traces", "--json", "--all"], "all.jsonl"),
    (&["traces", "--json"], "with_state.jsonl"),
    (
        &["traces", "--json", "--all", "--status", "unknown"],
        "unknown.jsonl",
    ),
    (&["traces", "--all"], "all_names.txt"),
];

/// Where the full read's output lives: written by the code before header-only reading (commit
/// 690f587) with `TRACES_ALL_REFERENCE_BIN=/path/to/that/motia-state cargo test --test
/// traces_all -- --ignored`.
fn expected_path(name: &str) -> PathBuf {
    common::root().join("tests/data/traces_all").join(name)
}

fn hset(con: &mut redis::Connection, key: &[u8], field: &[u8], value: &[u8]) {
    let () = redis::cmd("HSET")
        .arg(key)
        .arg(field)
        .arg(value)
        .query(con)
        .map(|_: i64| ())
        .expect("hset");
}

fn key(prefix: &str, id: &[u8]) -> Vec<u8> {
    let mut k = prefix.as_bytes().to_vec();
    k.extend_from_slice(id);
    k
}

fn pretty(doc: &str) -> String {
    let v: Value = serde_json::from_str(doc).unwrap();
    serde_json::to_string_pretty(&v).unwrap()
}

/// A step document with `n` events, about 130 bytes each.
fn with_events(mut step: Step, trace: &str, n: i64) -> Step {
    for e in 0..n {
        let at = step.start + e;
        step = if e % 3 == 0 {
            step.event(set(
                at,
                trace,
                &format!("k{e}"),
                json!({"n": e, "note": "a value written by the step"}),
            ))
        } else {
            step.event(log(at, &format!("event {e} of the step")))
        };
    }
    step
}

/// 300 order flows (completed, failed four times, retried then completed, running; every
/// fifth record pretty-printed; 0 to 3 state keys), and beside them the awkward cases: ids that
/// are not UTF-8, records of 40 KB compact and pretty, records whose start holds no header
/// (events first, a 6 KB error before the events, an `events` key nested in the entry point,
/// a name that is not UTF-8, no events at all), unreadable records, a records key of another
/// type, an old group with its own status, groups without records, state without records.
fn write_fixture(s: &RedisServer) {
    let mut con = connection(s);
    let mut state = String::new();
    for i in 0..300u32 {
        let trace = format!("OR{:03}-{:07}", i, 2_104_821 + i);
        let t = T0 + i64::from(i) * 1_000;
        let mut steps = vec![with_events(
            Step::new(i * 10, "CreateOrder", "api", t + 2),
            &trace,
            3,
        )];
        match i % 6 {
            0 => {
                for a in 0..4 {
                    steps.push(
                        Step::new(
                            i * 10 + 1 + a,
                            "ProcessPayment",
                            "event",
                            t + 100 + i64::from(a) * 2_000,
                        )
                        .event(get(t + 105, &trace, "payment"))
                        .failed("Card declined"),
                    );
                }
            }
            1 => {
                steps.push(
                    Step::new(i * 10 + 1, "ProcessPayment", "event", t + 100).failed("Timeout"),
                );
                steps.push(with_events(
                    Step::new(i * 10 + 2, "ProcessPayment", "event", t + 2_100),
                    &trace,
                    2,
                ));
            }
            2 => steps.push(
                with_events(
                    Step::new(i * 10 + 1, "ShipOrder", "event", t + 100),
                    &trace,
                    2,
                )
                .running(),
            ),
            _ => steps.push(with_events(
                Step::new(i * 10 + 1, "ConfirmOrder", "event", t + 100),
                &trace,
                4,
            )),
        }
        let group = json!({"id": trace, "name": "CreateOrder", "startTime": t}).to_string();
        hset(
            &mut con,
            b"motia:trace:default",
            trace.as_bytes(),
            group.as_bytes(),
        );
        let records = key("motia:trace:", trace.as_bytes());
        for (n, step) in steps.iter().enumerate() {
            let doc = step.to_json(&trace);
            let doc = if (i as usize + n).is_multiple_of(5) {
                pretty(&doc)
            } else {
                doc
            };
            hset(&mut con, &records, step.id.as_bytes(), doc.as_bytes());
        }
        for k in 0..i % 4 {
            state.push_str(&format!("SET motia:state:{trace}:key-{k} {{\"n\":{k}}}\n"));
        }
    }
    s.load(&state);

    // Ids that are not UTF-8: with records and state, records only, state only.
    for (id, with_state, with_records) in [
        (&b"N\xffUTF-0000001"[..], true, true),
        (&b"N\xfeUTF-0000002"[..], false, true),
        (&b"caf\xe9-0000003"[..], true, false),
    ] {
        let text = String::from_utf8_lossy(id).into_owned();
        if with_records {
            let group = json!({"id": text, "name": "Bytes", "startTime": T0}).to_string();
            hset(&mut con, b"motia:trace:default", id, group.as_bytes());
            let step = with_events(Step::new(9_000, "Bytes", "api", T0 + 1), &text, 2);
            hset(
                &mut con,
                &key("motia:trace:", id),
                step.id.as_bytes(),
                step.to_json(&text).as_bytes(),
            );
        }
        if with_state {
            let () = redis::cmd("SET")
                .arg(key("motia:state:", &[id, b":order"].concat()))
                .arg("{}")
                .query(&mut con)
                .unwrap();
        }
    }

    // Records of 40 KB, read by their ends before: a failed one compact, a completed one pretty.
    let big = "BIGRC-0000001";
    let mut f = Flow::new(big, "Bulk", T0);
    f = f.step(
        with_events(Step::new(9_100, "Bulk", "api", T0 + 1), big, 300).failed("Out of stock"),
    );
    f.write(s);
    let step = with_events(Step::new(9_101, "Pack", "event", T0 + 900), big, 300);
    hset(
        &mut con,
        &key("motia:trace:", big.as_bytes()),
        step.id.as_bytes(),
        pretty(&step.to_json(big)).as_bytes(),
    );
    s.set_raw(&format!("motia:state:{big}:stock"), "0");

    // Starts that hold no header: read whole.
    let odd = "ODDHD-0000001";
    Flow::new(odd, "Odd", T0).write(s);
    let records = key("motia:trace:", odd.as_bytes());
    let events_first = format!(
        r#"{{"events":[{}],"id":"{}","name":"EventsFirst","parentTraceId":"{odd}","status":"failed","startTime":{},"endTime":{}}}"#,
        log(T0 + 5, "first"),
        uuid(9_200),
        T0 + 3,
        T0 + 9
    );
    hset(
        &mut con,
        &records,
        uuid(9_200).as_bytes(),
        events_first.as_bytes(),
    );
    let long_error = json!({
        "id": uuid(9_201), "name": "LongError", "parentTraceId": odd, "status": "failed",
        "startTime": T0 + 10, "endTime": T0 + 20,
        "error": {"message": "boom", "stack": "    at frame\n".repeat(500)},
        "entryPoint": {"type": "event", "stepName": "LongError"},
        "events": [log(T0 + 11, "x")],
    });
    hset(
        &mut con,
        &records,
        uuid(9_201).as_bytes(),
        long_error.to_string().as_bytes(),
    );
    let nested = format!(
        r#"{{"id":"{}","name":"Nested","parentTraceId":"{odd}","entryPoint":{{"type":"event","stepName":"Nested","events":1}},"status":"completed","startTime":{},"events":[],"endTime":{}}}"#,
        uuid(9_202),
        T0 + 30,
        T0 + 31
    );
    hset(
        &mut con,
        &records,
        uuid(9_202).as_bytes(),
        nested.as_bytes(),
    );
    let named_events = Step::new(9_203, "events", "event", T0 + 40).to_json(odd);
    hset(
        &mut con,
        &records,
        uuid(9_203).as_bytes(),
        named_events.as_bytes(),
    );
    let no_events = format!(
        r#"{{"id":"{}","name":"NoEvents","status":"running","startTime":{}}}"#,
        uuid(9_204),
        T0 + 50
    );
    hset(
        &mut con,
        &records,
        uuid(9_204).as_bytes(),
        no_events.as_bytes(),
    );
    s.set_raw(&format!("motia:state:{odd}:k"), "1");

    // A name that is not UTF-8 in a record's header: unreadable, as the whole read found.
    let bad_utf8 = "BADU8-0000001";
    Flow::new(bad_utf8, "Bad", T0).write(s);
    let mut doc = br#"{"id":"x","name":"caf"#.to_vec();
    doc.extend_from_slice(b"\xe9");
    doc.extend_from_slice(
        format!(r#"","status":"completed","startTime":{},"events":[]}}"#, T0).as_bytes(),
    );
    hset(
        &mut con,
        &key("motia:trace:", bad_utf8.as_bytes()),
        b"x",
        &doc,
    );

    // Unreadable records: not JSON, no status, a records key of another type.
    let broken = "BROKN-0000001";
    Flow::new(broken, "Broken", T0)
        .step(Step::new(9_300, "Broken", "api", T0 + 1))
        .write(s);
    hset(
        &mut con,
        &key("motia:trace:", broken.as_bytes()),
        b"junk",
        b"not json {",
    );
    let nostatus = "NOSTA-0000001";
    Flow::new(nostatus, "NoStatus", T0).write(s);
    hset(
        &mut con,
        &key("motia:trace:", nostatus.as_bytes()),
        b"s",
        format!(r#"{{"id":"s","name":"S","startTime":{},"events":[]}}"#, T0).as_bytes(),
    );
    s.set_raw(&format!("motia:state:{nostatus}:k"), "1");
    let wrong = "WRONG-0000001";
    Flow::new(wrong, "Wrong", T0).write(s);
    s.set_raw(&format!("motia:trace:{wrong}"), "a string");

    // Groups without records: an old shape with its own status, a plain one, one unreadable.
    let mut old = Flow::new("OLDGR-0000001", "Cron", T0);
    old.old_group = Some("failed");
    old.write(s);
    Flow::new("NOREC-0000001", "Gone", T0).write(s);
    s.set_raw("motia:state:NOREC-0000001:left", "1");
    hset(
        &mut con,
        b"motia:trace:default",
        b"BADGR-0000001",
        b"{\"name\":7}",
    );

    // Records without a group record: the flow is named after its first step in start order.
    let nogroup = "NOGRP-0000001";
    let records = key("motia:trace:", nogroup.as_bytes());
    for (n, name, at) in [(9_400, "Later", T0 + 900), (9_401, "First", T0 + 5)] {
        let step = with_events(Step::new(n, name, "event", at), nogroup, 2);
        hset(
            &mut con,
            &records,
            step.id.as_bytes(),
            step.to_json(nogroup).as_bytes(),
        );
    }
    s.set_raw(&format!("motia:state:{nogroup}:k"), "1");

    // State without records.
    s.set_raw("motia:state:STATE-0000001:a", "1");
    s.set_raw("motia:state:STATE-0000001:b", "2");
}

fn output(s: &RedisServer, program: Option<&OsStr>, args: &[&str]) -> Vec<u8> {
    let out = match program {
        Some(p) => {
            let mut c = std::process::Command::new(p);
            for v in common::MOTIA_ENV {
                c.env_remove(v);
            }
            c.args(["--url", &s.url()]).args(args).output().unwrap()
        }
        None => bin().args(["--url", &s.url()]).args(args).output().unwrap(),
    };
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn the_listings_are_byte_for_byte_what_the_full_read_printed() {
    let s = RedisServer::start();
    write_fixture(&s);
    for (args, file) in LISTINGS {
        let expected = std::fs::read(expected_path(file)).unwrap();
        let got = output(&s, None, args);
        if got != expected {
            let (got, expected) = (
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(&expected),
            );
            let diff: Vec<String> = similar_lines(&expected, &got);
            panic!(
                "{args:?} differs from tests/data/traces_all/{file}:\n{}",
                diff.join("\n")
            );
        }
    }
    // The fixture has what the issue asks for: every status, failed attempts, ids that are not
    // UTF-8 (in base64).
    let all = String::from_utf8(std::fs::read(expected_path("all.jsonl")).unwrap()).unwrap();
    let lines: Vec<Value> = all
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for status in ["completed", "failed", "running", "unknown"] {
        assert!(lines.iter().any(|l| l["status"] == status), "{status}");
    }
    assert!(lines.iter().any(|l| l["failedAttempts"] == 4));
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.get("traceIdBase64").is_some())
            .count(),
        3
    );
}

/// The lines that differ, for the failure message.
fn similar_lines(expected: &str, got: &str) -> Vec<String> {
    let (e, g): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), got.lines().collect());
    let mut out = vec![format!("{} lines expected, {} printed", e.len(), g.len())];
    for (i, (a, b)) in e
        .iter()
        .zip(&g)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .take(10)
    {
        out.push(format!("line {}:\n  expected {a}\n  printed  {b}", i + 1));
    }
    out
}

/// Writes the files the test above compares with, from the binary of the full read.
#[test]
#[ignore = "writes tests/data/traces_all from TRACES_ALL_REFERENCE_BIN"]
fn write_the_full_reads_output() {
    let program = std::env::var_os("TRACES_ALL_REFERENCE_BIN")
        .expect("TRACES_ALL_REFERENCE_BIN: the motia-state of the full read");
    let s = RedisServer::start();
    write_fixture(&s);
    std::fs::create_dir_all(expected_path("")).unwrap();
    for (args, file) in LISTINGS {
        std::fs::write(expected_path(file), output(&s, Some(&program), args)).unwrap();
    }
}

/// What a listing takes from one flow's records.
#[derive(Debug, PartialEq)]
struct Listed {
    status: Option<FlowStatus>,
    steps: usize,
    failed_attempts: Option<usize>,
    retries: usize,
    start_time: Option<i64>,
    first_step: Option<String>,
    unreadable: usize,
}

fn summary(r: &TraceRecords) -> Listed {
    Listed {
        status: r.status(),
        steps: r.step_count(),
        failed_attempts: r.failed_attempts(),
        retries: r.retries(),
        start_time: r.start_time(),
        first_step: r.steps.first().map(|s| s.name.clone()),
        unreadable: r.unreadable.len(),
    }
}

#[tokio::test]
async fn reading_headers_only_agrees_with_reading_every_record_whole() {
    let s = RedisServer::start();
    write_fixture(&s);
    let state = RedisStateAdapter::connect(s.config()).await.unwrap();
    let groups = state.scan_trace_groups().collect_all().await.unwrap();
    let ids: Vec<Vec<u8>> = groups.iter().map(|g| g.trace_id_bytes.clone()).collect();
    assert!(ids.len() > 300, "{}", ids.len());
    let whole = TraceLimits {
        bytes: usize::MAX,
        steps: usize::MAX,
        ..TraceLimits::default()
    };
    let headers = TraceLimits {
        bytes: 0,
        steps: 0,
        after_events: false,
        ..TraceLimits::default()
    };
    let full = state.read_traces(&ids, whole).await.unwrap();
    assert_eq!(s.cli(&["CONFIG", "RESETSTAT"]), "OK");
    let heads = state.read_traces(&ids, headers).await.unwrap();
    let mut differ = BTreeMap::new();
    for ((id, a), b) in ids.iter().zip(&full).zip(&heads) {
        if summary(a) != summary(b) {
            differ.insert(
                String::from_utf8_lossy(id).into_owned(),
                (summary(a), summary(b)),
            );
        }
    }
    assert!(differ.is_empty(), "{differ:#?}");
    // The headers are the records' starts: the end time, written after the events, is not
    // read.
    let at = ids.iter().position(|id| id == b"OR003-2104824").unwrap();
    assert!(full[at].steps.iter().all(|s| s.end_time.is_some()));
    assert!(heads[at].steps.iter().all(|s| s.end_time.is_none()));
    // Whole documents were read (HMGET) for the flows whose records' starts hold no header
    // only: the events first, a long error, a nested key, a name that is not UTF-8, no status.
    let stats = s.cli(&["INFO", "commandstats"]);
    let calls = |cmd: &str| {
        stats
            .lines()
            .find_map(|l| l.strip_prefix(&format!("cmdstat_{cmd}:calls=")))
            .and_then(|rest| rest.split(',').next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert_eq!(calls("hmget"), 3, "{stats}");
    // Each flow's size first; the small ones whole in one HGETALL each; the script, which
    // moves only the records' starts, for the flow of 40 KB records and the records key of
    // another type (its HGETALL refused) only.
    assert_eq!(calls("memory|usage"), ids.len() as u64, "{stats}");
    let hgetall = stats.lines().find(|l| l.starts_with("cmdstat_hgetall:"));
    assert!(
        hgetall.is_some_and(|l| l.trim_end().ends_with("failed_calls=1")),
        "{stats}"
    );
    assert_eq!(calls("evalsha_ro"), 2, "{stats}");
}
