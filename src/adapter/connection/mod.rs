//! The bottom layer: settings, the standalone/cluster/sentinel links and the error type.
//! Nothing here knows Motia's layout.

pub(crate) mod client;
pub(crate) mod cluster;
pub mod config;
pub(crate) mod conn;
pub mod error;
pub(crate) mod not_redis;
pub mod notouch;
