//! binraft's sans-I/O core.
//!
//! Everything that decides what binraft does lives here as pure state transitions:
//!
//! - [`binlog`]: the binlog codec (frames, events, row values, rendering);
//! - [`gtid`]: GTID sets of both flavours;
//! - [`mysql`]: the wire protocol, server and client connections;
//! - [`primary`]: binraft as a primary (dumps, the SQL replication clients send, admin SQL);
//! - [`upstream`]: binraft as a replica of its primary;
//! - [`store`]: the store's layout, event groups and recovery;
//! - [`cluster`]: the Raft log, entries, apply and checkpoints of a cluster member (openraft
//!   itself is driven by the node).
//!
//! Nothing in this crate touches a
//! socket, a file, a clock, a thread or global randomness: time and seeds come in as arguments,
//! I/O goes out as values. `clippy.toml` beside this crate's manifest forbids the calls that
//! would break that, and CI runs clippy with warnings as errors.

#![forbid(unsafe_code)]
#![deny(clippy::disallowed_methods, clippy::disallowed_types)]

pub mod binlog;
pub mod cluster;
pub mod codec;
pub mod gtid;
pub mod mysql;
pub mod primary;
pub mod store;
pub mod upstream;
