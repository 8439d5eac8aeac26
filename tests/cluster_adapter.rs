//! The adapter suite (`tests/adapter.rs`, the same test bodies) against a real 3-primary Redis
//! Cluster started once for this file: every `RedisServer::start()` there stands for the shared
//! cluster, emptied for each test, reached by a plain URL to one node (cluster mode is detected).

#[path = "adapter.rs"]
mod adapter;
