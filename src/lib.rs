//! # motia_state
//!
//! A Redis state adapter for the [Motia](https://motia.dev) framework. Motia keeps per-trace state
//! in Redis as one string per item under `{keyPrefix}{traceId}:{key}`, holding compact JSON. This
//! crate reads and writes exactly that layout, so it works side by side with Motia's own
//! TypeScript adapter, and adds atomic deletes, bounded batches, de-duplicated scans and
//! errors that name the key and the cause.
//!
//! ```no_run
//! use motia_state::{Config, ItemsQuery, RedisStateAdapter};
//!
//! # async fn demo() -> motia_state::Result<()> {
//! let state = RedisStateAdapter::connect(Config::from_env()?).await?;
//! for trace in state.trace_ids().await? {
//!     let items = state.items(&ItemsQuery::group(&trace)).await?;
//!     println!("{trace}: {} items", items.len());
//! }
//! # Ok(()) }
//! ```

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
pub use adapter::live;
pub use adapter::notify;
pub use adapter::scan::KeyScanner;
pub use adapter::{RedisStateAdapter, Topology};
