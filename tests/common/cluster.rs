//! A real 3-primary Redis Cluster for tests: three `redis-server --cluster-enabled yes` on free
//! ports below the ephemeral range (the cluster bus listens on port + 10000), joined with
//! `redis-cli --cluster create`, ready once every node says `cluster_state:ok`.
//!
//! A test file starts one cluster and shares it. Its servers are started by one long-lived
//! thread with a parent-death signal, so they go with the test process even though a shared
//! value is never dropped.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// True in the test binaries that run shared test bodies against the cluster
/// (`tests/cluster_*.rs`, which include the standalone suites as modules).
pub fn in_cluster_suite() -> bool {
    module_path!().starts_with("cluster_")
}

pub struct RedisCluster {
    nodes: Mutex<Vec<(u16, Option<Child>)>>,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    node_timeout_ms: u32,
}

type SpawnRequest = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Starts processes from a thread that lives as long as the test process: the servers get
/// SIGKILL when it ends (PR_SET_PDEATHSIG is tied to the thread that forked them).
pub fn spawn(mut cmd: Command) -> std::io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let tx = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::spawn(move || {
            for (mut cmd, reply) in rx {
                use std::os::unix::process::CommandExt;
                // SAFETY: prctl is async-signal-safe and touches only the child.
                unsafe {
                    cmd.pre_exec(|| {
                        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                        Ok(())
                    });
                }
                let _ = reply.send(cmd.spawn());
            }
        });
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    tx.lock()
        .unwrap_or_else(|e| e.into_inner())
        .send((cmd, reply_tx))
        .expect("spawner thread");
    reply_rx.recv().expect("spawner reply")
}

/// A free port with a free bus port (port + 10000), both below the kernel's ephemeral range:
/// a node killed and started again must find its ports free, and a port in that range may be
/// given meanwhile to any outgoing connection (seen: a restarted node that never answered).
fn cluster_port(taken: &[u16]) -> u16 {
    let ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u32>().ok())
        .unwrap_or(32768);
    let (low, high) = (10_000u32, ephemeral.saturating_sub(10_001).min(55_535));
    if high <= low {
        return loop {
            let p = super::free_port();
            let bus_free = std::net::TcpListener::bind(("127.0.0.1", p + 10000)).is_ok();
            if p <= 55535 && bus_free && !taken.contains(&p) {
                break p;
            }
        };
    }
    // Each test process starts somewhere else in the range, so two at once rarely meet.
    let seed = std::process::id()
        ^ std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
    let span = high - low;
    (0..span)
        .map(|i| (u64::from(low) + (u64::from(seed) + u64::from(i) * 7) % u64::from(span)) as u16)
        .find(|&p| {
            !taken.contains(&p)
                && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
                && std::net::TcpListener::bind(("127.0.0.1", p + 10000)).is_ok()
        })
        .expect("a free cluster port")
}

fn redis_cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

