//! Sending what spans slots: a keyed command or a pipeline split by the slot of each key, sent to
//! each slot's primary at once, and the replies put back together.

use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, FromRedisValue, Pipeline, RedisResult, Value};
use std::collections::BTreeMap;

use super::link::ClusterLink;

/// The cluster slot of a key (CRC16 of the key, or of its `{hash tag}`, modulo 16384).
pub(crate) fn slot_of(key: &[u8]) -> u16 {
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

/// Sends a command; `MGET`, `UNLINK`, `DEL` and `EXISTS` with keys of several slots as one
/// command per slot, each routed to the slot's primary (redirects and reconnects as for any
/// keyed command), the replies put together: values in key order, counts summed.
pub(crate) async fn command_by_slot(link: ClusterLink, cmd: &Cmd) -> RedisResult<Value> {
    let whole = || {
        link.send(|mut c| async move {
            redis::aio::ConnectionLike::req_packed_command(&mut c, cmd).await
        })
    };
    let mut args = cmd.args_iter();
    let name = match args.next() {
        Some(redis::Arg::Simple(n)) => n.to_ascii_uppercase(),
        _ => Vec::new(),
    };
    // Any other command goes whole, without hashing its arguments (a SET's value may be big).
    if !matches!(name.as_slice(), b"MGET" | b"UNLINK" | b"DEL" | b"EXISTS") {
        return whole().await;
    }
    let mut keys: Vec<&[u8]> = Vec::new();
    for a in args {
        match a {
            redis::Arg::Simple(k) => keys.push(k),
            _ => return whole().await,
        }
    }
    let mut by_slot: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        by_slot.entry(slot_of(k)).or_default().push(i);
    }
    let deletes = matches!(name.as_slice(), b"UNLINK" | b"DEL");
    if by_slot.len() <= 1 && !deletes {
        return whole().await;
    }
    let sends = by_slot.into_iter().map(|(slot, indices)| {
        let slot_keys: Vec<&[u8]> = indices.iter().map(|&i| keys[i]).collect();
        let mut sub = redis::Cmd::new();
        sub.arg(name.as_slice()).arg(&slot_keys);
        let link = link.clone();
        async move {
            let route = SingleNodeRoutingInfo::SpecificNode(Route::new(slot, SlotAddr::Master));
            let route = RoutingInfo::SingleNode(route);
            let reply = if deletes {
                delete_counted(&link, &sub, &slot_keys, &route).await?
            } else {
                link.send(|mut c| {
                    let (sub, route) = (sub.clone(), route.clone());
                    async move { c.route_command(sub, route).await }
                })
                .await?
            };
            Ok::<_, redis::RedisError>((indices, reply))
        }
    });
    let replies = futures::future::try_join_all(sends).await?;
    if name == b"MGET" {
        let mut out = vec![Value::Nil; keys.len()];
        for (indices, reply) in replies {
            let Value::Array(values) = reply else {
                return Err((redis::ErrorKind::Parse, "MGET answered without an array").into());
            };
            for (i, v) in indices.into_iter().zip(values) {
                out[i] = v;
            }
        }
        return Ok(Value::Array(out));
    }
    let mut sum = 0;
    for (_, reply) in replies {
        sum += i64::from_redis_value(reply)?;
    }
    Ok(Value::Int(sum))
}

/// Sends `delete`, an `UNLINK` or `DEL` of `keys` (all of one slot), and answers how many it
/// removed. Sent again after a timeout, the first attempt's reply is lost, and that attempt
/// may have run, or run later (queued at a slow server). The keys still there before the
/// second attempt are all gone after it, by one attempt or the other: they are the count. If
/// none is left, the first attempt ran (a command runs whole) and removed them all; they were
/// there, the caller just listed them.
async fn delete_counted(
    link: &ClusterLink,
    delete: &Cmd,
    keys: &[&[u8]],
    route: &RoutingInfo,
) -> RedisResult<Value> {
    link.send_with(|mut c, again| {
        let (delete, route) = (delete.clone(), route.clone());
        let distinct = again.then(|| {
            let mut distinct = keys.to_vec();
            distinct.sort_unstable();
            distinct.dedup();
            distinct
        });
        async move {
            let Some(distinct) = distinct else {
                return c.route_command(delete, route).await;
            };
            let exists = redis::cmd("EXISTS").arg(&distinct).clone();
            let left = i64::from_redis_value(c.route_command(exists, route.clone()).await?)?;
            c.route_command(delete, route).await?;
            Ok(Value::Int(if left > 0 {
                left
            } else {
                distinct.len() as i64
            }))
        }
    })
    .await
}

