//! binraft as a primary: what it answers to replicas and CDC clients.
//!
//! - [`sql`]: the statements replication clients send (SHOW VARIABLES, SELECT @@var, SET
//!   @var, SHOW MASTER STATUS, SHOW BINARY LOGS, binlog_gtid_pos(), ...), answered from a
//!   [`ServerInfo`] snapshot and per-session variables.
//! - [`admin`]: the statements admins drive binraft's own replication with, read by grammar
//!   over [`lex`]'s tokens; [`redact`]: any statement as it may be logged or quoted, without
//!   its passwords.
//! - [`dump_request`]: a binlog request (the dump command and the session's variables) read
//!   into where to start and how; [`dump`]: the dump itself, events and heartbeats;
//!   [`compat`]: what a client of each `@mariadb_slave_capability` gets in place of the events
//!   it cannot take.
//!
//! In: a statement and the node's state. Out: a result set, an OK or an error.

pub mod admin;
pub mod catalog;
pub mod compat;
pub mod dump;
pub mod dump_request;
pub mod lex;
pub mod redact;
pub mod show_events;
pub mod sql;

pub use sql::{answer, Reply, ServerInfo, Session};