impl RedisCluster {
    /// The cluster of this test binary, started on first use.
    pub fn shared() -> &'static RedisCluster {
        static SHARED: OnceLock<RedisCluster> = OnceLock::new();
        SHARED.get_or_init(RedisCluster::start)
    }

    /// Three primaries, no replicas; a primary that goes away leaves the others serving
    /// (`cluster-require-full-coverage no`).
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// With extra `redis-server` arguments for every node (`--appendonly yes`, so a killed
    /// primary comes back with its keys).
    pub fn start_with(extra: &[&str]) -> Self {
        Self::create(3, 0, 2000, extra)
    }

    /// Three primaries with one replica each and a short node timeout, so a primary killed
    /// with SIGKILL is replaced by its promoted replica within a few seconds (see
    /// [`RedisCluster::fail_over`]).
    pub fn start_with_replicas(extra: &[&str]) -> Self {
        let cluster = Self::create(6, 1, 1000, extra);
        for p in cluster.primaries() {
            let r = cluster.wait_replica_of(p);
            cluster.wait_replicated(p, r);
        }
        cluster
    }

    fn create(nodes: usize, replicas: u8, node_timeout_ms: u32, extra: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let cluster = RedisCluster {
            nodes: Mutex::new(Vec::new()),
            dir,
            extra: extra.iter().map(|s| s.to_string()).collect(),
            node_timeout_ms,
        };
        let mut ports = Vec::new();
        for _ in 0..nodes {
            let p = cluster_port(&ports);
            ports.push(p);
            let child = cluster.spawn_node(p);
            cluster.lock().push((p, Some(child)));
        }
        for &p in &ports {
            wait_until(&format!("node {p} to answer"), || {
                redis_cli(p, &["PING"]).as_deref() == Some("PONG")
            });
        }
        let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let out = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .expect("redis-cli --cluster create");
        assert!(
            out.status.success(),
            "cluster create: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        cluster.wait_ok();
        cluster
    }

    fn lock(&self) -> MutexGuard<'_, Vec<(u16, Option<Child>)>> {
        self.nodes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn spawn_node(&self, port: u16) -> Child {
        let mut cmd = Command::new("redis-server");
        cmd.arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--cluster-enabled", "yes"])
            .arg("--cluster-config-file")
            .arg(format!("nodes-{port}.conf"))
            .arg("--cluster-node-timeout")
            .arg(self.node_timeout_ms.to_string())
            .args(["--cluster-require-full-coverage", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .arg("--appendfilename")
            .arg(format!("appendonly-{port}.aof"))
            .arg("--appenddirname")
            .arg(format!("aof-{port}"))
            .args(&self.extra);
        spawn(cmd).expect("spawn redis-server (is it installed?)")
    }

    /// Waits until every running node says `cluster_state:ok`.
    pub fn wait_ok(&self) {
        for p in self.running() {
            super::poll_for(
                &format!("cluster_state:ok on {p}"),
                super::POLL_LIMIT,
                || match redis_cli(p, &["CLUSTER", "INFO"]) {
                    Some(s) if s.contains("cluster_state:ok") => Ok(()),
                    Some(s) => Err(s.lines().next().unwrap_or_default().to_string()),
                    None => Err("no answer".into()),
                },
            );
        }
    }

    pub fn ports(&self) -> Vec<u16> {
        self.lock().iter().map(|(p, _)| *p).collect()
    }

    /// The nodes not killed.
    pub fn running(&self) -> Vec<u16> {
        self.lock()
            .iter()
            .filter(|(_, c)| c.is_some())
            .map(|(p, _)| *p)
            .collect()
    }

    /// A plain URL to the first node (motia-state finds out it is a cluster).
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.ports()[0])
    }

    /// `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`, as `REDIS_CLUSTER_NODES` takes it.
    pub fn seeds(&self) -> String {
        self.ports()
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// redis-cli in cluster mode (follows redirects); `DBSIZE` and `FLUSHALL` go to every
    /// running primary (replicas follow) (DBSIZE summed), as on one server.
    pub fn cli(&self, args: &[&str]) -> String {
        self.try_cli(args).unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`RedisCluster::cli`] for polls: no answer is an `Err`, not a panic.
    pub fn try_cli(&self, args: &[&str]) -> Result<String, String> {
        let first = args.first().map(|a| a.to_ascii_uppercase());
        match first.as_deref() {
            Some("DBSIZE") => Ok(self
                .primaries()
                .iter()
                .map(|&p| {
                    redis_cli(p, &["DBSIZE"])
                        .and_then(|s| s.parse::<u64>().ok())
                        .unwrap_or(0)
                })
                .sum::<u64>()
                .to_string()),
            Some("FLUSHALL") => {
                for p in self.primaries() {
                    if redis_cli(p, &["FLUSHALL"]).as_deref() != Some("OK") {
                        return Err(format!("FLUSHALL on {p} failed"));
                    }
                }
                Ok("OK".into())
            }
            _ => {
                let port = self.running()[0];
                let mut cli_args = vec!["-c"];
                cli_args.extend_from_slice(args);
                redis_cli(port, &cli_args).ok_or_else(|| format!("redis-cli -c {args:?} failed"))
            }
        }
    }

    /// Bulk commands, each sent to the primary that serves its key.
    pub fn load(&self, script: &str) {
        let mut by_node: std::collections::HashMap<u16, String> = Default::default();
        let slots = self.slot_owners();
        for line in script.lines() {
            let key = line.split_whitespace().nth(1).unwrap_or("");
            let port = slots[usize::from(key_slot(key.as_bytes()))];
            let entry = by_node.entry(port).or_default();
            entry.push_str(line);
            entry.push('\n');
        }
        for (port, part) in by_node {
            super::pipe_into(port, &part);
        }
    }

    /// The port of the primary of every slot.
    fn slot_owners(&self) -> Vec<u16> {
        let port = self
            .running()
            .into_iter()
            .find(|&p| redis_cli(p, &["PING"]).as_deref() == Some("PONG"))
            .expect("a running node");
        slot_owners_seen_by(port)
    }

    /// The port of the primary serving `key`.
    pub fn primary_of(&self, key: &str) -> u16 {
        self.slot_owners()[usize::from(key_slot(key.as_bytes()))]
    }

    /// Kills a node (SIGKILL): it stops answering at once.
    pub fn kill(&self, port: u16) {
        let mut nodes = self.lock();
        if let Some((_, child)) = nodes.iter_mut().find(|(p, _)| *p == port)
            && let Some(mut c) = child.take()
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts a killed node again with its cluster config (it rejoins with its slots, empty).
    pub fn restart(&self, port: u16) {
        let child = self.spawn_node(port);
        let mut nodes = self.lock();
        match nodes.iter_mut().find(|(p, _)| *p == port) {
            Some((_, c)) => *c = Some(child),
            None => nodes.push((port, Some(child))),
        }
        drop(nodes);
        wait_until(&format!("node {port} to answer"), || {
            redis_cli(port, &["PING"]).as_deref() == Some("PONG")
        });
        self.wait_ok();
    }

    /// The running nodes that are primaries now (each says so itself).
    pub fn primaries(&self) -> Vec<u16> {
        self.running()
            .into_iter()
            .filter(|&p| replication(p).is_some_and(|r| r.contains("role:master")))
            .collect()
    }

    /// The running replica of `primary` whose link to it is up, if any.
    pub fn replica_of(&self, primary: u16) -> Option<u16> {
        self.running().into_iter().find(|&p| {
            replication(p).is_some_and(|r| {
                r.contains("role:slave")
                    && field(&r, "master_port") == Some(u64::from(primary))
                    && r.contains("master_link_status:up")
            })
        })
    }

    fn wait_replica_of(&self, primary: u16) -> u16 {
        let mut found = None;
        wait_until(&format!("a replica of {primary} in sync"), || {
            found = self.replica_of(primary);
            found.is_some()
        });
        found.unwrap_or_default()
    }

    /// Waits until `replica` has acknowledged everything `primary` wrote so far (WAIT only
    /// counts the writes of its own connection, so the offsets are compared).
    pub fn wait_replicated(&self, primary: u16, replica: u16) {
        let target = super::poll_for(
            &format!("master_repl_offset of {primary}"),
            super::POLL_LIMIT,
            || {
                replication(primary)
                    .and_then(|r| field(&r, "master_repl_offset"))
                    .ok_or_else(|| "no answer".to_string())
            },
        );
        super::poll_for(
            &format!("{replica} to catch up with {primary} (offset {target})"),
            super::POLL_LIMIT,
            || match replication(replica).and_then(|r| field(&r, "slave_repl_offset")) {
                Some(o) if o >= target => Ok(()),
                Some(o) => Err(format!("slave_repl_offset:{o}")),
                None => Err("no answer".into()),
            },
        );
    }

    /// Sets whether `replica` may take over from its primary (`cluster-replica-no-failover`):
    /// holding it keeps a killed primary's slots unserved for as long as a test needs.
    pub fn hold_failover(&self, replica: u16, hold: bool) {
        let value = if hold { "yes" } else { "no" };
        assert_eq!(
            redis_cli(
                replica,
                &["CONFIG", "SET", "cluster-replica-no-failover", value]
            )
            .as_deref(),
            Some("OK")
        );
    }

    /// Waits until `replica` has taken over the slots of the killed `dead` primary: it says it
    /// is a primary, every running node sees no slot served by `dead`, and the cluster is ok.
    pub fn wait_promoted(&self, dead: u16, replica: u16) {
        wait_until(&format!("{replica} to be promoted"), || {
            replication(replica).is_some_and(|r| r.contains("role:master"))
        });
        for p in self.running() {
            wait_until(&format!("{p} to see {dead} replaced by {replica}"), || {
                let owners = slot_owners_seen_by(p);
                owners.iter().all(|&o| o != 0 && o != dead) && owners.contains(&replica)
            });
        }
        self.wait_ok();
    }

    /// Kills primary `dead` (SIGKILL) for a failover to `successor`, its replica. The cluster
    /// is put back when the returned value goes, whether the test passed or not.
    pub fn kill_primary(&self, dead: u16, successor: u16) -> Killed<'_> {
        self.kill(dead);
        Killed {
            cluster: self,
            dead,
            successor,
        }
    }

    /// Starts a failed-over primary again: it rejoins as a replica of its successor.
    pub fn rejoin(&self, old: u16, successor: u16) {
        self.restart(old);
        wait_until(&format!("{old} to replicate {successor}"), || {
            self.replica_of(successor) == Some(old)
        });
    }
}

/// A primary killed for a failover. Dropped, it lets the successor take over (if the test held
/// it back), waits for that, and starts the primary again as the successor's replica: a test
/// that failed midway leaves the next one three primaries with a replica each, and the seed
/// node its URL names running.
pub struct Killed<'a> {
    cluster: &'a RedisCluster,
    dead: u16,
    successor: u16,
}

