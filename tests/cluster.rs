//! Redis Cluster beyond the shared suites (`cluster_adapter.rs`, `cluster_cli.rs`): how the
//! cluster is asked for or found, figures summed over primaries, and a primary killed during a
//! scan, during an edit and under the browser. One 3-primary cluster for the file, with
//! append-only files synced on every write, so a killed primary comes back with its keys and
//! "nothing lost, nothing written twice" can be checked. The tests that kill take turns.

mod common;

use std::sync::OnceLock;
use std::time::Duration;

use common::cluster::{ClusterTurn, RedisCluster};
use common::term::Term;
use common::{item, motia_state};
use motia_state::{CasOutcome, Config, Error, RedisStateAdapter, Topology};

fn cluster() -> &'static RedisCluster {
    static C: OnceLock<RedisCluster> = OnceLock::new();
    C.get_or_init(|| RedisCluster::start_with(&["--appendonly", "yes", "--appendfsync", "always"]))
}

/// One test at a time: some kill a primary, the others count on all three.
fn turn() -> ClusterTurn {
    ClusterTurn::wait()
}

fn config() -> Config {
    config_of(cluster())
}

/// Three primaries with a replica each, for real failovers (a replica promoted). Tests that
/// use it take the same turns, and put a failed-over primary back as a replica when done.
fn replicated() -> &'static RedisCluster {
    static C: OnceLock<RedisCluster> = OnceLock::new();
    C.get_or_init(|| RedisCluster::start_with_replicas(&[]))
}

/// A primary of `c` with a replica in sync, and that replica.
fn primary_with_replica(c: &RedisCluster) -> (u16, u16) {
    c.primaries()
        .into_iter()
        .find_map(|p| Some((p, c.replica_of(p)?)))
        .expect("a primary with a replica")
}

fn config_of(cluster: &RedisCluster) -> Config {
    let mut c = Config::from_url(&cluster.url()).unwrap();
    c.connect_timeout = Duration::from_secs(3);
    c.command_timeout = Some(Duration::from_secs(3));
    c
}

/// A key of `trace` served by the primary on `port`, and one served by another primary.
fn keys_on(trace: &str, port: u16) -> (String, String) {
    keys_of(cluster(), trace, port)
}

fn keys_of(c: &RedisCluster, trace: &str, port: u16) -> (String, String) {
    let mut on = None;
    let mut off = None;
    for i in 0..200 {
        let k = format!("k{i}");
        let full = format!("motia:state:{trace}:{k}");
        if c.primary_of(&full) == port {
            on.get_or_insert(k);
        } else {
            off.get_or_insert(k);
        }
        if on.is_some() && off.is_some() {
            break;
        }
    }
    (on.unwrap(), off.unwrap())
}

fn seed(trace: &str, n: usize) {
    let mut script = String::new();
    for i in 0..n {
        script.push_str(&format!("SET motia:state:{trace}:k{i} {i}\n"));
    }
    cluster().load(&script);
}

#[tokio::test]
async fn a_plain_url_is_detected_and_seed_lists_are_taken() {
    let _turn = turn();
    let c = cluster();
    let state = RedisStateAdapter::connect(config()).await.unwrap();
    assert!(matches!(
        state.topology(),
        Topology::Cluster { detected: true, .. }
    ));
    let asked = Config {
        cluster: true,
        cluster_nodes: c.seeds().split(',').map(str::to_string).collect(),
        host: "127.0.0.1".into(),
        port: c.ports()[1],
        ..Config::default()
    };
    let state = RedisStateAdapter::connect(asked).await.unwrap();
    let Topology::Cluster { detected, seeds } = state.topology() else {
        panic!("not a cluster");
    };
    assert!(!detected);
    assert_eq!(seeds.len(), 3);

    // Keys of one trace spread over every primary; DBSIZE summed over the three.
    seed("spread", 300);
    let report = state.dbsize().await.unwrap();
    assert_eq!(report.nodes, 3);
    assert!(report.keys >= 300, "{report:?}");
    let mut keys = state.keys("spread").await.unwrap();
    keys.sort();
    assert_eq!(keys.len(), 300, "a plain SCAN would see a third");
    // Multi-key reads and deletes over many slots: no CROSSSLOT.
    let full: Vec<String> = (0..300)
        .map(|i| format!("motia:state:spread:k{i}"))
        .collect();
    let values = state.get_raw_many(&full).await.unwrap();
    assert_eq!(values[7].as_deref(), Some(&b"7"[..]));
    let metas = state.key_meta(&full, None).await.unwrap();
    assert!(metas.iter().all(|m| m.redis_type == "string"));
    assert_eq!(state.clear("spread").await.unwrap(), 300);
    assert!(state.keys("spread").await.unwrap().is_empty());
}

