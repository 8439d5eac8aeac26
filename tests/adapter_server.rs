//! The adapter against servers that misbehave: restarted under a live adapter, protected by a
//! password, not listening, never answering, and a keyspace that shrinks in the middle of a
//! SCAN. Also the configuration errors the unit tests in src/adapter/config.rs leave out.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{RedisServer, free_port, item};
use motia_state::{Config, Error, ReconnectStrategy, RedisStateAdapter};
use serde_json::Value;

/// Quick reconnects so a stopped server fails a call in well under a second.
fn quick(server: &RedisServer) -> Config {
    let mut c = server.config();
    c.reconnect = ReconnectStrategy::new(|n| (n <= 3).then(|| Duration::from_millis(20)));
    c.connect_timeout = Duration::from_secs(2);
    c.command_timeout = Some(Duration::from_secs(5));
    c
}

/// Fails the test instead of hanging when a call does not come back.
async fn bounded<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(common::POLL_LIMIT, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} hung"))
}

// ---------------------------------------------------------------- restart

#[tokio::test]
async fn a_restarted_server_is_used_again_by_the_next_call() {
    let mut server = RedisServer::start();
    let state = RedisStateAdapter::connect(quick(&server)).await.unwrap();
    let clone = state.clone();
    state.set("r", "k", &1).await.unwrap();

    // Restarted between two calls: the next call reconnects by itself.
    server.restart();
    let got = bounded("get after restart", state.get::<Value>("r", "k")).await;
    assert_eq!(
        got.unwrap(),
        None,
        "nothing is persisted across the restart"
    );
    state.set("r", "k", &2).await.unwrap();
    assert_eq!(clone.get::<i32>("r", "k").await.unwrap(), Some(2));

    // Stopped: calls fail with a connection error instead of hanging.
    server.stop();
    let err = bounded("get while stopped", state.get::<Value>("r", "k"))
        .await
        .unwrap_err();
    assert!(err.is_connection(), "{err:?}");
    let addr = format!("127.0.0.1:{}", server.port);
    assert!(err.to_string().contains(&addr), "{err}");
    let err = bounded("keys while stopped", clone.keys("r"))
        .await
        .unwrap_err();
    assert!(err.is_connection(), "{err:?}");
    let err = bounded("set while stopped", state.set("r", "k", &3))
        .await
        .unwrap_err();
    assert!(err.is_connection(), "{err:?}");

    server.restart();
    bounded("set after restart", state.set("r", "k", &4))
        .await
        .unwrap();
    assert_eq!(clone.get::<i32>("r", "k").await.unwrap(), Some(4));
    assert_eq!(state.keys("r").await.unwrap(), vec!["k"]);
    assert_eq!(server.cli(&["GET", "motia:state:r:k"]), "4");
}

#[tokio::test]
async fn non_repeatable_writes_after_a_restart_run_once_on_a_fresh_connection() {
    let mut server = RedisServer::start();
    let state = RedisStateAdapter::connect(quick(&server)).await.unwrap();
    state.set("r", "a", &1).await.unwrap();
    server.restart();
    server.set_raw("motia:state:r:a", "7");
    // GETDEL is never resent blindly, so the adapter checks the connection first: the broken
    // one is replaced before the delete is sent, and the delete runs exactly once.
    let old = bounded("delete after restart", state.delete("r", "a"))
        .await
        .unwrap();
    assert_eq!(old, Some(serde_json::json!(7)));
    assert_eq!(server.cli(&["EXISTS", "motia:state:r:a"]), "0");
    server.restart();
    let out = state
        .compare_and_set(item(&state, "r", "b"), None, "1")
        .await
        .unwrap();
    assert_eq!(out, motia_state::CasOutcome::Written);
}

