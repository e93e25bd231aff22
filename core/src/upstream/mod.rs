//! binraft as a replica of the primary: the session that logs in, negotiates checksum and
//! heartbeat, registers, asks for the binlog from what the store already has, and turns the
//! event stream into whole groups to store at the primary's own file offsets.
//!
//! In: bytes from the primary and the driver's clock. Out: [`UpstreamOutput`]s: bytes to send,
//! new files and appends for the store (whole groups only: a transaction cut by a broken
//! connection is never stored), semi-sync ACKs each held until its append is committed
//! ([`ack`]), the session's next deadline (login, then the primary's silence), and why it
//! failed ([`error`]). [`reconnect`] says when the driver starts a new session from the store's
//! end. [`settings`] holds where binraft replicates from, and what CHANGE MASTER TO and
//! START / STOP / RESET SLAVE do to it.

pub mod ack;
pub mod error;
pub mod reconnect;
pub mod session;
pub mod settings;

pub use ack::{AppendId, HeldAcks};
pub use error::UpstreamError;
pub use reconnect::Reconnect;
pub use session::{HistoryCheck, LastFile, Resume, UpstreamConfig, UpstreamOutput, UpstreamSession};
pub use settings::{SettingsError, Transition, UpstreamSettings};
