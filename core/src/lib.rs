//! binraft's sans-I/O core.
//!
//! Everything that decides what binraft does lives here as pure state transitions: the binlog
//! codec ([`binlog`]) and GTID sets ([`gtid`]) today; the MySQL wire protocol, the binlog store's
//! layout and recovery, and the replicated state machine next. Nothing in this crate touches a
//! socket, a file, a clock, a thread or global randomness: time and seeds come in as arguments,
//! I/O goes out as values. `clippy.toml` beside this crate's manifest forbids the calls that
//! would break that, and CI runs clippy with warnings as errors.

#![forbid(unsafe_code)]
#![deny(clippy::disallowed_methods, clippy::disallowed_types)]

pub mod binlog;
pub mod codec;
pub mod gtid;
pub mod mysql;
pub mod primary;
pub mod store;
pub mod upstream;
