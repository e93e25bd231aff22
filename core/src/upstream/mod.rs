//! binraft as a replica of the primary: the session that logs in, negotiates checksum and
//! heartbeat, registers, asks for the binlog from what the store already has, and turns the
//! event stream into whole groups to store at the primary's own file offsets.
//!
//! In: bytes from the primary and the driver's clock. Out: [`UpstreamOutput`]s: bytes to send,
//! new files and appends for the store (whole groups only: a transaction cut by a broken
//! connection is never stored), semi-sync ACKs each held until its append is committed
//! ([`ack`]), and the reason a session failed. The driver reconnects with backoff and starts a
//! new session from the store's end.

pub mod ack;
pub mod session;

pub use ack::{AppendId, HeldAcks};
pub use session::{Resume, UpstreamConfig, UpstreamOutput, UpstreamSession};
