//! Property: whatever the keyspace under the prefix holds (names and values of any bytes,
//! empty names, glob characters in names and prefix, every Redis type, TTLs), an export written
//! to text and imported into an empty database gives the same keyspace: the same names, types,
//! contents, and TTLs within a second. Keys outside the prefix stay out.
//!
//! One private redis-server for every case (database 0 the source, 1 the copy, FLUSHALL between).

mod common;

use std::collections::BTreeMap;

use common::RedisServer;
use motia_state::{RedisStateAdapter, export};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

#[derive(Debug, Clone)]
enum Data {
    Str(Vec<u8>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
    List(Vec<Vec<u8>>),
    Set(Vec<Vec<u8>>),
    Zset(Vec<(Vec<u8>, f64)>),
    Stream(Vec<Vec<(Vec<u8>, Vec<u8>)>>),
}

#[derive(Debug, Clone)]
struct Keyspace {
    prefix: &'static str,
    /// Full key without the prefix -> contents and TTL in ms.
    entries: BTreeMap<Vec<u8>, (Data, Option<u64>)>,
}

/// Bytes with the awkward ones often: glob characters, separators, controls, non-UTF-8.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        2 => prop::sample::select(&b"*?[]\\^-:\n\r\t\x1b\x7f\xff\xe9 a"[..]),
    ]
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(byte(), 0..max)
}

fn trace_id() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        byte().prop_filter("no ':' in a trace id", |b| *b != b':'),
        1..6,
    )
}

fn name() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // {traceId}:{key}, the key possibly empty or holding ':'.
        6 => (trace_id(), bytes(8)).prop_map(|(t, k)| [t, b":".to_vec(), k].concat()),
        // Anything under the prefix: no ':', an empty trace id, or nothing at all.
        1 => bytes(6),
    ]
}

fn string_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        2 => bytes(40),
        2 => prop::sample::select(vec![
            "1e400", "1.5e10", "-0.0", "{ \"a\" : [1, 2] }", "{\"name\":\"caf\u{e9}\"}",
            "\"\\ud800\"", " 1", "null", "[1,]", "\"a\\nb\"", "",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => Just(b"{\"name\":\"caf\xe9\"}".to_vec()),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>().prop_filter("a score is a number", |f| !f.is_nan()),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(0.1),
    ]
}

fn data() -> impl Strategy<Value = Data> {
    let members = || prop::collection::vec(bytes(10), 1..5);
    prop_oneof![
        6 => string_value().prop_map(Data::Str),
        1 => prop::collection::btree_map(bytes(8), bytes(12), 1..5).prop_map(Data::Hash),
        1 => members().prop_map(Data::List),
        1 => members().prop_map(Data::Set),
        1 => prop::collection::vec((bytes(8), score()), 1..5).prop_map(Data::Zset),
        1 => prop::collection::vec(prop::collection::vec((bytes(6), bytes(10)), 1..3), 1..4)
            .prop_map(Data::Stream),
    ]
}

fn keyspace() -> impl Strategy<Value = Keyspace> {
    (
        prop::sample::select(vec!["motia:state:", "we?ird[*]:"]),
        prop::collection::btree_map(
            name(),
            (data(), prop::option::of(1_000u64..10_000_000)),
            0..14,
        ),
    )
        .prop_map(|(prefix, entries)| Keyspace { prefix, entries })
}

fn write(c: &mut redis::Connection, prefix: &str, ks: &Keyspace) -> redis::RedisResult<()> {
    for (name, (data, ttl)) in &ks.entries {
        let key = [prefix.as_bytes(), name].concat();
        match data {
            Data::Str(v) => redis::cmd("SET").arg(&key).arg(v).exec(c)?,
            Data::Hash(m) => {
                let mut cmd = redis::cmd("HSET");
                cmd.arg(&key);
                for (f, v) in m {
                    cmd.arg(f).arg(v);
                }
                cmd.exec(c)?
            }
            Data::List(items) => redis::cmd("RPUSH").arg(&key).arg(items).exec(c)?,
            Data::Set(items) => redis::cmd("SADD").arg(&key).arg(items).exec(c)?,
            Data::Zset(items) => {
                let mut cmd = redis::cmd("ZADD");
                cmd.arg(&key);
                for (m, s) in items {
                    cmd.arg(redis_score(*s)).arg(m);
                }
                cmd.exec(c)?
            }
            Data::Stream(entries) => {
                for (i, fields) in entries.iter().enumerate() {
                    let mut cmd = redis::cmd("XADD");
                    cmd.arg(&key).arg(format!("{}-1", i + 1));
                    for (f, v) in fields {
                        cmd.arg(f).arg(v);
                    }
                    cmd.exec(c)?;
                }
            }
        }
        if let Some(ms) = ttl {
            redis::cmd("PEXPIRE").arg(&key).arg(ms).exec(c)?;
        }
    }
    // Keys the export must leave out, some of which an unescaped glob of the prefix matches.
    for noise in [
        &b"weXird*:k"[..],
        b"motia:statex:k",
        b"motia:state",
        b"other:t:k",
    ] {
        redis::cmd("SET").arg(noise).arg("noise").exec(c)?;
    }
    Ok(())
}

