//! The CLI suite (`tests/cli.rs`, the same test bodies) against a real 3-primary Redis Cluster
//! started once for this file, reached by a plain URL to one node (cluster mode is detected).

#[path = "cli.rs"]
mod cli;