/// The test helpers' polls: a server that does not answer for a moment (mid-failover,
/// restarting) is "not yet", never a panic, until the deadline.
#[test]
fn a_poll_waits_through_a_server_that_is_down_for_a_moment() {
    let server = std::sync::Mutex::new(RedisServer::start());
    server.lock().unwrap().stop();
    let (down_tx, down_rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        // Started again once the poll has seen it down.
        let server = &server;
        s.spawn(move || {
            down_rx.recv().unwrap();
            server.lock().unwrap().restart();
        });
        let mut down = 0;
        let pong = common::poll_for("PING through a restart", common::POLL_LIMIT, || {
            let reply = server.lock().unwrap().try_cli(&["PING"]);
            if reply.is_err() {
                down += 1;
                let _ = down_tx.send(());
            }
            reply
        });
        assert_eq!(pong, "PONG");
        assert!(down > 0, "the poll never saw the server down");
    });
}

// ---------------------------------------------------------------- authentication

#[tokio::test]
async fn passwords_are_checked_with_clear_errors() {
    let server = RedisServer::start_with(&["--requirepass", "s3cret"]);
    let addr = format!("127.0.0.1:{}", server.port);

    let mut wrong = server.config();
    wrong.password = Some("wrong-password".into());
    let err = bounded("wrong password", RedisStateAdapter::connect(wrong))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("authentication to {addr} failed")),
        "{msg}"
    );
    assert!(
        !msg.contains("wrong-password"),
        "never show the password: {msg}"
    );
    assert!(!err.is_connection());

    let mut user = server.config();
    user.username = Some("nobody".into());
    user.password = Some("s3cret".into());
    let err = bounded("unknown user", RedisStateAdapter::connect(user))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");

    // No password at all: refused by connect already, and not called a failed authentication.
    let err = bounded("no password", RedisStateAdapter::connect(server.config()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoAuth { .. }), "{err:?}");
    let msg = err.to_string();
    assert_eq!(
        msg,
        format!("{addr} requires authentication and no password was given")
    );

    // A user whose ACL forbids PING still connects.
    server.cli(&[
        "ACL",
        "SETUSER",
        "narrow",
        "on",
        ">pw",
        "~motia:state:*",
        "+get",
        "+set",
    ]);
    let narrow = Config::from_url(&format!("redis://narrow:pw@{addr}")).unwrap();
    let state = RedisStateAdapter::connect(narrow).await.unwrap();
    state.set("t", "n", &5).await.unwrap();
    assert_eq!(state.get::<i32>("t", "n").await.unwrap(), Some(5));

    let good = Config::from_url(&format!("redis://:s3cret@{addr}")).unwrap();
    let state = RedisStateAdapter::connect(good).await.unwrap();
    state.set("t", "k", &1).await.unwrap();
    assert_eq!(server.cli(&["GET", "motia:state:t:k"]), "1");
    let named = Config::from_url(&format!("redis://default:s3cret@{addr}")).unwrap();
    let state = RedisStateAdapter::connect(named).await.unwrap();
    assert_eq!(state.get::<i32>("t", "k").await.unwrap(), Some(1));
}

// ---------------------------------------------------------------- unreachable servers

