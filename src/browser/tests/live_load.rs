//! Live mode under load, checked for correctness only: the browser's model and worker run
//! headless (no terminal) against a private redis-server this test starts, with notifications
//! on; once the writer stops, the index must equal a fresh SCAN (polled with a deadline).
//! Speed is measured in `benches/browser.rs`.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::browser::action::{Action, Effect};
use crate::browser::app::WorkerLink;
use crate::browser::keymap::Keymap;
use crate::browser::model::live::LiveState;
use crate::browser::model::{Model, SystemClock};
use crate::browser::update::update;
use crate::browser::{BrowserOptions, initial_model, spawn_worker};

const PREFIX: &str = "motia:state:";
/// Generous: an unoptimised test build works through 200,000 notifications here, on a machine
/// that may be busy with other builds. Only correctness is checked; speed is in the bench.
const DEADLINE: Duration = Duration::from_secs(90);

/// A private redis-server with keyspace notifications for strings, generic commands and
/// expiry; stopped on drop. (The integration tests' starter is not reachable from here.)
struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl RedisServer {
    fn start() -> Self {
        let mut s = Self {
            child: None,
            port: 0,
            dir: tempfile::tempdir().expect("temp dir"),
        };
        for _ in 0..5 {
            s.port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            if s.spawn() {
                return s;
            }
        }
        panic!("could not start redis-server");
    }

    fn spawn(&mut self) -> bool {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--notify-keyspace-events", "K$gx"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed");
        self.child = Some(child);
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                return false;
            }
            if self.cli(&["PING"]) == "PONG" {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn config(&self) -> motia_state::Config {
        let mut c = motia_state::Config::from_url(&self.url()).expect("url");
        c.connect_timeout = Duration::from_secs(3);
        c
    }

    fn cli(&self, args: &[&str]) -> String {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    }

    fn set_raw(&self, key: &str, value: &str) {
        assert_eq!(self.cli(&["SET", key, value]), "OK");
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Same port, empty (nothing is persisted).
    fn restart(&mut self) {
        self.stop();
        assert!(self.spawn(), "restart redis-server");
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The browser without a terminal: the real worker, `update`, and ticks.
struct Headless {
    m: Model,
    link: WorkerLink,
}

impl Headless {
    fn start(server: &RedisServer) -> Self {
        let config = server.config();
        let opts = BrowserOptions {
            refresh: None,
            ..BrowserOptions::default()
        };
        let mut m = initial_model(&config, &opts, Keymap::default(), Arc::new(SystemClock));
        update(&mut m, Action::Resize(150, 40));
        let (link, _worker) = spawn_worker(config);
        Self { m, link }
    }

    fn apply(&mut self, action: Action) {
        for fx in update(&mut self.m, action) {
            if let Effect::Worker(cmd) = fx {
                let _ = self.link.cmds.send(cmd);
            }
        }
    }

    /// Handles worker events and ticks for `d`.
    async fn pump(&mut self, d: Duration) {
        let end = tokio::time::Instant::now() + d;
        loop {
            let action = tokio::select! {
                ev = self.link.events.recv() => match ev {
                    Some(e) => Action::Worker(e),
                    None => panic!("the worker stopped"),
                },
                _ = tokio::time::sleep(Duration::from_millis(20)) => Action::Tick,
                _ = tokio::time::sleep_until(end) => return,
            };
            self.apply(action);
        }
    }

    async fn until(&mut self, what: &str, pred: impl Fn(&Model) -> bool) {
        let end = Instant::now() + DEADLINE;
        while !pred(&self.m) {
            assert!(
                Instant::now() < end,
                "timed out waiting for {what}: live {:?}, scan running {} done {}, {} keys indexed",
                self.m.live.state,
                self.m.scan.running,
                self.m.scan.completed_once,
                self.m.index.total_keys
            );
            self.pump(Duration::from_millis(50)).await;
        }
    }

    fn index(&self) -> HashSet<String> {
        self.m
            .index
            .traces
            .iter()
            .flat_map(|(t, keys)| keys.keys().map(move |k| format!("{PREFIX}{t}:{k}")))
            .collect()
    }

    /// Polls until the index equals what a SCAN finds now.
    async fn until_exact(&mut self, conn: &mut redis::aio::MultiplexedConnection) {
        let end = Instant::now() + DEADLINE;
        loop {
            self.pump(Duration::from_millis(100)).await;
            let now = scan(conn).await;
            let index = self.index();
            if index == now {
                assert_eq!(self.m.index.total_keys, now.len());
                return;
            }
            if Instant::now() > end {
                let missing = now.difference(&index).take(5).collect::<Vec<_>>();
                let stale = index.difference(&now).take(5).collect::<Vec<_>>();
                panic!(
                    "index ({}) differs from a scan ({}): missing {missing:?}, stale {stale:?}",
                    index.len(),
                    now.len()
                );
            }
        }
    }
}

async fn scan(conn: &mut redis::aio::MultiplexedConnection) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{PREFIX}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(conn)
            .await
            .unwrap();
        out.extend(keys);
        cursor = next;
        if cursor == 0 {
            return out;
        }
    }
}

async fn connection(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    connect_url(&server.url()).await
}

async fn connect_url(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Sets, deletes and expiries at about `rate` commands a second for `secs`, in pipelines every
/// 10 ms, over keys that keep adding traces.
async fn write_load(url: String, rate: usize, secs: u64) -> usize {
    let mut conn = connect_url(&url).await;
    let per_tick = rate / 100;
    let mut seed: u64 = 42;
    let mut rand = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let end = Instant::now() + Duration::from_secs(secs);
    let mut sent = 0;
    while Instant::now() < end {
        tick.tick().await;
        let mut pipe = redis::pipe();
        for _ in 0..per_tick {
            let key = format!("{PREFIX}load-{}:k{}", rand(3000), rand(20));
            match rand(10) {
                0 => pipe.cmd("DEL").arg(&key).ignore(),
                1 => pipe.cmd("PEXPIRE").arg(&key).arg(200 + rand(1500)).ignore(),
                _ => pipe
                    .cmd("SET")
                    .arg(&key)
                    .arg(format!("{{\"n\":{sent}}}"))
                    .ignore(),
            };
            sent += 1;
        }
        let () = pipe.query_async(&mut conn).await.unwrap();
    }
    sent
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_is_exact_after_5000_writes_a_second() {
    let server = RedisServer::start();
    server.set_raw(&format!("{PREFIX}before:k"), "1");
    let mut b = Headless::start(&server);
    b.until("live mode and the first scan", |m| {
        m.live.state == LiveState::Live && m.scan.completed_once && !m.scan.running
    })
    .await;
    let writer = tokio::spawn(write_load(server.url(), 5_000, 5));
    while !writer.is_finished() {
        b.pump(Duration::from_millis(100)).await;
    }
    let sent = writer.await.unwrap();
    assert!(sent >= 5_000, "the writer sent {sent}");
    let mut conn = connection(&server).await;
    b.until_exact(&mut conn).await;
    assert_eq!(b.m.live.state, LiveState::Live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_100000_deletions_empties_the_trace() {
    let server = RedisServer::start();
    server.set_raw(&format!("{PREFIX}small:k"), "1");
    let mut b = Headless::start(&server);
    b.until("live mode on the small trace", |m| {
        m.live.state == LiveState::Live && m.scan.completed_once && m.index.total_keys == 1
    })
    .await;
    // The app fills a big trace while the browser follows (the user stays on `small`).
    let filler = {
        let url = server.url();
        tokio::spawn(async move {
            let mut conn = connect_url(&url).await;
            for chunk in 0..100 {
                let mut pipe = redis::pipe();
                for i in 0..1000 {
                    pipe.cmd("SET")
                        .arg(format!("{PREFIX}zbig:item:{}", chunk * 1000 + i))
                        .arg("1")
                        .ignore();
                }
                let () = pipe.query_async(&mut conn).await.unwrap();
            }
        })
    };
    while !filler.is_finished() {
        b.pump(Duration::from_millis(100)).await;
    }
    filler.await.unwrap();
    let mut conn = connection(&server).await;
    b.until_exact(&mut conn).await;
    assert_eq!(b.m.index.total_keys, 100_001);
    // The app clears the trace (as Motia's clear does, UNLINK in batches).
    let deleter = {
        let url = server.url();
        tokio::spawn(async move {
            let mut conn = connect_url(&url).await;
            for chunk in 0..100 {
                let keys: Vec<String> = (0..1000)
                    .map(|i| format!("{PREFIX}zbig:item:{}", chunk * 1000 + i))
                    .collect();
                let _: u64 = redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async(&mut conn)
                    .await
                    .unwrap();
            }
        })
    };
    while !deleter.is_finished() {
        b.pump(Duration::from_millis(100)).await;
    }
    deleter.await.unwrap();
    b.until_exact(&mut conn).await;
    assert!(!b.m.index.traces.contains_key("zbig"));
    assert!(!b.m.traces.view.iter().any(|t| &**t == "zbig"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_while_live_resynchronises_the_index() {
    let mut server = RedisServer::start();
    for i in 0..50 {
        server.set_raw(&format!("{PREFIX}old-{i}:k"), "1");
    }
    let mut b = Headless::start(&server);
    b.until("live mode and the first scan", |m| {
        m.live.state == LiveState::Live && m.scan.completed_once && m.index.total_keys == 50
    })
    .await;
    let generation = b.m.scan.generation;
    server.restart();
    // The restarted server is empty; new state arrives, maybe before the browser is back.
    for i in 0..20 {
        server.set_raw(&format!("{PREFIX}new-{i}:k"), "1");
    }
    let mut conn = connection(&server).await;
    b.until_exact(&mut conn).await;
    b.until("live again", |m| m.live.state == LiveState::Live)
        .await;
    assert!(
        b.m.scan.generation > generation,
        "a resynchronising scan ran"
    );
    assert_eq!(b.m.index.total_keys, 20);
}
