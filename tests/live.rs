//! Keyspace notifications: the setting (read, enable, restore), the subscription (events,
//! reconnection) and `motia-state watch`, against private servers whose notification setting
//! each test chooses.

mod common;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::os::unix::ffi::OsStrExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use common::{MOTIA_ENV, RedisServer};
use motia_state::RedisStateAdapter;
use motia_state::live::{EventKind, LiveMessage, LiveOptions, LiveSubscription};
use motia_state::notify::{NotifySetting, RestoreOutcome};
use serde_json::Value;

/// Generous: the suite must pass on a busy machine.
const DEADLINE: Duration = common::POLL_LIMIT;

fn setting(server: &RedisServer) -> String {
    let out = server.cli(&["CONFIG", "GET", "notify-keyspace-events"]);
    out.lines().nth(1).unwrap_or_default().to_string()
}

fn set_setting(server: &RedisServer, flags: &str) {
    assert_eq!(
        server.cli(&["CONFIG", "SET", "notify-keyspace-events", flags]),
        "OK"
    );
}

/// Polls `cond` until it holds, failing the test after the deadline.
fn wait_until(what: &str, cond: impl FnMut() -> bool) {
    common::poll(what, cond);
}

/// Number of pattern subscriptions on the server (the watcher's shows up once it listens); 0
/// while the server does not answer.
fn patterns(server: &RedisServer) -> u64 {
    server
        .try_cli(&["PUBSUB", "NUMPAT"])
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// A running `motia-state watch`, its stdout read line by line.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Watch {
    fn start(server: &RedisServer, args: &[&str]) -> Self {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        Self::start_bytes(server, &args)
    }

    /// [`Watch::start`] with arguments of any bytes.
    fn start_bytes(server: &RedisServer, args: &[&[u8]]) -> Self {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("motia-state"));
        for v in MOTIA_ENV {
            cmd.env_remove(v);
        }
        let mut child = cmd
            .args(["--url", &server.url(), "watch"])
            .args(args.iter().map(|a| OsStr::from_bytes(a)))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start motia-state watch");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// Waits until the watcher is subscribed (its pattern is counted by the server).
    fn ready(self, server: &RedisServer, before: u64) -> Self {
        wait_until("the watcher to subscribe", || patterns(server) > before);
        self
    }

    fn line(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(DEADLINE)
            .expect("a line from watch within the deadline");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    /// `(traceId, key, event)` of the next `n` lines.
    fn events(&self, n: usize) -> Vec<(String, String, String)> {
        (0..n)
            .map(|_| {
                let v = self.line();
                let s = |f: &str| v[f].as_str().unwrap_or("").to_string();
                (s("traceId"), s("key"), s("event"))
            })
            .collect()
    }

    /// Sends `signal` and returns the exit status and stderr.
    fn stop(self, signal: &str) -> (i32, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        self.finish()
    }

    fn finish(mut self) -> (i32, String) {
        let end = Instant::now() + DEADLINE;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(Instant::now() < end, "watch did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            use std::io::Read;
            let _ = e.read_to_string(&mut err);
        }
        (status.code().unwrap_or(-1), err)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ev(t: &str, k: &str, e: &str) -> (String, String, String) {
    (t.into(), k.into(), e.into())
}

#[test]
fn watch_prints_each_change_in_order_and_filters() {
    let server = RedisServer::start();
    set_setting(&server, "K$gx");
    let before = setting(&server);
    let all = Watch::start(&server, &[]).ready(&server, 0);
    let one = Watch::start(&server, &["--trace", "t1", "--key", "order"]).ready(&server, 1);
    server.set_raw("motia:state:t1:order", r#"{"id":1}"#);
    server.set_raw("motia:state:t2:order", "2");
    server.set_raw("motia:state:t1:order:draft", "3");
    server.cli(&["PEXPIRE", "motia:state:t1:order", "100000"]);
    server.cli(&["PERSIST", "motia:state:t1:order"]);
    server.cli(&["RENAME", "motia:state:t2:order", "motia:state:t3:moved"]);
    server.set_raw("other:t1:order", "not ours");
    server.cli(&["UNLINK", "motia:state:t1:order:draft"]);
    server.cli(&["PEXPIRE", "motia:state:t1:order", "50"]);
    wait_until("the key to expire", || {
        server.cli(&["EXISTS", "motia:state:t1:order"]) == "0"
    });
    assert_eq!(
        all.events(10),
        [
            ev("t1", "order", "set"),
            ev("t2", "order", "set"),
            ev("t1", "order:draft", "set"),
            ev("t1", "order", "expire"),
            ev("t1", "order", "persist"),
            ev("t2", "order", "rename_from"),
            ev("t3", "moved", "rename_to"),
            ev("t1", "order:draft", "del"),
            ev("t1", "order", "expire"),
            ev("t1", "order", "expired"),
        ]
    );
    assert_eq!(
        one.events(5),
        [
            ev("t1", "order", "set"),
            ev("t1", "order", "expire"),
            ev("t1", "order", "persist"),
            ev("t1", "order", "expire"),
            ev("t1", "order", "expired"),
        ]
    );
    let (code, err) = all.stop("INT");
    assert_eq!(code, 0, "{err}");
    let (code, err) = one.stop("TERM");
    assert_eq!(code, 0, "{err}");
    // Nothing to restore: the setting was the test's.
    assert_eq!(setting(&server), before);
}

/// Writes and deletes keys given as exact bytes.
fn set_bytes(server: &RedisServer, key: &[u8], value: &str) {
    let mut c = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let () = redis::cmd("SET").arg(key).arg(value).query(&mut c).unwrap();
}

fn del_bytes(server: &RedisServer, key: &[u8]) {
    let mut c = redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap();
    let n: u64 = redis::cmd("DEL").arg(key).query(&mut c).unwrap();
    assert_eq!(n, 1);
}

#[test]
fn watch_follows_names_that_are_not_utf8_and_prints_their_bytes_in_base64() {
    let server = RedisServer::start();
    set_setting(&server, "K$gx");
    let trace =
        Watch::start_bytes(&server, &[b"--values", b"--trace", b"o\xff1"]).ready(&server, 0);
    let key = Watch::start_bytes(&server, &[b"--key", b"k\xfe"]).ready(&server, 1);
    set_bytes(&server, b"motia:state:o\xff1:k\xfe", r#"{"a":1}"#);
    // Not followed by the first watcher: another trace, and the same bytes lossily.
    set_bytes(&server, b"motia:state:o\xff2:k\xfe", "2");
    set_bytes(&server, "motia:state:o\u{fffd}1:order".as_bytes(), "3");
    set_bytes(&server, b"motia:state:o\xff1:order", "4");
    // --values reads a value when its event arrives: the delete waits until the set is printed.
    let mut lines: Vec<Value> = (0..2).map(|_| trace.line()).collect();
    del_bytes(&server, b"motia:state:o\xff1:k\xfe");
    lines.push(trace.line());
    let b64 = |b: &[u8]| Value::from(BASE64.encode(b));
    let names = |v: &Value| {
        let f = |name: &str| v.get(name).cloned().unwrap_or(Value::Null);
        (
            f("traceId"),
            f("traceIdBase64"),
            f("key"),
            f("keyBase64"),
            f("event"),
        )
    };
    assert_eq!(
        lines.iter().map(names).collect::<Vec<_>>(),
        [
            (
                Value::Null,
                b64(b"o\xff1"),
                Value::Null,
                b64(b"k\xfe"),
                "set".into()
            ),
            (
                Value::Null,
                b64(b"o\xff1"),
                "order".into(),
                Value::Null,
                "set".into()
            ),
            (
                Value::Null,
                b64(b"o\xff1"),
                Value::Null,
                b64(b"k\xfe"),
                "del".into()
            ),
        ]
    );
    assert_eq!(lines[0]["value"], serde_json::json!({"a": 1}));
    assert_eq!(lines[1]["value"], 4);
    assert_eq!(lines[2]["value"], Value::Null);
    let lines: Vec<Value> = (0..3).map(|_| key.line()).collect();
    assert_eq!(
        lines.iter().map(names).collect::<Vec<_>>(),
        [
            (
                Value::Null,
                b64(b"o\xff1"),
                Value::Null,
                b64(b"k\xfe"),
                "set".into()
            ),
            (
                Value::Null,
                b64(b"o\xff2"),
                Value::Null,
                b64(b"k\xfe"),
                "set".into()
            ),
            (
                Value::Null,
                b64(b"o\xff1"),
                Value::Null,
                b64(b"k\xfe"),
                "del".into()
            ),
        ]
    );
    let (code, err) = trace.stop("INT");
    assert_eq!(code, 0, "{err}");
    let (code, err) = key.stop("INT");
    assert_eq!(code, 0, "{err}");
}

#[test]
fn watch_values_are_read_after_the_event() {
    let server = RedisServer::start();
    set_setting(&server, "AK");
    let w = Watch::start(&server, &["--values", "--trace", "t1"]).ready(&server, 0);
    server.set_raw("motia:state:t1:a", r#"{"n":12345678901234567890}"#);
    server.set_raw("motia:state:t1:b", "plain text");
    server.cli(&["DEL", "motia:state:t1:a"]);
    let a = w.line();
    assert_eq!(
        (a["key"].as_str(), a["event"].as_str()),
        (Some("a"), Some("set"))
    );
    // The value is read when the event arrives: here it may be the value or already gone.
    let v = &a["value"];
    assert!(
        v.is_null()
            || serde_json::to_string(v).ok().as_deref() == Some(r#"{"n":12345678901234567890}"#),
        "{a}"
    );
    let b = w.line();
    assert_eq!(b["raw"], "plain text", "{b}");
    assert!(b.get("value").is_none(), "{b}");
    let gone = w.line();
    assert_eq!(
        (gone["event"].as_str(), &gone["value"]),
        (Some("del"), &Value::Null)
    );
    assert!(
        gone["time"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{gone}"
    );
    let (code, _) = w.stop("INT");
    assert_eq!(code, 0);
}

/// A key of another Redis type is no gone key: its line says the type, not `"value": null`.
#[test]
fn watch_values_names_the_type_of_a_key_that_is_not_a_string() {
    let server = RedisServer::start();
    set_setting(&server, "AK");
    let w = Watch::start(&server, &["--values", "--trace", "t1"]).ready(&server, 0);
    server.cli(&["HSET", "motia:state:t1:h", "f", "v"]);
    server.cli(&["RPUSH", "motia:state:t1:l", "x"]);
    server.set_raw("motia:state:t1:s", "1");
    let lines: Vec<Value> = (0..3).map(|_| w.line()).collect();
    let by_key = |k: &str| {
        lines
            .iter()
            .find(|l| l["key"] == k)
            .unwrap_or_else(|| panic!("no line for {k}: {lines:?}"))
    };
    for (k, t) in [("h", "hash"), ("l", "list")] {
        let l = by_key(k);
        assert_eq!(l["redisType"], t, "{l}");
        assert!(l.get("value").is_none(), "{l}");
    }
    assert_eq!(by_key("s")["value"], 1, "{lines:?}");
    assert!(by_key("s").get("redisType").is_none(), "{lines:?}");
    let (code, _) = w.stop("INT");
    assert_eq!(code, 0);
}

#[test]
fn watch_without_notifications_exits_2_saying_how_to_enable() {
    let server = RedisServer::start();
    set_setting(&server, "Ex");
    let out = common::motia_state()
        .args(["--url", &server.url(), "watch"])
        .output()
        .expect("run watch");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("keyspace notifications are off"), "{err}");
    assert!(err.contains("missing K$g"), "{err}");
    assert!(err.contains("--enable-notifications"), "{err}");
    assert!(err.contains("CONFIG SET notify-keyspace-events"), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(setting(&server), "xE");
}

#[test]
fn enable_notifications_adds_flags_and_restores_exactly_on_ctrl_c() {
    let server = RedisServer::start();
    set_setting(&server, "Elm");
    let before = setting(&server);
    let w = Watch::start(&server, &["--enable-notifications"]).ready(&server, 0);
    let during = NotifySetting::new(setting(&server));
    assert!(during.covers_live(), "{during}");
    for flag in ['E', 'l', 'm', 'e', 'h'] {
        assert!(during.has(flag), "{flag} missing from {during}");
    }
    server.set_raw("motia:state:t1:a", "1");
    assert_eq!(w.events(1), [ev("t1", "a", "set")]);
    let (code, err) = w.stop("INT");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("restored"), "{err}");
    assert_eq!(setting(&server), before);
}

#[test]
fn enable_notifications_is_refused_read_only_and_by_acl() {
    let server = RedisServer::start();
    let out = common::motia_state()
        .args(["--url", &server.url(), "--read-only", "watch"])
        .arg("--enable-notifications")
        .output()
        .expect("run watch");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--read-only"), "{err}");
    assert_eq!(setting(&server), "");

    // A user without +config: the specific refusal, and how to enable notifications elsewhere.
    server.cli(&[
        "ACL", "SETUSER", "app", "on", ">pw", "~*", "&*", "+@all", "-config",
    ]);
    let as_app = |extra: &[&str]| {
        common::motia_state()
            .args([
                "--url",
                &server.url(),
                "--username",
                "app",
                "--password",
                "pw",
            ])
            .arg("watch")
            .args(extra)
            .output()
            .expect("run watch")
    };
    let out = as_app(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused CONFIG GET"), "{err}");
    assert!(err.contains("+config|get"), "{err}");
    assert!(err.contains("redis.conf"), "{err}");
    assert!(!err.contains("authentication"), "{err}");

    // Allowed to read but not to change it.
    server.cli(&["ACL", "SETUSER", "app", "+config|get"]);
    let out = as_app(&["--enable-notifications"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused CONFIG SET"), "{err}");
    assert_eq!(setting(&server), "");
}

#[tokio::test]
async fn restoring_takes_out_only_our_flags_when_someone_changed_the_setting() {
    let server = RedisServer::start();
    set_setting(&server, "Ex");
    let state = RedisStateAdapter::connect(server.config()).await.unwrap();
    let change = state.enable_notifications().await.unwrap();
    assert_eq!(change.added, "K$geh");
    // Someone else adds list events meanwhile.
    set_setting(&server, &format!("{}l", setting(&server)));
    let outcome = state.restore_notifications(&change).await.unwrap();
    assert!(
        matches!(outcome, RestoreOutcome::Adjusted { .. }),
        "{outcome:?}"
    );
    assert_eq!(setting(&server), "lxE");
    // Nothing of ours left: a second restore changes nothing.
    let again = state.restore_notifications(&change).await.unwrap();
    assert!(matches!(again, RestoreOutcome::Unchanged(_)), "{again:?}");
}

/// Next message that is not an event of a key outside the test's interest.
async fn next(live: &mut LiveSubscription) -> LiveMessage {
    tokio::time::timeout(DEADLINE, live.next())
        .await
        .expect("a message within the deadline")
        .expect("subscription alive")
}

#[tokio::test]
async fn subscription_survives_a_restart_and_says_events_were_lost() {
    let mut server = RedisServer::start_with(&["--notify-keyspace-events", "K$gxh"]);
    let mut config = server.config();
    config.reconnect =
        motia_state::ReconnectStrategy::new(|n| (n <= 1200).then(|| Duration::from_millis(50)));
    let state = RedisStateAdapter::connect(config).await.unwrap();
    let options = LiveOptions {
        trace_records: true,
        ..LiveOptions::default()
    };
    let mut live = LiveSubscription::open(&state, options).await.unwrap();
    server.set_raw("motia:state:t1:a", "1");
    server.cli(&["HSET", "motia:trace:t1", "step", "{}"]);
    let LiveMessage::Event(a) = next(&mut live).await else {
        panic!("expected an event")
    };
    assert_eq!(
        (a.key.as_str(), a.kind),
        ("motia:state:t1:a", EventKind::Set)
    );
    let LiveMessage::Event(rec) = next(&mut live).await else {
        panic!("expected an event")
    };
    assert_eq!(
        (rec.trace_record("motia:trace:"), rec.event.as_str()),
        (Some(&b"t1"[..]), "hset")
    );

    server.restart();
    assert_eq!(next(&mut live).await, LiveMessage::Disconnected);
    assert_eq!(next(&mut live).await, LiveMessage::Reconnected);
    // Subscribed again: new writes arrive.
    server.set_raw("motia:state:t2:b", "2");
    let LiveMessage::Event(b) = next(&mut live).await else {
        panic!("expected an event")
    };
    assert_eq!(b.key, "motia:state:t2:b");
}

/// `motia-state --url URL watch ARGS` with its state directory under `home`, stderr piped.
fn watch_in(server: &RedisServer, home: &std::path::Path, args: &[&str]) -> Child {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("motia-state"));
    for v in MOTIA_ENV {
        cmd.env_remove(v);
    }
    cmd.env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .args(["--url", &server.url(), "watch"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start motia-state watch")
}

/// The first line `child` writes to stderr, within the deadline (empty if none).
fn first_stderr_line(child: &mut Child) -> String {
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stderr).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(DEADLINE).unwrap_or_default()
}

#[test]
fn watch_killed_with_sigkill_leaves_a_note_the_next_watch_reads_out() {
    let server = RedisServer::start();
    set_setting(&server, "Ex");
    let before = setting(&server);
    let home = tempfile::tempdir().unwrap();
    let mut first = watch_in(&server, home.path(), &["--enable-notifications"]);
    wait_until("watch to switch notifications on", || {
        setting(&server).contains('K')
    });
    first.kill().unwrap();
    first.wait().unwrap();
    let mut next = watch_in(&server, home.path(), &[]);
    let line = first_stderr_line(&mut next);
    let _ = next.kill();
    let _ = next.wait();
    assert!(
        line.contains(&format!(
            "Restore it with: redis-cli CONFIG SET notify-keyspace-events '{before}'"
        )),
        "{line}"
    );
}

/// The iii layout's subscription and scope tracker: an event names the scope, the re-read names
/// the fields; a setting without `h` is reported although it has 0.x's flags.
#[tokio::test]
async fn iii_events_name_the_scope_and_a_reread_names_the_fields() {
    use common::iii::{engine_delete, engine_set};
    use motia_state::adapter::layout::iii_live::{FieldChange, ScopeTracker};
    let server = RedisServer::start_with(&["--notify-keyspace-events", "Kh"]);
    engine_set(&server, "orders", "o-1", r#"{"status":"new"}"#);
    engine_set(&server, "orders", "o-2", "2");
    let mut config = server.config();
    config.layout = Some(motia_state::Layout::Iii);
    let state = RedisStateAdapter::connect(config).await.unwrap();
    let iii = state.iii();
    let narrowed = LiveOptions {
        trace: Some(b"orders".to_vec()),
        ..LiveOptions::default()
    };
    let e = iii.subscribe(narrowed).await.unwrap_err().to_string();
    assert!(e.contains("not a field"), "{e}");
    let mut live = iii.subscribe(LiveOptions::default()).await.unwrap();
    let mut seen = ScopeTracker::default();
    assert_eq!(seen.reread(&iii, "orders").await.unwrap().len(), 2);
    assert_eq!(seen.fields(), 2);
    // Changed, added, removed, as the engine writes them.
    engine_set(&server, "orders", "o-1", r#"{"status":"paid"}"#);
    engine_set(&server, "orders", "o-3", "3");
    engine_delete(&server, "orders", "o-2");
    let first = loop {
        if let LiveMessage::Event(ev) = live.next().await.unwrap() {
            break ev;
        }
    };
    assert_eq!(
        (first.key.as_str(), first.event.as_str()),
        ("state:orders", "hset")
    );
    let changes = seen.reread(&iii, "orders").await.unwrap();
    let set = |f: &str, v: &str| FieldChange {
        field: f.into(),
        value: Some(v.into()),
    };
    assert_eq!(
        changes,
        [
            set("o-1", r#"{"status":"paid"}"#),
            set("o-3", "3"),
            FieldChange {
                field: b"o-2".to_vec(),
                value: None
            },
        ]
    );
    assert!(seen.reread(&iii, "orders").await.unwrap().is_empty());
    // The scope goes with its last fields.
    engine_delete(&server, "orders", "o-1");
    engine_delete(&server, "orders", "o-3");
    assert_eq!(seen.reread(&iii, "orders").await.unwrap().len(), 2);
    assert_eq!(seen.scopes().count(), 0);
    // 0.x's flags without `h`: the iii subscription says its events stopped.
    set_setting(&server, "K$gx");
    let changed = loop {
        if let LiveMessage::SettingChanged(s) = live.next().await.unwrap() {
            break s;
        }
    };
    assert!(!changed.has('h'), "{changed}");
}
