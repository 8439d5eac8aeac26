//! `stats` and `gc` against private servers seeded with state of various ages: trace records
//! with old and new times (some gone, some missing), keys with and without TTL, idle times set
//! with `RESTORE ... IDLETIME`, a maxmemory setting, restricted ACL users and an LFU policy.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::RedisServer;
use common::motia_state as bin;
use common::traces::{Flow, Step, connection, set};
use motia_state::RedisStateAdapter;
use motia_state::adapter::gc::{GcAction, GcSelection, StatusFilter};
use motia_state::adapter::stats::KeySource;
use serde_json::{Value, json};

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

/// Sets a key and makes it look untouched for `idle_secs` (RESTORE ... IDLETIME keeps the
/// value and the TTL given).
fn put(server: &RedisServer, key: &str, value: &str, ttl_secs: Option<u64>, idle_secs: u64) {
    let mut con = connection(server);
    let dump: Vec<u8> = {
        let () = redis::cmd("SET")
            .arg(key)
            .arg(value)
            .query(&mut con)
            .unwrap();
        redis::cmd("DUMP").arg(key).query(&mut con).unwrap()
    };
    let ttl_ms = ttl_secs.map_or(0, |s| s * 1000);
    let () = redis::cmd("RESTORE")
        .arg(key)
        .arg(ttl_ms)
        .arg(dump)
        .arg("REPLACE")
        .arg("IDLETIME")
        .arg(idle_secs)
        .query(&mut con)
        .unwrap();
}

/// Every key of the database with its type, value (strings) and whether it has a TTL.
fn snapshot(server: &RedisServer) -> BTreeMap<String, (String, Option<String>, bool)> {
    let mut con = connection(server);
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut con).unwrap();
    keys.into_iter()
        .map(|k| {
            let kind: String = redis::cmd("TYPE").arg(&k).query(&mut con).unwrap();
            let value: Option<String> = if kind == "string" {
                redis::cmd("GET").arg(&k).query(&mut con).unwrap()
            } else {
                None
            };
            let pttl: i64 = redis::cmd("PTTL").arg(&k).query(&mut con).unwrap();
            (k, (kind, value, pttl >= 0))
        })
        .collect()
}

fn idle(server: &RedisServer, key: &str) -> u64 {
    server.cli(&["OBJECT", "IDLETIME", key]).parse().unwrap()
}