#[test]
fn the_cli_takes_several_urls_or_redis_cluster_nodes_and_says_so_with_verbose() {
    let _turn = turn();
    let c = cluster();
    let urls: Vec<String> = c
        .ports()
        .iter()
        .map(|p| format!("redis://127.0.0.1:{p}"))
        .collect();
    let out = motia_state()
        .args(["--url", &urls[0], "--url", &urls[1], "--verbose"])
        .args(["set", "cli-seeds", "k", "1"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Redis Cluster (as asked"), "{err}");
    assert!(err.contains("keys"), "{err}");

    let out = motia_state()
        .env("REDIS_CLUSTER_NODES", c.seeds())
        .args(["--verbose", "get", "cli-seeds", "k"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Redis Cluster (as asked"));

    let out = motia_state()
        .args(["--url", &c.url(), "--verbose", "traces"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Redis Cluster (detected: the server says cluster_enabled:1"),
        "{err}"
    );
    let bad = motia_state()
        .args(["--cluster", "--url", &c.url(), "--db", "2", "traces"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("only database 0"));
}

#[tokio::test]
async fn a_primary_killed_during_a_scan_is_named_and_the_scan_never_completes() {
    let _turn = turn();
    let c = cluster();
    seed("scan-kill", 3000);
    let mut config = config();
    config.scan_count = 10;
    let state = RedisStateAdapter::connect(config).await.unwrap();
    let mut scan = state.scan_group("scan-kill").unwrap();
    assert!(scan.next_page().await.unwrap().is_some());
    let victim = c.ports()[2];
    c.kill(victim);
    let mut found = 0;
    let err = loop {
        match scan.next_page().await {
            Ok(Some(page)) => found += page.len(),
            Ok(None) => panic!("a scan that lost a primary completed ({found} keys)"),
            Err(e) => break e,
        }
    };
    let Error::ScanIncomplete { node, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(node, &format!("127.0.0.1:{victim}"));
    assert!(err.to_string().contains("keys on it are missing"), "{err}");
    assert!(!scan.is_done());
    assert!(scan.next_page().await.is_err(), "stays incomplete");
    // DBSIZE names the missing primary instead of a silently low total.
    let size = state.dbsize().await.unwrap();
    assert_eq!(size.unreachable, vec![format!("127.0.0.1:{victim}")]);
    assert_eq!(size.nodes, 2);

    // Back (with its keys, from its append-only file): the same adapter walks everything.
    c.restart(victim);
    let keys = state.keys("scan-kill").await.unwrap();
    assert_eq!(keys.len(), 3000, "nothing lost");
    assert!(state.dbsize().await.unwrap().is_complete());
}

#[tokio::test]
async fn a_primary_killed_during_an_edit_fails_that_edit_by_name_and_writes_once() {
    let _turn = turn();
    let c = cluster();
    let victim = c.ports()[1];
    let (on_victim, elsewhere) = keys_on("edit-kill", victim);
    let state = RedisStateAdapter::connect(config()).await.unwrap();
    state.set("edit-kill", &on_victim, &1).await.unwrap();
    state.set("edit-kill", &elsewhere, &1).await.unwrap();
    let loaded = state
        .get_raw(item(&state, "edit-kill", &on_victim))
        .await
        .unwrap();

    c.kill(victim);
    let err = state
        .compare_and_set(
            item(&state, "edit-kill", &on_victim),
            loaded.as_deref(),
            "2",
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&format!("cluster primary 127.0.0.1:{victim}")),
        "{text}"
    );
    assert!(err.is_connection(), "{err:?}");
    let err = state.delete("edit-kill", &on_victim).await.unwrap_err();
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{victim}")),
        "{err}"
    );
    // The other primaries keep working meanwhile.
    let other = state
        .get_raw(item(&state, "edit-kill", &elsewhere))
        .await
        .unwrap();
    assert_eq!(
        state
            .compare_and_set(item(&state, "edit-kill", &elsewhere), other.as_deref(), "3")
            .await
            .unwrap(),
        CasOutcome::Written
    );
    // The CLI says the same, exit 3, and writes nothing.
    let out = motia_state()
        .args(["--url", &format!("redis://127.0.0.1:{}", c.ports()[0])])
        // The write path itself: the journal's capture on a cluster with a dead primary names
        // another node (an open defect, in the closing note), so it is left out here.
        .args(["--no-journal", "set", "edit-kill", &on_victim, "9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains(&format!("127.0.0.1:{victim}")), "{msg}");

    c.restart(victim);
    // The failed edit did not happen; the same adapter reconnects and the edit goes through once.
    assert_eq!(
        state
            .get_raw(item(&state, "edit-kill", &on_victim))
            .await
            .unwrap()
            .as_deref(),
        Some(&b"1"[..])
    );
    assert_eq!(
        state
            .compare_and_set(
                item(&state, "edit-kill", &on_victim),
                loaded.as_deref(),
                "2"
            )
            .await
            .unwrap(),
        CasOutcome::Written
    );
    assert!(matches!(
        state
            .compare_and_set(
                item(&state, "edit-kill", &on_victim),
                loaded.as_deref(),
                "2"
            )
            .await
            .unwrap(),
        CasOutcome::Conflict(_)
    ));
    assert_eq!(
        c.cli(&["GET", &format!("motia:state:edit-kill:{on_victim}")]),
        "2"
    );
    assert_eq!(
        c.cli(&["GET", &format!("motia:state:edit-kill:{elsewhere}")]),
        "3"
    );
}

#[test]
fn the_browser_on_a_cluster_shows_every_primary_and_a_lost_one() {
    let _turn = turn();
    let c = cluster();
    seed("tui-a", 40);
    seed("tui-b", 40);
    let t = Term::start("cluster", &c.url(), "", None);
    let s = t.wait_for("done");
    assert!(s.contains("cluster (detected)"), "{s}");
    assert!(s.contains("tui-a") && s.contains("tui-b"), "{s}");
    t.keys(&["/"]);
    t.type_text("tui-a");
    t.keys(&["Enter"]);
    t.wait_for("Keys · tui-a (40)");
    let victim = c.ports()[0];
    c.kill(victim);
    t.wait_for(&format!("no answer from 127.0.0.1:{victim}"));
    c.restart(victim);
    t.wait("the lost primary to clear", |s| {
        !s.contains("no answer from")
    });
    t.keys(&["r"]);
    t.wait_for("done");
}

#[tokio::test]
async fn live_notifications_come_from_every_primary() {
    use motia_state::live::{LiveMessage, LiveOptions, LiveSubscription};
    let _turn = turn();
    let c = cluster();
    let state = RedisStateAdapter::connect(config()).await.unwrap();
    let change = state.enable_notifications().await.unwrap();
    for p in c.ports() {
        let set = std::process::Command::new("redis-cli")
            .args([
                "-p",
                &p.to_string(),
                "CONFIG",
                "GET",
                "notify-keyspace-events",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&set.stdout).to_string();
        assert!(text.contains('K'), "node {p}: {text}");
    }
    let mut live = LiveSubscription::open(&state, LiveOptions::default())
        .await
        .unwrap();
    // A key on each primary.
    let mut keys = Vec::new();
    for port in c.ports() {
        let (on, _) = keys_on("live", port);
        state.set("live", &on, &1).await.unwrap();
        keys.push(format!("motia:state:live:{on}"));
    }
    let mut seen = std::collections::HashSet::new();
    let deadline = tokio::time::Instant::now() + common::POLL_LIMIT;
    while seen.len() < keys.len() {
        let m = tokio::time::timeout_at(deadline, live.next())
            .await
            .expect("an event from every primary")
            .unwrap();
        if let LiveMessage::Event(ev) = m
            && keys.contains(&ev.key)
        {
            seen.insert(ev.key.clone());
        }
    }
    state.restore_notifications(&change).await.unwrap();
}

/// Stats and gc probe keys in pipelines (`MEMORY USAGE key`, `OBJECT IDLETIME key`, `EVALSHA sha
/// 1 key` after `SCRIPT LOAD`), which go by slot to every primary with the script loaded on
/// each; server memory is summed over the primaries (INFO answers per node there).
#[tokio::test]
async fn stats_and_gc_read_and_clean_every_primary() {
    use motia_state::adapter::stats::KeySource;
    let _turn = turn();
    let c = cluster();
    c.cli(&["FLUSHALL"]);
    let trace = "stale";
    seed(trace, 60);
    let state = RedisStateAdapter::connect(config()).await.unwrap();
    let memory = state.server_memory().await.unwrap();
    let each: Vec<u64> = c
        .ports()
        .iter()
        .map(|&p| {
            let info = common::cluster::cli_on(p, &["INFO", "memory"]);
            motia_state::adapter::stats::ServerMemory::from_info(&info)
                .used_memory
                .unwrap()
        })
        .collect();
    let used = memory.used_memory.unwrap();
    assert!(
        used > *each.iter().max().unwrap(),
        "{used} summed over {each:?}"
    );
    assert_eq!(memory.maxmemory, Some(0));
    let stats = state.stats(KeySource::Scan, |_, _, _| {}).await.unwrap();
    assert_eq!((stats.keys, stats.traces), (60, 1));
    assert_eq!(stats.keys_without_ttl, Some(60));
    assert!(stats.bytes.is_some_and(|b| b > 0), "{stats:?}");

    let url = c.url();
    let text = motia_state()
        .args(["--url", &url, "stats"])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    assert!(out.contains("60 in 1 trace\n"), "{out}");
    let gc = |args: &[&str]| {
        let run = motia_state()
            .args(["--url", &url, "gc", "--no-records"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        String::from_utf8_lossy(&run.stdout).into_owned()
    };
    let out = gc(&["--expire", "1h", "--yes"]);
    assert!(out.contains("gave 60 keys"), "{out}");
    for k in ["k0", "k1", "k2", "k59"] {
        let ttl = state.ttl(item(&state, trace, k)).await.unwrap();
        assert!(
            matches!(ttl, motia_state::Ttl::Expires(d) if d.as_secs() > 3000),
            "{k}: {ttl:?}"
        );
    }
    let out = gc(&["--delete", "--yes"]);
    assert!(out.contains("deleted 60 keys"), "{out}");
    assert!(state.keys(trace).await.unwrap().is_empty());
}

/// The cluster client can wedge for good after a failover (every command then times out), so
/// a request that timed out is sent once more over a new client. Here the primary holding
/// half the keys holds back writes for longer than the timeout: a write and a clear spanning
/// it finish, and the clear's count is every key once, though the first delete's reply was
/// lost and it ran while the second was queued behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_timed_out_is_sent_again_over_a_new_client_and_counts_stay_true() {
    let _turn = turn();
    let c = cluster();
    let slow = c.ports()[2];
    let trace = "paused";
    seed(trace, 40);
    let (on, _) = keys_on(trace, slow);
    let mut config = config();
    config.command_timeout = Some(Duration::from_millis(1000));
    let state = RedisStateAdapter::connect(config).await.unwrap();
    assert_eq!(state.keys(trace).await.unwrap().len(), 40);

    // Writes wait 1.8 s: past the first attempt's timeout, within the second's.
    common::cluster::cli_on(slow, &["CLIENT", "PAUSE", "1800", "WRITE"]);
    state.set(trace, &on, &"again").await.unwrap();
    assert_eq!(
        state.get::<String>(trace, &on).await.unwrap().as_deref(),
        Some("again")
    );
    common::cluster::cli_on(slow, &["CLIENT", "PAUSE", "1800", "WRITE"]);
    assert_eq!(state.clear(trace).await.unwrap(), 40);
    assert!(state.keys(trace).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_over_primary_is_named_while_down_and_its_promoted_replica_takes_every_operation()
{
    let _turn = turn();
    let c = replicated();
    c.cli(&["FLUSHALL"]);
    let trace = "failover";
    let n = 600;
    let mut script = String::new();
    for i in 0..n {
        script.push_str(&format!("SET motia:state:{trace}:k{i} {i}\n"));
    }
    c.load(&script);
    let (dead, successor) = primary_with_replica(c);
    let (on, off) = keys_of(c, trace, dead);
    let state = RedisStateAdapter::connect(config_of(c)).await.unwrap();
    assert_eq!(state.keys(trace).await.unwrap().len(), n);
    let mut slow = config_of(c);
    slow.scan_count = 10;
    let scanner = RedisStateAdapter::connect(slow).await.unwrap();
    let mut scan = scanner.scan_group(trace).unwrap();
    let mut walked = scan.next_page().await.unwrap().unwrap();

    // The replica has every write, and stays a replica until the test lets it take over.
    c.wait_replicated(dead, successor);
    c.hold_failover(successor, true);
    let killed = c.kill_primary(dead, successor);
    let addr = format!("127.0.0.1:{dead}");
    let err = state.get_raw(item(&state, trace, &on)).await.unwrap_err();
    assert!(err.is_connection(), "{err:?}");
    assert!(err.to_string().contains(&addr), "{err}");
    let err = state.set(trace, &on, &"lost").await.unwrap_err();
    assert!(err.to_string().contains(&addr), "{err}");
    assert_eq!(
        state.get::<i64>(trace, &off).await.unwrap(),
        off[1..].parse().ok(),
        "the other primaries serve meanwhile"
    );
    let size = state.dbsize().await.unwrap();
    assert_eq!(size.unreachable, vec![addr.clone()]);

    // A scan under way when the primary died goes on at its successor once promoted.
    let walk = tokio::spawn(async move {
        while let Some(page) = scan.next_page().await? {
            walked.extend(page);
        }
        Ok::<_, Error>(walked)
    });
    c.hold_failover(successor, false);
    tokio::task::spawn_blocking(move || c.wait_promoted(dead, successor))
        .await
        .unwrap();
    let mut walked = walk.await.unwrap().unwrap();
    walked.sort();
    walked.dedup();
    assert_eq!(
        walked.len(),
        n,
        "every key, those of {dead} from {successor}"
    );

    // The replica had the keys: reads, writes, deletes and scans all work on the new primary.
    assert_eq!(
        state.get::<i64>(trace, &on).await.unwrap(),
        on[1..].parse().ok()
    );
    state.set(trace, &on, &"after").await.unwrap();
    assert_eq!(
        state.get::<String>(trace, &on).await.unwrap().as_deref(),
        Some("after")
    );
    let full = format!("motia:state:{trace}:{on}");
    assert_eq!(c.primary_of(&full), successor);
    let loaded = state.get_raw(item(&state, trace, &on)).await.unwrap();
    assert_eq!(
        state
            .compare_and_set(item(&state, trace, &on), loaded.as_deref(), "\"cas\"")
            .await
            .unwrap(),
        CasOutcome::Written
    );
    let out = motia_state()
        .args(["--url", &format!("redis://127.0.0.1:{successor}")])
        .args(["get", trace, &on])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "\"cas\"\n");
    assert!(state.delete(trace, &on).await.unwrap().is_some());
    assert_eq!(state.get_raw(item(&state, trace, &on)).await.unwrap(), None);
    assert_eq!(state.keys(trace).await.unwrap().len(), n - 1);
    assert!(state.trace_ids().await.unwrap().contains(&trace.into()));
    let size = state.dbsize().await.unwrap();
    assert!(size.is_complete(), "{size:?}");
    assert_eq!(size.nodes, 3);
    assert_eq!(state.clear(trace).await.unwrap(), n as u64 - 1);
    assert!(state.keys(trace).await.unwrap().is_empty());

    tokio::task::spawn_blocking(move || drop(killed))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_subscription_follows_a_failover_to_the_promoted_replica_and_hears_each_event_once()
{
    use common::cluster::{cli_on, numpat};
    use motia_state::ReconnectStrategy;
    use motia_state::live::{LiveMessage, LiveOptions, LiveSubscription};
    let _turn = turn();
    let c = replicated();
    c.cli(&["FLUSHALL"]);
    for p in c.running() {
        cli_on(p, &["CONFIG", "SET", "notify-keyspace-events", ""]);
    }
    let state = RedisStateAdapter::connect(config_of(c)).await.unwrap();
    assert!(!state.notify_setting().await.unwrap().covers_live());
    let change = state.enable_notifications().await.unwrap();
    // Replicas too: the one promoted below publishes by its own setting.
    for p in c.running() {
        let set = cli_on(p, &["CONFIG", "GET", "notify-keyspace-events"]);
        assert!(set.contains('K') && set.contains('$'), "node {p}: {set}");
    }
    assert!(state.notify_setting().await.unwrap().covers_live());

    // A strategy that gives up long before a replica takes over.
    let options = LiveOptions {
        reconnect: Some(ReconnectStrategy::new(|n| {
            (n <= 1).then(|| Duration::from_millis(50))
        })),
        ..LiveOptions::default()
    };
    let mut live = LiveSubscription::open(&state, options).await.unwrap();
    let patterns = live.patterns().len() as u64;
    let subscribed_on_primaries_only = |primaries: &[u16]| {
        for p in c.running() {
            let expected = if primaries.contains(&p) { patterns } else { 0 };
            assert_eq!(numpat(p), expected, "node {p} (primaries {primaries:?})");
        }
    };
    subscribed_on_primaries_only(&c.primaries());

    let trace = "live-failover";
    let (dead, successor) = primary_with_replica(c);
    let (on, _) = keys_of(c, trace, dead);
    let full = format!("motia:state:{trace}:{on}");
    c.wait_replicated(dead, successor);
    c.hold_failover(successor, true);
    let killed = c.kill_primary(dead, successor);
    let deadline = tokio::time::Instant::now() + 2 * common::POLL_LIMIT;
    // Messages are taken until `wanted`, by the deadline.
    async fn until(
        live: &mut LiveSubscription,
        wanted: LiveMessage,
        deadline: tokio::time::Instant,
    ) {
        loop {
            let m = tokio::time::timeout_at(deadline, live.next())
                .await
                .unwrap_or_else(|_| panic!("no {wanted:?} in time"))
                .unwrap();
            if m == wanted {
                return;
            }
        }
    }
    until(&mut live, LiveMessage::Disconnected, deadline).await;
    // No replica may take over yet: the strategy runs out, and the subscription goes on
    // trying instead of ending.
    let held = tokio::time::Instant::now() + Duration::from_secs(2);
    while let Ok(m) = tokio::time::timeout_at(held, live.next()).await {
        match m {
            Ok(LiveMessage::Reconnected) => panic!("reconnected with {dead} down and no successor"),
            Ok(_) => {}
            Err(e) => panic!("the subscription ended: {e}"),
        }
    }
    c.hold_failover(successor, false);
    tokio::task::spawn_blocking(move || c.wait_promoted(dead, successor))
        .await
        .unwrap();
    assert_eq!(c.primary_of(&full), successor);

    // Then it follows the promoted replica, saying events may have been missed.
    until(&mut live, LiveMessage::Reconnected, deadline).await;
    subscribed_on_primaries_only(&c.primaries());
    assert!(c.primaries().contains(&successor));

    // A write to a failed-over slot is heard once. A second key on the same primary, written
    // after, arrives after it on that primary's subscription: a repeat would come first.
    state.set(trace, &on, &1).await.unwrap();
    let mut after = None;
    for i in 0..200 {
        let k = format!("after{i}");
        if c.primary_of(&format!("motia:state:{trace}:{k}")) == successor {
            after = Some(k);
            break;
        }
    }
    let after = after.unwrap();
    state.set(trace, &after, &2).await.unwrap();
    let mut heard = 0;
    loop {
        let m = tokio::time::timeout_at(deadline, live.next())
            .await
            .expect("the events of the promoted replica")
            .unwrap();
        if let LiveMessage::Event(ev) = m {
            if ev.key == full {
                heard += 1;
            } else if ev.key == format!("motia:state:{trace}:{after}") {
                break;
            }
        }
    }
    assert_eq!(heard, 1);

    drop(live);
    state.restore_notifications(&change).await.unwrap();
    for p in c.running() {
        let set = cli_on(p, &["CONFIG", "GET", "notify-keyspace-events"]);
        assert!(!set.contains('K'), "node {p}: {set}");
    }
    tokio::task::spawn_blocking(move || drop(killed))
        .await
        .unwrap();
}
