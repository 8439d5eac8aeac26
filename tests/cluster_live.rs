//! Keyspace notifications on a real 3-primary Redis Cluster: they are local to the node that
//! holds the key, so the subscription must reach every primary; the setting is read and
//! changed on every primary.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::cluster::RedisCluster;
use motia_state::live::{LiveMessage, LiveOptions, LiveSubscription};
use motia_state::{Config, RedisStateAdapter};

fn config(cluster: &RedisCluster) -> Config {
    let mut c = Config::from_url(&cluster.url()).unwrap();
    c.connect_timeout = Duration::from_secs(3);
    c
}

fn node_setting(port: u16) -> String {
    let out = std::process::Command::new("redis-cli")
        .args([
            "-p",
            &port.to_string(),
            "CONFIG",
            "GET",
            "notify-keyspace-events",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// Trace ids whose keys land on each of the primaries.
fn one_trace_per_primary(cluster: &RedisCluster) -> Vec<String> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for i in 0..1000 {
        let trace = format!("t{i}");
        let port = cluster.primary_of(&format!("motia:state:{trace}:k"));
        if seen.insert(port) {
            out.push(trace);
        }
        if out.len() == 3 {
            break;
        }
    }
    assert_eq!(out.len(), 3, "keys on all three primaries");
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_from_every_primary_and_enabling_reaches_each() {
    let cluster = RedisCluster::start_with(&["--notify-keyspace-events", "Ex"]);
    let state = RedisStateAdapter::connect(config(&cluster)).await.unwrap();
    let setting = state.notify_setting().await.unwrap();
    assert!(!setting.covers_live(), "{setting}");
    let change = state.enable_notifications().await.unwrap();
    for port in cluster.ports() {
        let s = node_setting(port);
        assert!(
            s.contains('K') && s.contains('$') && s.contains('g'),
            "{port}: {s}"
        );
    }
    let mut live = LiveSubscription::open(&state, LiveOptions::default())
        .await
        .unwrap();
    let traces = one_trace_per_primary(&cluster);
    for t in &traces {
        cluster.cli(&["SET", &format!("motia:state:{t}:k"), "1"]);
    }
    let mut got = HashSet::new();
    while got.len() < traces.len() {
        let m = tokio::time::timeout(common::POLL_LIMIT, live.next())
            .await
            .expect("an event within the deadline")
            .unwrap();
        if let LiveMessage::Event(ev) = m
            && let Some((trace, _)) = ev.state_key(state.key_space())
        {
            got.insert(String::from_utf8_lossy(trace).into_owned());
        }
    }
    assert_eq!(got, traces.into_iter().collect::<HashSet<_>>());
    state.restore_notifications(&change).await.unwrap();
    for port in cluster.ports() {
        assert_eq!(node_setting(port), "xE", "restored on {port}");
    }
}
