//! Redis Sentinel: a primary, a replica and a sentinel, started once for the file; the library,
//! the CLI and the browser follow a `SENTINEL FAILOVER` to the new primary. The tests take
//! turns, as each fails the primary over.

mod common;

use std::process::{Child, Command};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use common::term::Term;
use common::{RedisServer, free_port, motia_state};
use motia_state::{Config, RedisStateAdapter, Topology};

struct Setup {
    a: RedisServer,
    b: RedisServer,
    sentinel_port: u16,
    sentinel: Mutex<Child>,
    _dir: tempfile::TempDir,
}

impl Drop for Setup {
    fn drop(&mut self) {
        if let Ok(c) = self.sentinel.get_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Polls until `check` is `Ok`; an `Err` (not yet, or a server down mid-failover) is retried
/// until the deadline, whose panic says what was seen last.
fn poll(what: &str, check: impl FnMut() -> Result<(), String>) {
    common::poll_for(what, common::POLL_LIMIT, check)
}

/// `Ok` when `cond` holds; else `Err` with what was seen.
fn seen(cond: bool, what: impl std::fmt::Display) -> Result<(), String> {
    if cond { Ok(()) } else { Err(what.to_string()) }
}

fn sentinel_cli(port: u16, args: &[&str]) -> Result<String, String> {
    let out = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .map_err(|e| format!("cannot run redis-cli: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "redis-cli -p {port} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The `role:` line of `INFO replication`, or why there is none.
fn role(server: &RedisServer) -> Result<String, String> {
    let info = server.try_cli(&["INFO", "replication"])?;
    info.lines()
        .find(|l| l.starts_with("role:"))
        .map(|l| l.trim().to_string())
        .ok_or_else(|| format!("no role in {info:?}"))
}

fn setup() -> &'static Setup {
    static S: OnceLock<Setup> = OnceLock::new();
    S.get_or_init(|| {
        let a = RedisServer::start_with(&[]);
        let b = RedisServer::start_with(&["--replicaof", "127.0.0.1", &a.port.to_string()]);
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "sentinel monitor mymaster 127.0.0.1 {} 1\n\
                 sentinel down-after-milliseconds mymaster 2000\n\
                 sentinel failover-timeout mymaster 10000\n",
                a.port
            ),
        )
        .unwrap();
        let port = free_port();
        let mut cmd = Command::new("redis-server");
        cmd.arg(&conf)
            .args(["--sentinel", "--port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "--dir"])
            .arg(dir.path());
        let sentinel = common::cluster::spawn(cmd).expect("redis-server --sentinel");
        let setup = Setup {
            a,
            b,
            sentinel_port: port,
            sentinel: Mutex::new(sentinel),
            _dir: dir,
        };
        setup.wait_ready();
        setup
    })
}

impl Setup {
    /// The primary's port as the sentinel names it, or why it does not (yet).
    fn try_primary_port(&self) -> Result<u16, String> {
        let out = sentinel_cli(
            self.sentinel_port,
            &["SENTINEL", "get-master-addr-by-name", "mymaster"],
        )?;
        out.lines()
            .nth(1)
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| format!("the sentinel answered {out:?}"))
    }

    /// The primary's port, polled through a moment the sentinel does not answer.
    fn primary_port(&self) -> u16 {
        common::poll_for(
            "the sentinel to name the primary",
            common::POLL_LIMIT,
            || self.try_primary_port(),
        )
    }

    fn server(&self, port: u16) -> &RedisServer {
        if self.a.port == port {
            &self.a
        } else {
            &self.b
        }
    }

    /// The sentinel knows the replica and the replica is in sync: a failover can happen.
    fn wait_ready(&self) {
        poll("the sentinel to see an in-sync replica", || {
            let primary = self.try_primary_port()?;
            let replica = if primary == self.a.port {
                &self.b
            } else {
                &self.a
            };
            let replicas = sentinel_cli(self.sentinel_port, &["SENTINEL", "replicas", "mymaster"])?;
            seen(
                replicas.contains(&replica.port.to_string())
                    && !replicas.contains("disconnected")
                    && !replicas.contains("s_down"),
                format!("SENTINEL replicas: {}", replicas.replace('\n', " ")),
            )?;
            let info = replica.try_cli(&["INFO", "replication"])?;
            seen(
                info.contains("master_link_status:up"),
                format!("the replica {}: link not up", replica.port),
            )
        });
    }

    /// `SENTINEL FAILOVER`, then waits until the other server is the primary and in charge.
    fn failover(&self) -> u16 {
        let before = self.primary_port();
        self.wait_ready();
        let out = sentinel_cli(self.sentinel_port, &["SENTINEL", "FAILOVER", "mymaster"])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(out.contains("OK"), "SENTINEL FAILOVER: {out}");
        let now = common::poll_for(
            "the sentinel to name the new primary",
            common::POLL_LIMIT,
            || {
                let now = self.try_primary_port()?;
                if now == before {
                    Err(format!("the sentinel still names {before}"))
                } else {
                    Ok(now)
                }
            },
        );
        poll("the new primary to take writes", || {
            let r = role(self.server(now))?;
            seen(r == "role:master", format!("{now}: {r}"))
        });
        // Until the sentinel demotes the old primary, both take writes (the window every
        // Sentinel setup has); the demotion also closes its clients' connections.
        poll("the old primary to become a replica", || {
            let r = role(self.server(before))?;
            seen(r == "role:slave", format!("{before}: {r}"))
        });
        now
    }

    fn url(&self) -> String {
        format!("redis+sentinel://127.0.0.1:{}/mymaster", self.sentinel_port)
    }
}

fn turn() -> MutexGuard<'static, ()> {
    static M: Mutex<()> = Mutex::new(());
    M.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn the_library_follows_a_failover() {
    let _turn = turn();
    let s = setup();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut config = Config::from_url(&s.url()).unwrap();
        config.connect_timeout = Duration::from_secs(3);
        let state = RedisStateAdapter::connect(config).await.unwrap();
        let first = s.primary_port();
        let Topology::Sentinel { master, primary } = state.topology() else {
            panic!("not through a sentinel: {:?}", state.topology());
        };
        assert_eq!(master, "mymaster");
        assert_eq!(primary, Some(format!("127.0.0.1:{first}")));
        state.set("sent-lib", "before", &1).await.unwrap();

        let second = tokio::task::spawn_blocking(|| setup().failover())
            .await
            .unwrap();
        assert_ne!(first, second);
        // The same adapter writes to the new primary; nothing was lost on the way.
        state.set("sent-lib", "after", &2).await.unwrap();
        assert_eq!(
            s.server(second).cli(&["GET", "motia:state:sent-lib:after"]),
            "2"
        );
        assert_eq!(
            state.get::<i32>("sent-lib", "before").await.unwrap(),
            Some(1)
        );
        let Topology::Sentinel { primary, .. } = state.topology() else {
            panic!()
        };
        assert_eq!(primary, Some(format!("127.0.0.1:{second}")));
    });
}

#[test]
fn the_cli_asks_the_sentinels_by_flag_or_url() {
    let _turn = turn();
    let s = setup();
    let sentinel = format!("127.0.0.1:{}", s.sentinel_port);
    let ok = |args: &[&str]| {
        let out = motia_state().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    ok(&["--sentinel", &sentinel, "set", "sent-cli", "k", "1"]);
    let now = s.failover();
    let out = ok(&[
        "--sentinel",
        &sentinel,
        "--sentinel-master",
        "mymaster",
        "--verbose",
        "get",
        "sent-cli",
        "k",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "Redis Sentinel (primary mymaster at 127.0.0.1:{now})"
        )),
        "{err}"
    );
    ok(&["--url", &s.url(), "set", "sent-cli", "k", "2"]);
    assert_eq!(s.server(now).cli(&["GET", "motia:state:sent-cli:k"]), "2");
    let bad = motia_state()
        .args([
            "--sentinel",
            &sentinel,
            "--sentinel-master",
            "nosuch",
            "traces",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("nosuch"));
}

#[test]
fn the_browser_carries_on_through_a_failover() {
    let _turn = turn();
    let s = setup();
    let first = s.primary_port();
    s.server(first)
        .set_raw("motia:state:sent-tui:order", r#"{"id":1}"#);
    // The replica has it before the browser starts.
    let replica = if first == s.a.port { &s.b } else { &s.a };
    poll("the replica to copy the key", || {
        let n = replica.try_cli(&["EXISTS", "motia:state:sent-tui:order"])?;
        seen(n == "1", format!("EXISTS said {n}"))
    });
    let t = Term::start("sentinel", &s.url(), "", None);
    t.wait_for(&format!("sentinel mymaster at 127.0.0.1:{first}"));
    t.keys(&["/"]);
    t.type_text("sent-tui");
    t.keys(&["Enter"]);
    t.wait_for("\"id\": 1");
    let second = s.failover();
    // An edit after the failover lands on the new primary.
    t.keys(&["Enter"]);
    t.wait("the Keys pane focused", |s| s.contains("e edit"));
    t.keys(&["e"]);
    t.wait_for("Edit sent-tui:order");
    t.keys(&["Down", "End", "BSpace"]);
    t.type_text("2");
    t.keys(&["C-s"]);
    t.wait_for("save sent-tui:order: done");
    assert_eq!(
        s.server(second).cli(&["GET", "motia:state:sent-tui:order"]),
        r#"{"id":2}"#
    );
    t.wait_for(&format!("sentinel mymaster at 127.0.0.1:{second}"));
}

#[test]
fn live_notifications_follow_the_primary_through_a_failover() {
    use motia_state::live::{LiveMessage, LiveOptions, LiveSubscription};
    let _turn = turn();
    let s = setup();
    for server in [&s.a, &s.b] {
        assert_eq!(
            server.cli(&["CONFIG", "SET", "notify-keyspace-events", "K$gx"]),
            "OK"
        );
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut config = Config::from_url(&s.url()).unwrap();
        config.connect_timeout = Duration::from_secs(3);
        config.reconnect =
            motia_state::ReconnectStrategy::new(|n| (n <= 300).then(|| Duration::from_millis(100)));
        let state = RedisStateAdapter::connect(config).await.unwrap();
        let mut live = LiveSubscription::open(&state, LiveOptions::default())
            .await
            .unwrap();
        // Writes go to whichever server is the primary now, until the event of one arrives.
        let mut n = 0;
        let mut until_seen = async |live: &mut LiveSubscription| {
            let deadline = Instant::now() + common::POLL_LIMIT;
            loop {
                n += 1;
                let key = format!("motia:state:sent-live:k{n}");
                // A primary mid-failover may not answer or refuse the write: the next round
                // tries again.
                let primary = setup().try_primary_port().unwrap_or(0);
                if primary != 0 {
                    let _ = s.server(primary).try_cli(&["SET", &key, "1"]);
                }
                let wait = tokio::time::timeout(Duration::from_millis(500), async {
                    loop {
                        if let Ok(LiveMessage::Event(ev)) = live.next().await
                            && ev.key == key
                        {
                            return;
                        }
                    }
                });
                if wait.await.is_ok() {
                    return;
                }
                assert!(Instant::now() < deadline, "no event from the primary");
            }
        };
        until_seen(&mut live).await;
        let first = s.primary_port();
        let second = tokio::task::spawn_blocking(|| setup().failover())
            .await
            .unwrap();
        assert_ne!(first, second);
        until_seen(&mut live).await;
    });
    for server in [&s.a, &s.b] {
        server.cli(&["CONFIG", "SET", "notify-keyspace-events", ""]);
    }
}
