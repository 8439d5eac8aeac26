//! # motia_state
//!
//! A Redis state adapter for the [Motia](https://motia.dev) framework. Motia keeps per-trace state
//! in Redis as one string per item under `{keyPrefix}{traceId}:{key}`, holding compact JSON. This
//! crate reads and writes exactly that layout, so it works side by side with Motia's own
//! TypeScript adapter, and adds atomic deletes, bounded batches, de-duplicated scans and
//! errors that name the key and the cause.
//!
//! The main path: connect, write and read a value, list items with a filter, delete.
//!
//! ```no_run
//! use motia_state::{Config, ItemsQuery, RedisStateAdapter, StateFilter};
//! use serde_json::json;
//!
//! # async fn demo() -> motia_state::Result<()> {
//! // REDIS_URL, or REDIS_HOST/REDIS_PORT..., or Motia's MOTIA_REDIS_*; or Config::from_url.
//! let state = RedisStateAdapter::connect(Config::from_env()?).await?;
//! state.set("trace-1", "order", &json!({"id": 7, "status": "paid"})).await?;
//! let order: Option<serde_json::Value> = state.get("trace-1", "order").await?;
//! assert_eq!(order, Some(json!({"id": 7, "status": "paid"})));
//! let filter: StateFilter = "status eq paid".parse()?;
//! for item in state.items(&ItemsQuery::all().filter(filter)).await? {
//!     println!("{} {} {}", item.group_id, item.key, item.value);
//! }
//! let old = state.delete("trace-1", "order").await?; // atomic GETDEL, the old value
//! assert!(old.is_some());
//! # Ok(()) }
//! ```
//!
//! Names are bytes: trace ids and keys go in as `&str` or bytes and come out as [`Name`], so one
//! method serves Motia's names and any a server holds. Listing items with options (a group,
//! filters, raw text, progress) is [`RedisStateAdapter::items_with`].
//!
//! The [`adapter`] module has the rest: TTLs, compare-and-set, scans, Motia's trace records
//! ([`adapter::traces`]), stats and gc, [`export`], [`live`] notifications.

#![warn(missing_docs)]

pub mod adapter;

pub use adapter::coalesce;
pub use adapter::config::{
    Config, DEFAULT_PREFIX, DEFAULT_TRACE_PREFIX, ReconnectStrategy, SentinelConfig, TlsConfig,
};
pub use adapter::error::{Error, Result};
pub use adapter::escape;
pub use adapter::expiry::{Expiry, Ttl, format_duration};
pub use adapter::export;
pub use adapter::filter::{FilterOp, StateFilter};
pub use adapter::inspect::DbSize;
pub use adapter::item::{
    CasOutcome, ItemsQuery, KeyMeta, RawItem, RawWindow, StateItem, ValueType,
};
pub use adapter::json;
pub use adapter::keys::{KeySpace, escape_glob};
pub use adapter::layout::{Detection, FieldScanner, IiiState, Layout};
pub use adapter::listing::{ItemsReport, ItemsWith};
pub use adapter::live;
pub use adapter::name::Name;
pub use adapter::notify;
pub use adapter::scan::KeyScanner;
pub use adapter::{RedisStateAdapter, Topology};
