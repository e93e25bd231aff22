//! binraft as a primary: what it answers to replicas and CDC clients.
//!
//! - [`sql`]: the statements replication clients send (SHOW VARIABLES, SELECT @@var, SET
//!   @var, SHOW MASTER STATUS, SHOW BINARY LOGS, binlog_gtid_pos(), ...), answered from a
//!   [`ServerInfo`] snapshot and per-session variables.
//!
//! In: a statement and the node's state. Out: a result set, an OK or an error.

pub mod admin;
pub mod catalog;
pub mod dump;
pub mod show_events;
pub mod sql;

pub use sql::{answer, Reply, ServerInfo, Session};
