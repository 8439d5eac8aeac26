//! Motia's state layout and its operations: keys, items, filters, JSON, scans, export/import.

pub mod escape;
pub mod expiry;
pub mod export;
pub mod filter;
pub mod inspect;
pub mod item;
pub mod journal;
pub mod json;
pub mod keys;
pub mod listing;
pub mod name;
mod ops;
pub mod scan;
mod seen;