/// The seeded world (ages relative to now):
/// - DONE1: records, completed 2 h ago; 2 keys without TTL
/// - RUNNG: records, running, started 3 d ago (last activity 3 d ago); 1 key
/// - FRESH: records, running, started 10 min ago; 1 key with a 30 min TTL
/// - FAILD: records, failed 5 d ago (steps kept longer than Motia would); 1 key
/// - GONE1: only the group entry left (steps expired), keys idle 2 d
/// - ORPH1: no records, keys idle 5 d and 6 d, one more idle 10 d with a 2 d TTL
/// - ORPH2: no records, idle 20 d
/// - outside the prefix and other Motia keys (logs, streams, the trace hashes)
fn seed(s: &RedisServer) -> i64 {
    let now = now_ms();
    Flow::new("DONE1", "CreateOrder", now - 2 * HOUR - 500)
        .step(
            Step::new(1, "CreateOrder", "api", now - 2 * HOUR - 500).event(set(
                now - 2 * HOUR - 400,
                "DONE1",
                "order",
                json!({"id": 1}),
            )),
        )
        .write(s);
    put(
        s,
        "motia:state:DONE1:order",
        r#"{"id":"ord_1","status":"paid"}"#,
        None,
        7200,
    );
    put(
        s,
        "motia:state:DONE1:cart",
        r#"["sku-1","sku-2"]"#,
        None,
        7200,
    );

    Flow::new("RUNNG", "ImportCatalog", now - 3 * DAY - HOUR)
        .step(Step::new(2, "ImportCatalog", "cron", now - 3 * DAY - HOUR).running())
        .write(s);
    put(
        s,
        "motia:state:RUNNG:progress",
        r#"{"done":10000}"#,
        None,
        3 * 86400,
    );

    Flow::new("FRESH", "Signup", now - 10 * 60_000)
        .step(Step::new(3, "Signup", "api", now - 10 * 60_000).running())
        .write(s);
    put(
        s,
        "motia:state:FRESH:user",
        r#"{"email":"a@b.c"}"#,
        Some(1800),
        0,
    );

    Flow::new("FAILD", "Checkout", now - 5 * DAY - HOUR)
        .step(Step::new(4, "Checkout", "api", now - 5 * DAY - HOUR).failed("Card declined"))
        .write(s);
    put(
        s,
        "motia:state:FAILD:payment",
        r#"{"status":"declined"}"#,
        None,
        5 * 86400,
    );

    Flow::new("GONE1", "Forgotten", now - 4 * DAY).write(s);
    put(
        s,
        "motia:state:GONE1:a",
        r#""left behind""#,
        None,
        2 * 86400,
    );

    put(s, "motia:state:ORPH1:x", r#"{"n":"x"}"#, None, 5 * 86400);
    put(s, "motia:state:ORPH1:y", r#"{"n":"y"}"#, None, 6 * 86400);
    put(
        s,
        "motia:state:ORPH1:z",
        r#"{"n":"z"}"#,
        Some(2 * 86400),
        10 * 86400,
    );

    put(
        s,
        "motia:state:ORPH2:big",
        &format!(r#""{}""#, "x".repeat(5000)),
        None,
        20 * 86400,
    );

    put(
        s,
        "other:state:ORPH2:big",
        r#""not ours""#,
        None,
        30 * 86400,
    );
    put(
        s,
        "motia:logs:default:1",
        r#"{"msg":"hello"}"#,
        Some(259_200),
        30 * 86400,
    );
    s.cli(&["HSET", "motia:stream:orders:group:ORPH2", "id", "{}"]);
    now
}

async fn adapter(s: &RedisServer) -> RedisStateAdapter {
    RedisStateAdapter::connect(s.config()).await.unwrap()
}

fn bucket<'a>(v: &'a Value, list: &str, label: &str) -> &'a Value {
    v[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["label"] == label)
        .unwrap_or_else(|| panic!("no {list} bucket {label}: {v}"))
}

#[tokio::test]
async fn stats_figures_exact_where_exact() {
    let s = RedisServer::start_with(&["--maxmemory", "100mb"]);
    seed(&s);
    let out = on(&s).args(["stats", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "no progress without a terminal");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();

    assert_eq!(v["keys"], 10);
    assert_eq!(v["traces"], 7);
    assert_eq!(v["keysWithoutTtl"], 8);
    // Reading the figures touches nothing: idle times only grow.
    assert!(idle(&s, "motia:state:ORPH2:big") >= 20 * 86400);
    // The server's own estimate, read separately, is the reference; the raw sizes bound it.
    let state_keys: Vec<String> = s
        .cli(&["KEYS", "motia:state:*"])
        .lines()
        .map(String::from)
        .collect();
    let mut memory = 0u64;
    let mut raw = 0u64;
    for k in &state_keys {
        memory += s
            .cli(&["MEMORY", "USAGE", k, "SAMPLES", "0"])
            .parse::<u64>()
            .unwrap();
        raw += (k.len() + s.cli(&["STRLEN", k]).parse::<usize>().unwrap()) as u64;
    }
    let bytes = v["bytes"].as_u64().unwrap();
    assert!(
        bytes.abs_diff(memory) <= memory / 100,
        "{bytes} vs {memory}"
    );
    assert!(
        bytes >= raw && bytes <= raw + 150 * 10,
        "{bytes} vs raw {raw}"
    );
    assert!(v["bytesWithoutTtl"].as_u64().unwrap() < bytes);

    assert_eq!(v["server"]["maxmemory"], 100 * 1024 * 1024);
    assert_eq!(v["server"]["policy"], "noeviction");
    assert!(v["server"]["usedMemory"].as_u64().unwrap() > bytes);

    let ttl = |label: &str| bucket(&v, "ttlBuckets", label)["keys"].as_u64().unwrap();
    assert_eq!(
        [
            ttl("none"),
            ttl("under 1 h"),
            ttl("1 h to 1 d"),
            ttl("1 to 3 d"),
            ttl("3 to 7 d"),
            ttl("longer")
        ],
        [8, 1, 0, 1, 0, 0]
    );
    // DONE1 by its records (2 h), FRESH by records (10 min), RUNNG 3 d and FAILD 5 d by
    // records; GONE1 (records gone) 2 d, ORPH1 5 d (the key with a TTL is left out), ORPH2 20 d
    // by idle time.
    let age = |label: &str| bucket(&v, "ageBuckets", label)["traces"].as_u64().unwrap();
    assert_eq!(
        [
            age("under 1 h"),
            age("1 h to 1 d"),
            age("1 to 3 d"),
            age("3 to 7 d"),
            age("older"),
            age("unknown")
        ],
        [1, 1, 1, 3, 1, 0],
        "{v}"
    );
    assert_eq!(bucket(&v, "ageBuckets", "3 to 7 d")["keys"], 5);
    assert_eq!(v["topTraces"][0]["traceId"], "ORPH2");
    assert_eq!(v["topTraces"][1]["traceId"], "ORPH1");
    assert_eq!(v["topTraces"][1]["keys"], 3);
    assert_eq!(v["topKeys"][0]["traceId"], "ORPH2");
    assert_eq!(v["topKeys"][0]["key"], "big");
    assert_eq!(v["topKeys"].as_array().unwrap().len(), 10);

    // The table says the same in words.
    let table = on(&s).arg("stats").output().unwrap();
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("keys          10 in 7 traces"), "{text}");
    assert!(text.contains("maxmemory 100.0 MiB"), "{text}");

    // The library with a key list it already has gives the same counts.
    let state = adapter(&s).await;
    let mut list = state_keys.clone();
    list.push("other:state:ORPH2:big".into());
    let from_list = state
        .stats(KeySource::Keys(list), |_, _, _| {})
        .await
        .unwrap();
    assert_eq!((from_list.keys, from_list.traces), (10, 7));
    assert_eq!(from_list.keys_without_ttl, Some(8));
}

/// Without the right to run scripts the probes go out as a pipeline: the same figures.
#[test]
fn stats_are_the_same_for_a_user_who_may_not_run_scripts() {
    let s = RedisServer::start_with(&["--maxmemory", "100mb"]);
    seed(&s);
    s.cli(&[
        "ACL",
        "SETUSER",
        "noscript",
        "on",
        ">pw",
        "~*",
        "+@all",
        "-@scripting",
    ]);
    let stats = |url: &str| -> Value {
        let out = bin()
            .args(["--url", url, "stats", "--json"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let cached_scripts = || -> u64 {
        s.cli(&["INFO", "memory"])
            .lines()
            .find_map(|l| l.strip_prefix("number_of_cached_scripts:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap()
    };
    // Reading a flow's records loads their script (`trace` of a flow without records still
    // looks, and says so); the stats walk then adds its own, which a server refusing it (its
    // flags line, say) would not keep: the script path ran.
    let trace = bin()
        .args(["--url", &s.url(), "trace", "ORPH1"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&trace.stderr).contains("has no step records"),
        "{trace:?}"
    );
    let before = cached_scripts();
    assert_eq!(before, 1, "reading a flow's records loads their script");
    let scripted = stats(&s.url());
    assert_eq!(
        cached_scripts(),
        before + 1,
        "the stats script was not taken"
    );
    let piped = stats(&s.url().replace("redis://", "redis://noscript:pw@"));
    for field in [
        "keys",
        "traces",
        "bytes",
        "keysWithoutTtl",
        "bytesWithoutTtl",
        "ttlBuckets",
        "ageBuckets",
        "topTraces",
        "topKeys",
        "warnings",
    ] {
        assert_eq!(scripted[field], piped[field], "{field}");
    }
    assert_eq!(scripted["keys"], 10);
    assert!(scripted["bytes"].as_u64().is_some_and(|b| b > 0));
}

#[tokio::test]
async fn stats_warns_about_a_full_noeviction_server() {
    let s = RedisServer::start();
    let filler = "y".repeat(10_000);
    for i in 0..100 {
        s.set_raw(&format!("motia:state:FILL:{i}"), &format!(r#""{filler}""#));
    }
    // A limit just above what is used: about 90% full.
    let used: u64 = s
        .cli(&["INFO", "memory"])
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    s.cli(&["CONFIG", "SET", "maxmemory", &(used * 10 / 9).to_string()]);
    let stats = adapter(&s)
        .await
        .stats(KeySource::Scan, |_, _, _| {})
        .await
        .unwrap();
    let fill = stats.server.fill().unwrap();
    assert!(fill > 0.8, "seeded over 80%: {fill}");
    assert!(
        stats
            .warnings
            .iter()
            .any(|w| w.contains("under noeviction")),
        "{:?}",
        stats.warnings
    );

    let open = RedisServer::start();
    open.set_raw("motia:state:T:k", "1");
    let stats = adapter(&open)
        .await
        .stats(KeySource::Scan, |_, _, _| {})
        .await
        .unwrap();
    assert!(
        stats.warnings.iter().any(|w| w.contains("no maxmemory")),
        "{:?}",
        stats.warnings
    );
}

#[tokio::test]
async fn stats_degrade_without_rights_or_idle_times() {
    let s = RedisServer::start();
    seed(&s);
    s.cli(&[
        "ACL", "SETUSER", "viewer", "on", ">pw", "~*", "+@all", "-memory", "-info", "-config",
        "-object",
    ]);
    let url = s.url().replace("redis://", "redis://viewer:pw@");
    let out = bin()
        .args(["--url", &url, "stats", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["keys"].as_u64(), v["traces"].as_u64()),
        (Some(10), Some(7))
    );
    assert_eq!(v["keysWithoutTtl"], 8, "PTTL is still allowed");
    assert!(
        v["bytes"].is_null() && v["bytesWithoutTtl"].is_null(),
        "{v}"
    );
    assert!(v["server"]["usedMemory"].is_null() && v["server"]["maxmemory"].is_null());
    assert!(v["server"]["policy"].is_null());
    assert!(bucket(&v, "ageBuckets", "older")["bytes"].is_null());
    // Ages come from records only: GONE1 by its group's start, ORPH1 and ORPH2 unknown.
    assert_eq!(bucket(&v, "ageBuckets", "unknown")["traces"], 2, "{v}");
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("MEMORY USAGE was refused"), "{warnings}");
    assert!(
        warnings.contains("OBJECT IDLETIME was refused"),
        "{warnings}"
    );

    let lfu =
        RedisServer::start_with(&["--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lfu"]);
    seed(&lfu);
    let stats = adapter(&lfu)
        .await
        .stats(KeySource::Scan, |_, _, _| {})
        .await
        .unwrap();
    assert!(!stats.idle_time_available);
    assert_eq!(
        stats.age_buckets.last().unwrap().traces,
        2,
        "{:?}",
        stats.age_buckets
    );
    assert!(
        stats.warnings.iter().any(|w| w.contains("LFU")),
        "{:?}",
        stats.warnings
    );
}

/// The trace ids a dry run lists.
fn listed(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .take_while(|l| !l.starts_with("total:"))
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
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

#[test]
fn gc_dry_run_changes_nothing_and_yes_does_what_it_said() {
    let s = RedisServer::start();
    seed(&s);
    // Reading values makes keys look fresh: snapshot, then age them again.
    let before = snapshot(&s);
    seed(&s);

    // Flows with records: completed or failed, idle over a day. RUNNG (running, 3 d) stays.
    let dry = run_ok(on(&s).args(["gc", "--older-than", "1d", "--delete"]));
    assert_eq!(listed(&dry), ["FAILD"], "{dry}");
    assert!(dry.contains("total: would delete 1 key "), "{dry}");
    assert!(
        dry.contains("1 running flow left alone (--status any includes it)"),
        "{dry}"
    );
    assert!(dry.contains("dry run: nothing was changed"), "{dry}");

    // Traces without (step) records, idle over 3 days; the dry run touches nothing, not even
    // idle times, so running it twice gives the same answer.
    let args = ["gc", "--no-records", "--older-than", "3d", "--delete"];
    let dry = run_ok(on(&s).args(args));
    assert_eq!(listed(&dry), ["ORPH2", "ORPH1"], "{dry}");
    assert!(dry.contains("total: would delete 4 keys"), "{dry}");
    assert_eq!(run_ok(on(&s).args(args)), dry);
    assert!(idle(&s, "motia:state:ORPH1:x") >= 5 * 86400);
    assert_eq!(snapshot(&s), before);
    seed(&s);

    let done = run_ok(on(&s).args(args).arg("--yes"));
    assert!(done.starts_with("deleted 4 keys"), "{done}");
    let after = snapshot(&s);
    let removed: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    assert_eq!(
        removed,
        [
            "motia:state:ORPH1:x",
            "motia:state:ORPH1:y",
            "motia:state:ORPH1:z",
            "motia:state:ORPH2:big"
        ]
    );
    for (k, v) in &after {
        assert_eq!(before.get(k), Some(v), "{k} unchanged");
    }
    // Keys outside the prefix and Motia's other keys are still there.
    for k in [
        "other:state:ORPH2:big",
        "motia:logs:default:1",
        "motia:stream:orders:group:ORPH2",
    ] {
        assert!(after.contains_key(k), "{k}");
    }

    // A running flow is only touched with --status any.
    let any = run_ok(on(&s).args([
        "gc",
        "--older-than",
        "1d",
        "--status",
        "any",
        "--expire",
        "1h",
    ]));
    assert_eq!(listed(&any), ["FAILD", "RUNNG"], "{any}");
    on(&s)
        .args([
            "gc",
            "--older-than",
            "1d",
            "--status",
            "any",
            "--expire",
            "1h",
            "--yes",
            "--read-only",
        ])
        .assert()
        .code(2);
    assert_eq!(snapshot(&s), after);
    let done = run_ok(on(&s).args(["gc", "--older-than", "1d", "--expire", "1h", "--yes"]));
    assert!(done.starts_with("gave 1 key "), "{done}");
    let ttl: i64 = s
        .cli(&["TTL", "motia:state:FAILD:payment"])
        .parse()
        .unwrap();
    assert!((3000..=3600).contains(&ttl), "{ttl}");
    assert_eq!(s.cli(&["TTL", "motia:state:RUNNG:progress"]), "-1");
}

#[tokio::test]
async fn gc_skips_keys_changed_after_selection() {
    let s = RedisServer::start();
    seed(&s);
    put(&s, "motia:state:ORPH1:n", "5", None, 5 * 86400);
    let state = adapter(&s).await;
    let selection = GcSelection {
        older_than: Some(Duration::from_secs(3 * 86400)),
        no_records: true,
        ..Default::default()
    };
    let plan = state
        .gc_plan(KeySource::Scan, &selection, GcAction::Delete, |_, _| {})
        .await
        .unwrap();
    assert_eq!(plan.totals().0, 5);
    // Meanwhile the app writes one key, re-arms another's TTL, and changes a small integer
    // (whose idle time Redis shares between keys, so its value is compared instead).
    s.set_raw("motia:state:ORPH1:x", r#"{"n":"x2"}"#);
    s.cli(&["PEXPIRE", "motia:state:ORPH1:z", "999999999"]);
    s.cli(&["SET", "motia:state:ORPH1:n", "7"]);
    let report = state.gc_apply(&plan, |_, _| {}).await.unwrap();
    assert_eq!(report.written, 2, "{report:?}");
    assert_eq!(
        report.changed,
        [
            "motia:state:ORPH1:n",
            "motia:state:ORPH1:x",
            "motia:state:ORPH1:z"
        ]
    );
    assert_eq!(s.cli(&["GET", "motia:state:ORPH1:x"]), r#"{"n":"x2"}"#);
    assert_eq!(s.cli(&["GET", "motia:state:ORPH1:n"]), "7");
    assert_eq!(s.cli(&["EXISTS", "motia:state:ORPH1:z"]), "1");
    assert_eq!(s.cli(&["EXISTS", "motia:state:ORPH1:y"]), "0");
    assert_eq!(s.cli(&["EXISTS", "motia:state:ORPH2:big"]), "0");

    // Read-only adapters refuse before anything is sent.
    let mut ro = s.config();
    ro.read_only = true;
    let ro = RedisStateAdapter::connect(ro).await.unwrap();
    assert!(ro.gc_apply(&plan, |_, _| {}).await.is_err());
    let _ = StatusFilter::Any;
}

#[tokio::test]
async fn a_second_run_finishes_an_interrupted_one() {
    for action in [
        GcAction::Delete,
        GcAction::Expire(Duration::from_secs(3600)),
    ] {
        let s = RedisServer::start();
        seed(&s);
        for i in 0..6 {
            put(
                &s,
                &format!("motia:state:ORPH3:k{i}"),
                &format!(r#"{{"i":{i}}}"#),
                None,
                9 * 86400,
            );
        }
        let state = adapter(&s).await;
        let selection = GcSelection {
            older_than: Some(Duration::from_secs(3 * 86400)),
            no_records: true,
            ..Default::default()
        };
        let mut plan = state
            .gc_plan(KeySource::Scan, &selection, action, |_, _| {})
            .await
            .unwrap();
        assert_eq!(plan.totals().0, 10);
        // Interrupted after half of ORPH3 and nothing else.
        plan.traces.retain(|t| t.trace_id == "ORPH3");
        plan.traces[0].keys.truncate(3);
        assert_eq!(state.gc_apply(&plan, |_, _| {}).await.unwrap().written, 3);

        let mut args = vec!["gc", "--no-records", "--older-than", "3d", "--yes"];
        match action {
            GcAction::Delete => args.push("--delete"),
            GcAction::Expire(_) => args.extend(["--expire", "1h"]),
        }
        let out = run_ok(on(&s).args(&args));
        assert!(out.contains(" 7 keys"), "{action:?}: {out}");
        for i in 0..6 {
            let k = format!("motia:state:ORPH3:k{i}");
            match action {
                GcAction::Delete => assert_eq!(s.cli(&["EXISTS", &k]), "0", "{k}"),
                GcAction::Expire(_) => {
                    let ttl: i64 = s.cli(&["TTL", &k]).parse().unwrap();
                    assert!((3000..=3600).contains(&ttl), "{k}: {ttl}");
                }
            }
        }
        // Nothing else was touched.
        assert_eq!(s.cli(&["TTL", "motia:state:DONE1:order"]), "-1");
        assert_eq!(s.cli(&["EXISTS", "motia:state:GONE1:a"]), "1");
    }
}

#[test]
fn gc_flags_are_checked_before_connecting() {
    let s = RedisServer::start();
    for (args, message) in [
        (
            &["gc", "--delete"][..],
            "--older-than DURATION or --no-records",
        ),
        (&["gc", "--no-records"], "needs an action"),
        (
            &["gc", "--no-records", "--delete", "--expire", "1d"],
            "choose one",
        ),
        (
            &["gc", "--older-than", "-3d", "--delete"],
            "cannot be negative",
        ),
        (
            &["gc", "--older-than", "1d", "--status", "done", "--delete"],
            "not a status",
        ),
        (
            &["gc", "--no-records", "--status", "any", "--delete"],
            "applies to flows with records",
        ),
        (
            &["gc", "--no-records", "--expire", "persist"],
            "is not a duration",
        ),
    ] {
        on(&s)
            .args(args)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(message));
    }
    on(&s)
        .args(["gc", "--no-records", "--delete", "--yes", "--read-only"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--read-only"));
}

#[test]
fn stats_view_and_gc_in_the_browser() {
    use common::term::Term;
    let s = RedisServer::start_with(&["--maxmemory", "100mb"]);
    seed(&s);
    let t = Term::start("hygiene", &s.url(), "", None);
    t.wait_for("done");
    t.keys(&["S"]);
    // The whole view, not just its title: tmux may be read while the frame is half written.
    let screen = t.wait("the stats view", |s| {
        s.contains("done · r recomputes") && s.contains("Biggest traces") && s.contains(" >7d ")
    });
    assert!(screen.contains("10 keys · 7 traces"), "{screen}");
    assert!(screen.contains("Traces by age"), "{screen}");
    assert!(screen.contains("Keys by remaining TTL"), "{screen}");
    assert!(screen.contains("noeviction"), "{screen}");
    assert!(screen.contains("Biggest traces"), "{screen}");
    let ages = screen
        .lines()
        .find(|l| l.contains(" >7d "))
        .unwrap_or_default();
    assert!(ages.contains(" 1 "), "ORPH2 is older than 7 days: {screen}");

    // :gc shows the dry run, then asks with the totals; y applies it.
    t.keys(&[":"]);
    t.type_text("gc --no-records --older-than 3d --delete");
    t.keys(&["Enter"]);
    let screen = t.wait_for("Clean up state");
    assert!(screen.contains("would delete 4 keys"), "{screen}");
    assert!(
        screen.contains("ORPH2") && screen.contains("ORPH1"),
        "{screen}"
    );
    assert!(screen.contains("Delete 4 keys"), "{screen}");
    assert_eq!(
        s.cli(&["EXISTS", "motia:state:ORPH2:big"]),
        "1",
        "nothing before y"
    );
    t.keys(&["y"]);
    t.wait_for("4 keys deleted");
    assert_eq!(s.cli(&["EXISTS", "motia:state:ORPH2:big"]), "0");
    assert_eq!(s.cli(&["EXISTS", "motia:state:ORPH1:x"]), "0");
    assert_eq!(s.cli(&["EXISTS", "other:state:ORPH2:big"]), "1");
    t.wait_for("6 keys · 5 traces");

    // Enter on the biggest trace shows it in the panes.
    t.keys(&["Enter"]);
    t.wait("the view to close and the trace to show", |sc| {
        !sc.contains("Stats of") && sc.contains("Keys · DONE1")
    });
    t.keys(&["q"]);
}
