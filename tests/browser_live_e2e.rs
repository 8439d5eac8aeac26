//! End-to-end live mode: the real binary in tmux against private servers whose keyspace
//! notification setting each test chooses. Writes come from redis-cli; no key is pressed to
//! make them show (the periodic re-read is off with `--refresh 0`, so only notifications can).

mod common;

use common::RedisServer;
use common::term::Term;
use common::traces::{Flow, Step};

fn setting(server: &RedisServer) -> String {
    let out = server.cli(&["CONFIG", "GET", "notify-keyspace-events"]);
    out.lines().nth(1).unwrap_or_default().to_string()
}

fn seed(server: &RedisServer) {
    server.set_raw("motia:state:trace-a:order", r#"{"id":7,"status":"new"}"#);
    server.set_raw("motia:state:trace-a:payment", r#"{"amount":5}"#);
    server.set_raw("motia:state:trace-b:note", "1");
}

#[test]
fn writes_deletes_and_expiries_show_without_a_key_press() {
    let server = RedisServer::start_with(&["--notify-keyspace-events", "K$gx"]);
    seed(&server);
    let t = Term::start("live-follow", &server.url(), "--refresh 0", None);
    t.wait_for("done");
    t.wait_for("· live");
    // A new trace written by the app appears by itself.
    server.set_raw("motia:state:trace-new:step", "1");
    t.wait_for("trace-new");
    // The open value changes in front of the user, the changed line marked.
    t.wait_for("\"status\": \"new\"");
    server.set_raw("motia:state:trace-a:order", r#"{"id":7,"status":"paid"}"#);
    let s = t.wait_for("\"status\": \"paid\"");
    assert!(s.contains("changed just now: 1 line marked"), "{s}");
    t.keys(&["="]);
    t.wait_for("diff with the previous version: +1 -1");
    t.keys(&["="]);
    // A deleted key goes (marked gone first), an expiring key goes when it expires.
    server.cli(&["DEL", "motia:state:trace-a:payment"]);
    t.wait("payment to go", |s| !s.contains("payment"));
    server.cli(&["PEXPIRE", "motia:state:trace-b:note", "300"]);
    t.wait("trace-b to go", |s| !s.contains("trace-b"));
    // Follow: the next new trace is selected with its last written key.
    t.keys(&["F"]);
    t.wait_for("· follow");
    server.set_raw("motia:state:trace-z:first", "1");
    server.set_raw("motia:state:trace-z:second", "2");
    t.wait_for("Keys · trace-z (2)");
    t.wait_for("Value trace-z:second");
    // A manual move ends following.
    t.keys(&["k"]);
    t.wait("follow to end", |s| !s.contains("· follow"));
    t.keys(&["q"]);
}

#[test]
fn live_on_asks_then_adds_flags_and_live_off_and_quitting_restore_them() {
    let server = RedisServer::start();
    server.cli(&["CONFIG", "SET", "notify-keyspace-events", "Elm"]);
    let before = setting(&server);
    seed(&server);
    let t = Term::start("live-on", &server.url(), "--refresh 0", None);
    t.wait_for("done");
    t.wait_for("· polling");
    t.keys(&[":"]);
    t.type_text("live on");
    t.keys(&["Enter"]);
    let s = t.wait_for("Live mode: switch on keyspace notifications");
    assert!(s.contains("to \"lEmK$gxeh\""), "{s}");
    assert_eq!(
        setting(&server),
        before,
        "nothing changes before the answer"
    );
    t.keys(&["y"]);
    t.wait_for("· live");
    let during = setting(&server);
    for flag in ["K", "$", "g", "x", "E", "l", "m"] {
        assert!(during.contains(flag), "{flag} in {during}");
    }
    server.set_raw("motia:state:trace-new:k", "1");
    t.wait_for("trace-new");
    t.keys(&[":"]);
    t.type_text("live off");
    t.keys(&["Enter"]);
    t.wait_for("· polling");
    assert_eq!(setting(&server), before);
    // Switched on again and left by quitting: restored too.
    t.keys(&[":"]);
    t.type_text("live on");
    t.keys(&["Enter"]);
    t.wait_for("Live mode: switch on");
    t.keys(&["y"]);
    t.wait_for("· live");
    t.keys(&["q"]);
    t.wait("the browser to quit", |s| !s.contains("Traces ("));
    common::poll_for("the setting to be restored", common::POLL_LIMIT, || {
        let now = server.try_cli(&["CONFIG", "GET", "notify-keyspace-events"])?;
        let now = now.lines().nth(1).unwrap_or_default().to_string();
        if now == before {
            Ok(())
        } else {
            Err(format!("notify-keyspace-events {now:?}, not {before:?}"))
        }
    });
}

#[test]
fn read_only_refuses_live_on() {
    let server = RedisServer::start();
    seed(&server);
    let t = Term::start("live-ro", &server.url(), "--read-only", None);
    t.wait_for("done");
    t.wait_for("· polling");
    t.keys(&[":"]);
    t.type_text("live on");
    t.keys(&["Enter"]);
    t.wait_for("read-only mode: :live on");
    t.keys(&[":"]);
    t.type_text("live off");
    t.keys(&["Enter"]);
    t.wait_for("read-only mode: :live off");
    assert_eq!(setting(&server), "");
}

#[test]
fn a_server_restart_while_live_resynchronises() {
    let mut server = RedisServer::start_with(&["--notify-keyspace-events", "K$gx"]);
    seed(&server);
    let t = Term::start("live-restart", &server.url(), "--refresh 0", None);
    t.wait_for("done");
    t.wait_for("· live");
    server.restart();
    // The restarted server is empty (nothing persisted) and gets new state. (The loss itself
    // may be too short to catch on screen; the old traces going without any event shows
    // that a resynchronising scan ran.)
    server.set_raw("motia:state:trace-after:k", "1");
    let s = t.wait("the index to be resynchronised", |s| {
        s.contains("trace-after") && !s.contains("trace-a ") && !s.contains("trace-b")
    });
    assert!(s.contains("· live"), "{s}");
    server.set_raw("motia:state:trace-later:k", "1");
    t.wait_for("trace-later");
}

/// Milliseconds since the epoch, `ago_s` seconds back.
fn ms_ago(ago_s: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    now - ago_s * 1000
}

/// Two flows of an app with trace records, each with its state.
fn seed_flows(server: &RedisServer) {
    for (n, (trace, name, ago)) in [("OLDER-1", "OlderFlow", 600), ("OLDER-2", "OtherFlow", 300)]
        .into_iter()
        .enumerate()
    {
        let start = ms_ago(ago);
        Flow::new(trace, name, start)
            .step(Step::new(n as u32 + 1, name, "api", start))
            .write(server);
        server.set_raw(&format!("motia:state:{trace}:order"), r#"{"n":1}"#);
    }
}

/// A new flow as Motia writes it: its records, then its state.
fn new_flow(server: &RedisServer, trace: &str, name: &str) {
    let start = ms_ago(1);
    Flow::new(trace, name, start)
        .step(Step::new(9, name, "api", start))
        .write(server);
    server.set_raw(&format!("motia:state:{trace}:first"), "1");
    server.set_raw(&format!("motia:state:{trace}:second"), "2");
}

#[test]
fn follow_selects_a_new_flow_and_its_last_key_in_the_newest_sort() {
    // With and without hash events (`:live on` adds `h`; docs/cli.md's minimum has none).
    for flags in ["K$gxh", "K$gx"] {
        let server = RedisServer::start_with(&["--notify-keyspace-events", flags]);
        seed_flows(&server);
        let t = Term::start("live-follow-newest", &server.url(), "--refresh 0", None);
        t.wait_for("done");
        t.wait_for("· live");
        t.wait_for("newest");
        t.keys(&["F"]);
        t.wait_for("· follow");
        new_flow(&server, "FRESH-1", "FreshFlow");
        t.wait_for("Keys · FRESH-1 (2)");
        t.wait_for("Value FRESH-1:second");
        // And the next one too.
        new_flow(&server, "FRESH-2", "FreshFlow");
        t.wait_for("Keys · FRESH-2 (2)");
        t.wait_for("Value FRESH-2:second");
        t.keys(&["q"]);
    }
}

#[test]
fn a_new_flow_is_complete_and_first_without_hash_events() {
    let server = RedisServer::start_with(&["--notify-keyspace-events", "K$gx"]);
    seed_flows(&server);
    let t = Term::start("live-new-flow", &server.url(), "--refresh 0", None);
    t.wait_for("done");
    t.wait_for("· live");
    t.wait_for("newest");
    new_flow(&server, "FRESH-1", "FreshFlow");
    // Its name, status and place (newest first) without a rescan.
    let s = t.wait("the new flow's row, complete and first", |s| {
        let rows: Vec<&str> = s
            .lines()
            .filter(|l| l.starts_with("│OLDER") || l.starts_with("│FRESH"))
            .collect();
        rows.first().is_some_and(|l| {
            l.contains("FRESH-1") && l.contains("FreshFlow") && l.contains("completed")
        })
    });
    assert!(s.contains("OLDER-1"), "{s}");
}

#[test]
fn a_flushdb_while_live_empties_the_screen_and_live_mode_goes_on() {
    let server = RedisServer::start_with(&["--notify-keyspace-events", "K$gx"]);
    seed(&server);
    let t = Term::start("live-flush", &server.url(), "--refresh 0", None);
    t.wait_for("done");
    t.wait_for("· live");
    t.wait_for("\"status\": \"new\"");
    server.cli(&["FLUSHDB"]);
    t.wait("the flushed keys and the open value to go", |s| {
        !s.contains("trace-a") && !s.contains("trace-b") && !s.contains("\"status\"")
    });
    server.set_raw("motia:state:trace-after:k", "1");
    let s = t.wait_for("trace-after");
    assert!(s.contains("· live"), "{s}");
    // FLUSHALL too.
    server.cli(&["FLUSHALL"]);
    t.wait("FLUSHALL's keys to go", |s| !s.contains("trace-after"));
}

#[test]
fn notifications_switched_on_elsewhere_end_polling_within_seconds() {
    let server = RedisServer::start();
    seed(&server);
    let t = Term::start("live-elsewhere", &server.url(), "--refresh 0", None);
    t.wait_for("done");
    t.wait_for("· polling");
    server.cli(&["CONFIG", "SET", "notify-keyspace-events", "K$gx"]);
    // "Within a few seconds": the setting is asked every 2 s (it was 10 s).
    t.wait_within(std::time::Duration::from_secs(7), "live mode", |s| {
        s.contains("· live")
    });
    server.set_raw("motia:state:trace-new:k", "1");
    t.wait_for("trace-new");
}

/// Polls until the server's setting is `want`.
fn wait_setting(server: &RedisServer, want: &str) {
    let end = std::time::Instant::now() + common::term::DEADLINE;
    while setting(server) != want {
        assert!(
            std::time::Instant::now() < end,
            "notify-keyspace-events is {:?}, not {want:?}",
            setting(server)
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `:live on`, confirmed with `y`, until live.
fn live_on(t: &Term) {
    t.wait_for("· polling");
    t.keys(&[":"]);
    t.type_text("live on");
    t.keys(&["Enter"]);
    t.wait_for("Live mode: switch on keyspace notifications");
    // The key to press is named, below the whole explanation.
    t.wait_for("y yes, change the server setting");
    t.keys(&["y"]);
    t.wait_for("· live");
}

#[test]
fn sigterm_and_sighup_restore_the_setting_and_leave_the_alternate_screen() {
    for signal in ["TERM", "HUP"] {
        let server = RedisServer::start();
        server.cli(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
        let before = setting(&server);
        seed(&server);
        let t = Term::start("live-signal", &server.url(), "--refresh 0", None);
        t.wait_for("done");
        live_on(&t);
        assert_ne!(setting(&server), before);
        assert!(t.alternate_on());
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &t.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        wait_setting(&server, &before);
        t.wait(
            &format!("the alternate screen left after SIG{signal}"),
            |_| !t.alternate_on(),
        );
    }
}

#[test]
fn a_change_left_by_a_killed_run_is_offered_by_the_next() {
    let server = RedisServer::start();
    server.cli(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
    let before = setting(&server);
    seed(&server);
    let home = tempfile::tempdir().unwrap();
    let t = Term::start_in("live-killed", &server.url(), "--refresh 0", home.path());
    t.wait_for("done");
    live_on(&t);
    let during = setting(&server);
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &t.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    drop(t);
    assert_eq!(setting(&server), during, "nobody restored it");
    // `watch` names the command that restores it.
    let mut watch = std::process::Command::new(env!("CARGO_BIN_EXE_motia-state"));
    for v in common::MOTIA_ENV {
        watch.env_remove(v);
    }
    let mut child = watch
        .env("HOME", home.path())
        .env("XDG_STATE_HOME", home.path().join("state"))
        .args(["--url", &server.url(), "watch"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stderr), &mut first);
        let _ = tx.send(first);
    });
    let first = rx.recv_timeout(common::term::DEADLINE).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.contains(&format!("CONFIG SET notify-keyspace-events '{before}'")),
        "{first}"
    );
    // The browser offers it; `y` restores it.
    let t = Term::start_in("live-offer", &server.url(), "--refresh 0", home.path());
    t.wait_for("Keyspace notifications left switched on");
    t.wait_for("y yes, restore it");
    t.keys(&["y"]);
    wait_setting(&server, &before);
    t.wait_for("restored");
    t.keys(&["q"]);
    // Settled: the next run does not ask.
    let t = Term::start_in("live-settled", &server.url(), "--refresh 0", home.path());
    let s = t.wait_for("done");
    assert!(!s.contains("left switched on"), "{s}");
}