fn redis_score(s: f64) -> String {
    if s == f64::INFINITY {
        "+inf".into()
    } else if s == f64::NEG_INFINITY {
        "-inf".into()
    } else {
        format!("{s:?}")
    }
}

/// Type, contents (in a canonical order) and PTTL of every key under the prefix.
type Snapshot = BTreeMap<Vec<u8>, (String, redis::Value, i64)>;

fn snapshot(c: &mut redis::Connection, prefix: &str) -> redis::RedisResult<Snapshot> {
    let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(c)?;
    let mut out = BTreeMap::new();
    for key in keys
        .into_iter()
        .filter(|k| k.starts_with(prefix.as_bytes()))
    {
        let kind: String = redis::cmd("TYPE").arg(&key).query(c)?;
        let contents: redis::Value = match kind.as_str() {
            "string" => redis::cmd("GET").arg(&key).query(c)?,
            "list" => redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).query(c)?,
            "zset" => redis::cmd("ZRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .arg("WITHSCORES")
                .query(c)?,
            "stream" => redis::cmd("XRANGE").arg(&key).arg("-").arg("+").query(c)?,
            "hash" | "set" => {
                let cmd = if kind == "hash" {
                    "HGETALL"
                } else {
                    "SMEMBERS"
                };
                let mut items: Vec<Vec<u8>> = redis::cmd(cmd).arg(&key).query(c)?;
                if kind == "hash" {
                    let mut pairs: Vec<Vec<Vec<u8>>> = items.chunks(2).map(<[_]>::to_vec).collect();
                    pairs.sort();
                    items = pairs.concat();
                } else {
                    items.sort();
                }
                redis::Value::Array(items.into_iter().map(redis::Value::BulkString).collect())
            }
            other => panic!("unexpected type {other}"),
        };
        let pttl: i64 = redis::cmd("PTTL").arg(&key).query(c)?;
        out.insert(key, (kind, contents, pttl));
    }
    Ok(out)
}

#[test]
fn export_then_import_gives_the_same_keyspace() {
    let server = RedisServer::start();
    let client = |db: u8| redis::Client::open(format!("{}/{db}", server.url())).unwrap();
    // The runner takes a `Fn`: the connections are borrowed mutably inside it.
    let src = std::cell::RefCell::new(client(0).get_connection().unwrap());
    let dst = std::cell::RefCell::new(client(1).get_connection().unwrap());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let adapter = |db: i64, prefix: &str| {
        let mut config = server.config();
        config.database = db;
        config.key_prefix = prefix.to_string();
        // Small batches, so that pipelines split and join inside a case.
        config.batch_size = 3;
        rt.block_on(RedisStateAdapter::connect(config)).unwrap()
    };
    let mut runner = TestRunner::new(Config {
        cases: 40,
        failure_persistence: None,
        ..Config::default()
    });
    let fail = |e: redis::RedisError| TestCaseError::fail(e.to_string());
    runner
        .run(&keyspace(), |ks| {
            let (mut src, mut dst) = (src.borrow_mut(), dst.borrow_mut());
            redis::cmd("FLUSHALL").exec(&mut *src).map_err(fail)?;
            write(&mut src, ks.prefix, &ks).map_err(fail)?;
            let (from, to) = (adapter(0, ks.prefix), adapter(1, ks.prefix));
            let doc = rt
                .block_on(export::export(&from, None, |_, _| {}))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let text = doc.to_pretty_string();
            let doc = export::ExportDocument::parse(&text)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            rt.block_on(export::import(&to, &doc, false, |_, _| {}))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;

            let before = snapshot(&mut src, ks.prefix).map_err(fail)?;
            let after = snapshot(&mut dst, ks.prefix).map_err(fail)?;
            let size: u64 = redis::cmd("DBSIZE").query(&mut *dst).map_err(fail)?;
            prop_assert_eq!(
                size as usize,
                after.len(),
                "only keys under the prefix are copied"
            );
            prop_assert_eq!(before.len(), ks.entries.len());
            prop_assert_eq!(
                before.keys().collect::<Vec<_>>(),
                after.keys().collect::<Vec<_>>()
            );
            for (key, (kind, contents, pttl)) in &before {
                let (kind2, contents2, pttl2) = &after[key];
                let shown = motia_state::escape::name(key);
                prop_assert_eq!(kind, kind2, "type of {}", shown);
                prop_assert_eq!(contents, contents2, "contents of {}", shown);
                let same_ttl = if *pttl < 0 {
                    pttl == pttl2
                } else {
                    *pttl2 >= 0 && (pttl - pttl2).abs() <= 1000
                };
                prop_assert!(same_ttl, "ttl of {}: {} then {}", shown, pttl, pttl2);
            }
            Ok(())
        })
        .unwrap();
}