impl Drop for Killed<'_> {
    fn drop(&mut self) {
        let (c, dead, successor) = (self.cluster, self.dead, self.successor);
        let back = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            c.hold_failover(successor, false);
            c.wait_promoted(dead, successor);
            c.rejoin(dead, successor);
        }));
        if back.is_err() && !std::thread::panicking() {
            panic!("the killed primary {dead} did not rejoin as a replica of {successor}");
        }
    }
}

/// redis-cli on one node (no redirects followed), its answer.
pub fn cli_on(port: u16, args: &[&str]) -> String {
    redis_cli(port, args).unwrap_or_else(|| panic!("redis-cli -p {port} {args:?} failed"))
}

/// `PUBSUB NUMPAT` of one node: pattern subscriptions are local to the node.
pub fn numpat(port: u16) -> u64 {
    redis_cli(port, &["PUBSUB", "NUMPAT"])
        .and_then(|s| s.parse().ok())
        .expect("PUBSUB NUMPAT")
}

fn replication(port: u16) -> Option<String> {
    redis_cli(port, &["INFO", "replication"])
}

fn field(info: &str, name: &str) -> Option<u64> {
    info.lines()
        .find_map(|l| l.trim_end().strip_prefix(&format!("{name}:")))
        .and_then(|v| v.parse().ok())
}

