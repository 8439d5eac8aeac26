//! Live mode with names that are not UTF-8: the headless browser (real worker, `update`)
//! against a private redis-server (the harness of [`super::live_load`]), notifications on.

use super::live_load::{Headless, PREFIX, RedisServer, connection};
use crate::browser::model::live::LiveState;

/// The exact bytes of a key of trace `o\xff1`; the model names it escaped.
fn key(name: &str) -> Vec<u8> {
    let mut k = format!("{PREFIX}o").into_bytes();
    k.push(0xff);
    k.extend_from_slice(format!("1:{name}").as_bytes());
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_is_not_utf8_written_while_live_shows_under_its_trace_and_goes() {
    let server = RedisServer::start();
    server.set_raw(&format!("{PREFIX}plain:k"), "1");
    let mut b = Headless::start(&server);
    b.until("live mode and the first scan", |m| {
        m.live.state == LiveState::Live && m.scan.completed_once && m.index.total_keys == 1
    })
    .await;
    let mut conn = connection(&server).await;
    let () = redis::cmd("SET")
        .arg(key("order"))
        .arg("{}")
        .query_async(&mut conn)
        .await
        .unwrap();
    // No periodic re-read (`refresh: None`): only the notification can bring it.
    b.until("the key under its trace", |m| {
        m.index
            .traces
            .get("o\\xff1")
            .is_some_and(|keys| keys.contains("order"))
            && m.traces.view.iter().any(|t| &**t == "o\\xff1")
    })
    .await;
    let removed: u64 = redis::cmd("DEL")
        .arg(key("order"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(removed, 1);
    b.until("the trace to go", |m| {
        !m.index.traces.contains_key("o\\xff1")
    })
    .await;
    assert_eq!(b.m.index.total_keys, 1);
}