/// Where a command of a pipeline goes in a cluster.
#[derive(Debug, PartialEq, Eq)]
enum Place<'a> {
    /// With its key's slot.
    Key(&'a [u8]),
    /// In every slot's part, the first reply standing for it: `SCRIPT LOAD` (each node needs
    /// the script its part's `EVALSHA` runs), `TIME`, `PING`.
    Everywhere,
    /// Any node: a keyless command not safe to run twice.
    Anywhere,
}

/// Where `cmd` goes: its key is after the subcommand in `MEMORY USAGE` and `OBJECT ...`, after
/// the key count in `EVALSHA sha n key...`, else first.
fn place_of(cmd: &Cmd) -> Place<'_> {
    let mut args = cmd.args_iter().filter_map(|a| match a {
        redis::Arg::Simple(b) => Some(b),
        _ => None,
    });
    let Some(name) = args.next().map(|n| n.to_ascii_uppercase()) else {
        return Place::Anywhere;
    };
    let key = match name.as_slice() {
        b"SCRIPT" | b"TIME" | b"PING" => return Place::Everywhere,
        b"MEMORY" | b"OBJECT" => args.nth(1),
        b"EVAL" | b"EVALSHA" | b"EVAL_RO" | b"EVALSHA_RO" | b"FCALL" | b"FCALL_RO" => {
            let keys = args
                .nth(1)
                .and_then(|n| std::str::from_utf8(n).ok()?.parse::<u64>().ok());
            if keys.is_some_and(|n| n > 0) {
                args.next()
            } else {
                None
            }
        }
        _ => args.next(),
    };
    key.map_or(Place::Anywhere, Place::Key)
}

/// Sends a pipeline whose commands may touch keys of several slots: one sub-pipeline per
/// slot, all at once, the replies put back in the pipeline's order (see [`Place`]).
pub(crate) async fn pipeline_by_slot(
    link: ClusterLink,
    pipeline: &Pipeline,
    offset: usize,
    count: usize,
) -> RedisResult<Vec<Value>> {
    let mut by_slot: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    let mut everywhere = Vec::new();
    let cmds: Vec<&Cmd> = pipeline.cmd_iter().collect();
    for (i, cmd) in cmds.iter().enumerate() {
        match place_of(cmd) {
            Place::Key(key) => by_slot.entry(slot_of(key)).or_default().push(i),
            Place::Everywhere => everywhere.push(i),
            Place::Anywhere => by_slot.entry(0).or_default().push(i),
        }
    }
    if by_slot.len() <= 1 || offset != 0 || count != cmds.len() {
        return link
            .send(|mut c| async move {
                redis::aio::ConnectionLike::req_packed_commands(&mut c, pipeline, offset, count)
                    .await
            })
            .await;
    }
    let sends = by_slot.into_iter().map(|(slot, mut indices)| {
        indices.extend(&everywhere);
        indices.sort_unstable();
        let mut sub = redis::pipe();
        for &i in &indices {
            sub.add_command(cmds[i].clone());
        }
        let link = link.clone();
        async move {
            let n = indices.len();
            let route = SingleNodeRoutingInfo::SpecificNode(Route::new(slot, SlotAddr::Master));
            let values = link
                .send(|mut c| {
                    let (sub, route) = (sub.clone(), route.clone());
                    async move { c.route_pipeline(sub, 0, n, route).await }
                })
                .await?;
            Ok::<_, redis::RedisError>((indices, values))
        }
    });
    let mut out: Vec<Option<Value>> = vec![None; cmds.len()];
    for reply in futures::future::join_all(sends).await {
        let (indices, values) = reply?;
        for (i, v) in indices.into_iter().zip(values) {
            out[i].get_or_insert(v);
        }
    }
    Ok(out.into_iter().map(|v| v.unwrap_or(Value::Nil)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_of_a_pipeline_goes_with_its_key() {
        let key = |c: &mut Cmd| place_of(c).eq(&Place::Key(b"k"));
        assert!(key(redis::cmd("PTTL").arg("k")));
        assert!(key(redis::cmd("MEMORY")
            .arg("USAGE")
            .arg("k")
            .arg("SAMPLES")
            .arg(0)));
        assert!(key(redis::cmd("OBJECT").arg("IDLETIME").arg("k")));
        assert!(key(redis::cmd("EVALSHA")
            .arg("abc")
            .arg(1)
            .arg("k")
            .arg("v")));
        assert_eq!(place_of(&redis::cmd("TIME")), Place::Everywhere);
        let load = redis::cmd("SCRIPT").arg("LOAD").arg("return 1").clone();
        assert_eq!(place_of(&load), Place::Everywhere);
        let keyless = redis::cmd("EVALSHA").arg("abc").arg(0).clone();
        assert_eq!(place_of(&keyless), Place::Anywhere);
    }
}