/// The port of the primary of every slot, as node `port` sees it (0: none).
fn slot_owners_seen_by(port: u16) -> Vec<u16> {
    let mut owners = vec![0u16; 16384];
    let Some(nodes) = redis_cli(port, &["CLUSTER", "NODES"]) else {
        return owners;
    };
    for line in nodes.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 9 || !f[2].contains("master") || f[2].contains("fail") {
            continue;
        }
        let port: u16 = f[1]
            .split(['@', ':'])
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        for range in &f[8..] {
            if range.starts_with('[') {
                continue;
            }
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                for o in &mut owners[a..=b] {
                    *o = port;
                }
            }
        }
    }
    owners
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for (_, child) in self.lock().iter_mut() {
            if let Some(mut c) = child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}

/// The cluster slot of a key: CRC16 (XMODEM) of the key or its `{hash tag}`, modulo 16384.
pub fn key_slot(key: &[u8]) -> u16 {
    let tagged = key
        .iter()
        .position(|&b| b == b'{')
        .and_then(|open| {
            let rest = &key[open + 1..];
            let close = rest.iter().position(|&b| b == b'}')?;
            (close > 0).then(|| &rest[..close])
        })
        .unwrap_or(key);
    crc16::State::<crc16::XMODEM>::calculate(tagged) % 16384
}

fn wait_until(what: &str, ok: impl FnMut() -> bool) {
    super::poll(what, ok);
}

/// Runs the tests of a cluster suite one at a time on an emptied cluster, as each had a fresh
/// server of its own; a test that asks for a second server gets the same cluster.
pub struct ClusterTurn {
    owner: bool,
}

static TURN_TAKEN: Mutex<bool> = Mutex::new(false);
static TURN_FREED: std::sync::Condvar = std::sync::Condvar::new();

thread_local! {
    static HOLDING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl ClusterTurn {
    /// The shared cluster of a cluster suite, emptied, for this test alone.
    pub fn take() -> Self {
        let turn = Self::wait();
        if turn.owner {
            RedisCluster::shared().cli(&["FLUSHALL"]);
        }
        turn
    }

    /// This test alone (of those that wait for a turn), the cluster as it is.
    pub fn wait() -> Self {
        if HOLDING.with(|h| h.get()) > 0 {
            HOLDING.with(|h| h.set(h.get() + 1));
            return Self { owner: false };
        }
        let mut taken = TURN_TAKEN.lock().unwrap_or_else(|e| e.into_inner());
        while *taken {
            taken = TURN_FREED.wait(taken).unwrap_or_else(|e| e.into_inner());
        }
        *taken = true;
        drop(taken);
        HOLDING.with(|h| h.set(1));
        Self { owner: true }
    }
}

impl Drop for ClusterTurn {
    fn drop(&mut self) {
        HOLDING.with(|h| h.set(h.get().saturating_sub(1)));
        if self.owner {
            *TURN_TAKEN.lock().unwrap_or_else(|e| e.into_inner()) = false;
            TURN_FREED.notify_one();
        }
    }
}
