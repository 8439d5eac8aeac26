//! A port that answers, but not in the Redis protocol (an HTTP server, another service): say so
//! in words, with what it answered, instead of the client library's parser complaint.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::adapter::error::Error;
use crate::adapter::escape;

/// How much of the answer the message quotes.
const QUOTE_BYTES: usize = 64;

/// True when the first exchange failed because the reply is not RESP.
pub(crate) fn is_not_redis(e: &redis::RedisError) -> bool {
    e.kind() == redis::ErrorKind::Parse
}

/// The error for a server whose answer is not the Redis protocol, without asking it again.
pub(crate) fn error(addr: &str) -> Error {
    Error::Connect {
        addr: addr.to_string(),
        reason: "not a Redis server (its answer is not the Redis protocol)".into(),
    }
}

/// [`error`], quoting the first line `addr` sends to a `PING` on a fresh plain-TCP connection
/// when `probe` allows one.
pub(crate) async fn error_quoting(addr: &str, probe: bool, timeout: Duration) -> Error {
    if !probe {
        return error(addr);
    }
    match tokio::time::timeout(timeout.min(Duration::from_secs(2)), first_line(addr)).await {
        Ok(Some(line)) if !line.is_empty() => Error::Connect {
            addr: addr.to_string(),
            reason: format!(
                "not a Redis server (it answered \"{}\")",
                escape::name(&line)
            ),
        },
        _ => error(addr),
    }
}

/// The first line (at most [`QUOTE_BYTES`]) of the answer to `PING`, `None` when the probe
/// itself failed.
async fn first_line(addr: &str) -> Option<Vec<u8>> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.ok()?;
    stream.write_all(b"PING\r\n").await.ok()?;
    let mut got = Vec::new();
    let mut buf = [0u8; QUOTE_BYTES];
    while got.len() < QUOTE_BYTES && !got.contains(&b'\n') {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let end = got
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(got.len())
        .min(QUOTE_BYTES);
    got.truncate(end);
    Some(got)
}
