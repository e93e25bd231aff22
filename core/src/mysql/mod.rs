//! The MySQL client/server protocol, both sides, sans-I/O.
//!
//! - [`packet`]: framing: 3-byte length and sequence id, 16 MiB split and join.
//! - [`capabilities`], [`handshake`], [`auth`]: the connection phase (HandshakeV10,
//!   HandshakeResponse41, mysql_native_password and caching_sha2_password scrambles).
//! - [`response`]: OK, ERR and EOF packets, text result sets; [`errors`]: the error codes and
//!   SQL states servers send.
//! - [`command`]: the commands of the command phase, replication ones included.
//!
//! Bytes in, typed messages out, and back; no sockets and no clocks.

pub mod auth;
pub mod capabilities;
pub mod client;
pub mod command;
pub mod errors;
pub mod handshake;
pub mod packet;
pub mod response;
pub mod server;