#[tokio::test]
async fn an_unreachable_port_is_a_connect_error() {
    let port = free_port();
    let mut config = Config::from_url(&format!("redis://127.0.0.1:{port}")).unwrap();
    config.connect_timeout = Duration::from_secs(3);
    let err = bounded(
        "connect to a closed port",
        RedisStateAdapter::connect(config),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.is_connection());
    assert!(
        err.to_string()
            .starts_with(&format!("cannot connect to 127.0.0.1:{port}: ")),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_is_bounded_by_the_timeouts() {
    // Accepts connections (the kernel's backlog does) and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut config = Config::from_url(&format!("redis://127.0.0.1:{port}")).unwrap();
    config.connect_timeout = Duration::from_millis(300);
    config.command_timeout = Some(Duration::from_millis(300));
    config.reconnect = ReconnectStrategy::never();
    let err = match bounded(
        "connect to a silent server",
        RedisStateAdapter::connect(config),
    )
    .await
    {
        Err(e) => e,
        Ok(state) => bounded("get from a silent server", state.get::<Value>("t", "k"))
            .await
            .unwrap_err(),
    };
    assert!(err.is_connection(), "{err:?}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    drop(listener);
}

// ---------------------------------------------------------------- SCAN across a shrink

/// Loads `SET key value` lines through `redis-cli --pipe`.
fn bulk_load(server: &RedisServer, keys: &[String]) {
    let mut child = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &server.port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for (i, k) in keys.iter().enumerate() {
        writeln!(stdin, "SET {k} {i}").unwrap();
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

/// Size of the main table of db 0, `None` while it is being rehashed.
fn table_size(server: &RedisServer) -> Option<u64> {
    let stats = server.try_cli(&["DEBUG", "HTSTATS", "0"]).ok()?;
    let main = stats.split("[Expires HT]").next().unwrap_or("");
    if main.contains("rehashing target") {
        return None;
    }
    main.lines()
        .find_map(|l| l.trim().strip_prefix("table size:"))
        .and_then(|n| n.trim().parse().ok())
}

/// A page of keys as text (every key here is ASCII).
fn utf8(page: Vec<Vec<u8>>) -> Vec<String> {
    page.into_iter()
        .map(|k| String::from_utf8(k).expect("an ASCII key"))
        .collect()
}

/// One attempt: scan part of 40,000 keys, delete all but a few just-returned keys so Redis
/// shrinks its table to 4 buckets, finish the scan. Returns how many keys the scanner without
/// de-duplication returned twice.
async fn scan_across_a_shrink(server: &RedisServer, round: usize) -> usize {
    let prefix = format!("shrink{round}:");
    let mut config = server.config();
    config.key_prefix = prefix.clone();
    config.scan_count = 10;
    let state = RedisStateAdapter::connect(config).await.unwrap();
    let all: Vec<String> = (0..40_000)
        .map(|i| format!("{prefix}g{}:k{i}", i % 100))
        .collect();
    bulk_load(server, &all);
    assert!(table_size(server).unwrap_or(0) >= 65_536);

    let mut dedup = state.scan_all();
    let mut raw = state.scan_all().allow_duplicates();
    let mut dedup_seen: HashMap<String, u32> = HashMap::new();
    let mut raw_seen: HashMap<String, u32> = HashMap::new();
    let mut last_page = Vec::new();
    // A third of the keyspace, then stop after a non-empty page.
    while raw_seen.len() < 13_000 || last_page.is_empty() {
        let a = utf8(dedup.next_page().await.unwrap().unwrap());
        let b = utf8(raw.next_page().await.unwrap().unwrap());
        assert_eq!(a, b, "same SCAN replies before anything changes");
        for k in &a {
            *dedup_seen.entry(k.clone()).or_default() += 1;
        }
        for k in &b {
            *raw_seen.entry(k.clone()).or_default() += 1;
        }
        last_page = b;
    }
    assert!(!dedup.is_done());

    // Keep up to 4 keys of the last page: they sit in the bucket the cursor is in, and
    // SCAN on the shrunk table walks that bucket again.
    let keep: HashSet<String> = last_page.iter().take(4).cloned().collect();
    let doomed: Vec<String> = all.iter().filter(|k| !keep.contains(*k)).cloned().collect();
    assert_eq!(
        state.unlink_keys(&doomed).await.unwrap(),
        doomed.len() as u64
    );
    let deadline = Instant::now() + common::POLL_LIMIT;
    while table_size(server) != Some(4) {
        assert!(
            Instant::now() < deadline,
            "Redis did not shrink its table: {:?}",
            table_size(server)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    while let Some(page) = dedup.next_page().await.unwrap() {
        for k in utf8(page) {
            *dedup_seen.entry(k).or_default() += 1;
        }
    }
    while let Some(page) = raw.next_page().await.unwrap() {
        for k in utf8(page) {
            *raw_seen.entry(k).or_default() += 1;
        }
    }
    assert!(dedup.is_done() && raw.is_done());
    assert!(
        dedup_seen.values().all(|&n| n == 1),
        "the default scanner returned a key twice"
    );
    for k in &keep {
        assert_eq!(dedup_seen.get(k), Some(&1), "{k} present throughout");
    }
    // The two walks may differ after the shrink (each scanner sends its next SCAN ahead, so one
    // may have been answered before the deletes and the other after); what must hold is that
    // the raw scanner counts every reply and the default one never repeats a key.
    assert_eq!(u64::from(raw_seen.values().sum::<u32>()), raw.keys_seen());
    assert_eq!(
        state.keys("g0").await.unwrap().len(),
        keep.iter().filter(|k| k.contains(":g0:")).count()
    );
    state
        .unlink_keys(&keep.into_iter().collect::<Vec<_>>())
        .await
        .unwrap();
    raw_seen.values().filter(|&&n| n > 1).count()
}

#[tokio::test]
async fn scan_is_deduplicated_when_the_table_shrinks_mid_walk() {
    let server = RedisServer::start_with(&["--enable-debug-command", "yes"]);
    // A shrink right at a bucket-group boundary gives no duplicates (about 1 in 1000 tries);
    // retry so the raw scanner surely met some, while every round checks the de-duplication.
    let mut duplicates = 0;
    for round in 0..3 {
        duplicates = scan_across_a_shrink(&server, round).await;
        if duplicates > 0 {
            break;
        }
    }
    assert!(duplicates > 0, "the shrink never made SCAN repeat a key");
}

// ---------------------------------------------------------------- configuration errors

#[test]
fn configuration_errors_name_the_setting_and_the_value() {
    let env = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    };
    let err = Config::from_env_with(env(&[("REDIS_PORT", "abc")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid setting REDIS_PORT: \"abc\" is not a port number (1-65535)"
    );
    let err = Config::from_env_with(env(&[("REDIS_PORT", "70000")])).unwrap_err();
    assert!(err.to_string().contains("REDIS_PORT"), "{err}");
    let err = Config::from_env_with(env(&[("REDIS_PORT", "0")])).unwrap_err();
    assert!(err.to_string().contains("port 0"), "{err}");
    let err = Config::from_env_with(env(&[("STATE_TTL", "abc")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid setting STATE_TTL: \"abc\" is not a whole number of seconds"
    );
    let err = Config::from_env_with(env(&[("STATE_TTL", "0")])).unwrap_err();
    assert!(err.to_string().contains("positive"), "{err}");
    let err = Config::from_env_with(env(&[("REDIS_DATABASE", "-1")])).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid setting REDIS_DATABASE"),
        "{err}"
    );
    let err = Config::from_env_with(env(&[("REDIS_URL", "http://h:1")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid setting REDIS_URL: unknown scheme \"http\" (use redis://, rediss://, unix:// or redis+unix://)"
    );
    let err = Config::from_env_with(env(&[("REDIS_URL", "redis://h:abc")])).unwrap_err();
    assert!(
        err.to_string().starts_with("invalid setting REDIS_URL"),
        "{err}"
    );
    assert!(err.to_string().contains("port"), "{err}");
    let err = Config::from_url("redis://h:abc").unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("port"), "{err}");
    let err = Config::from_url("redis://h:1/x").unwrap_err();
    assert!(err.to_string().contains("database"), "{err}");
    let err = Config::from_url("not a url").unwrap_err();
    assert!(err.to_string().starts_with("invalid setting url"), "{err}");

    let c = Config::from_env_with(env(&[
        ("REDIS_URL", "redis://u:p@h:1/1"),
        ("STATE_KEY_PREFIX", "app:"),
        ("STATE_TTL", "60"),
    ]))
    .unwrap();
    assert_eq!((c.key_prefix.as_str(), c.ttl), ("app:", Some(60)));
    assert_eq!(c.display_url(), "redis://u@h:1/1");
}

#[tokio::test]
async fn settings_set_in_code_are_validated_before_connecting() {
    let server = RedisServer::start();
    type Edit = fn(&mut Config);
    let cases: [(&str, Edit); 4] = [
        ("ttl", |c| c.ttl = Some(0)),
        ("scan_count", |c| c.scan_count = 0),
        ("host", |c| c.host.clear()),
        ("connect_timeout", |c| c.connect_timeout = Duration::ZERO),
    ];
    for (name, edit) in cases {
        let mut c = server.config();
        edit(&mut c);
        let err = RedisStateAdapter::connect(c).await.unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{name}: {err:?}");
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
}
