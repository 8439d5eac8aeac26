//! What the state costs and cleaning up what outlived its flow.

pub mod gc;
pub mod stats;
