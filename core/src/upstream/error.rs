//! Why a session with the primary ended.
//!
//! In: the cause, found by the session or reported by its driver (network, store, TLS). Out:
//! whether retrying soon can help ([`UpstreamError::is_fatal`]), the error number SHOW SLAVE
//! STATUS shows ([`UpstreamError::io_errno`]), and a message that says what a DBA must look at.

use crate::binlog::error::BinlogError;
use crate::mysql::client::ClientError;
use crate::mysql::errors::ServerError;

/// ER_MASTER_FATAL_ERROR_READING_BINLOG: what a MariaDB replica shows for a history it cannot
/// follow.
const ER_MASTER_FATAL_ERROR_READING_BINLOG: u16 = 1236;
/// CR_CONN_HOST_ERROR: the client's number for a primary it cannot reach or lost.
const CR_CONN_HOST_ERROR: u16 = 2003;
/// CR_SSL_CONNECTION_ERROR.
const CR_SSL_CONNECTION_ERROR: u16 = 2026;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamError {
    /// The connection broke at the protocol level: the login was refused, the framing broke,
    /// the primary ended the stream with an error.
    Connection(ClientError),
    /// The primary refused a statement or command binraft sends to set up the stream.
    Refused { request: String, error: ServerError },
    /// The primary answered something binraft did not ask for.
    UnexpectedAnswer,
    /// The primary ended the stream without an error.
    EndOfStream,
    /// Semi-sync is on and an event packet came without its header.
    NoSemiSyncHeader,
    /// An event packet of `len` bytes did not hold exactly one event.
    NotOneEvent { len: usize },
    /// An event from the primary did not decode.
    BadEvent(BinlogError),
    /// An event came before any ROTATE named its file.
    EventBeforeRotate,
    /// The primary sent an event at `file:offset`, where binraft's copy of the file ends at
    /// `stored_end`: it is not the history binraft holds.
    NotContiguous { file: String, offset: u64, stored_end: u64 },
    /// The store ends at `file:offset`, past the 4 GiB a COM_BINLOG_DUMP position can name.
    OffsetTooLarge { file: String, offset: u64 },
    /// A ROTATE named a file the store refuses to create (a path, a hidden file, or one of
    /// binraft's own files).
    BadFileName { name: String, why: crate::store::names::NameError },
    /// Nothing came from the primary for `silent_ms` while streaming, though it sends a
    /// heartbeat every `heartbeat_period_ms` when idle.
    Silent { silent_ms: u64, heartbeat_period_ms: u64 },
    /// Login and setup did not finish within `timeout_ms`.
    LoginTimeout { timeout_ms: u64 },
    /// The driver: the primary cannot be reached, or the network failed; `detail` is the
    /// operating system's word.
    Network { detail: String },
    /// The driver: the primary closed the connection.
    Closed,
    /// The driver: binraft's own store failed.
    Store { detail: String },
    /// The driver: the cluster did not commit what was received (this node no longer leads, or
    /// lost its quorum); the next leader pulls it again.
    NotCommitted { detail: String },
    /// The driver: the primary's `file` holds another event at `offset` than binraft's copy.
    HistoryDiffers { file: String, offset: u64 },
    /// The driver: TLS is misconfigured (no configuration, a bad server name, asked twice).
    TlsConfig { detail: String },
    /// The driver: the TLS handshake with the primary failed.
    TlsHandshake { detail: String },
    /// A new primary (after CHANGE MASTER TO another host) lacks transactions binraft holds:
    /// it is not a promoted replica of binraft's primary, or it is behind. `missing` is in the
    /// primary's flavour (`0-1-57,1-2-3`, or a MySQL GTID set).
    PrimaryLacks { missing: String },
    /// A new primary is followed by GTID only: its files and positions are not binraft's.
    NewPrimaryNeedsGtid,
    /// A GTID dump began in the primary's `next` while binraft's copy of `file` lacks its end
    /// (the ROTATE or STOP written while binraft was away, which a GTID dump does not send):
    /// the next session asks for it by file and position, from where the copy ends.
    TailMissing { file: String, next: String },
}

impl UpstreamError {
    /// Whether retrying soon cannot help: the primary refuses binraft or holds another history,
    /// or binraft's own configuration or store is at fault. The driver then retries at the
    /// slowest pace, until a DBA fixes the cause.
    pub fn is_fatal(&self) -> bool {
        match self {
            UpstreamError::Connection(c) => match c {
                ClientError::AccessDenied(_) | ClientError::TlsNotOffered | ClientError::UnsupportedAuthPlugin(_) | ClientError::FullAuthNeedsTls => true,
                ClientError::StreamError(e) => e.code == ER_MASTER_FATAL_ERROR_READING_BINLOG,
                _ => false,
            },
            UpstreamError::Refused { error, .. } => error.code == ER_MASTER_FATAL_ERROR_READING_BINLOG,
            UpstreamError::NotContiguous { .. }
            | UpstreamError::OffsetTooLarge { .. }
            | UpstreamError::BadFileName { .. }
            | UpstreamError::Store { .. }
            | UpstreamError::HistoryDiffers { .. }
            | UpstreamError::PrimaryLacks { .. }
            | UpstreamError::NewPrimaryNeedsGtid
            | UpstreamError::TlsConfig { .. } => true,
            _ => false,
        }
    }

    /// The server's error number, when the primary gave one.
    pub fn errno(&self) -> Option<u16> {
        match self {
            UpstreamError::Connection(c) => c.errno(),
            UpstreamError::Refused { error, .. } => Some(error.code),
            _ => None,
        }
    }

    /// What SHOW SLAVE STATUS shows as Last_IO_Errno: the primary's number when it gave one,
    /// else the number a MariaDB replica shows for the same kind of cause.
    pub fn io_errno(&self) -> u16 {
        if let Some(n) = self.errno() {
            return n;
        }
        match self {
            UpstreamError::TlsConfig { .. } | UpstreamError::TlsHandshake { .. } => CR_SSL_CONNECTION_ERROR,
            _ if self.is_fatal() => ER_MASTER_FATAL_ERROR_READING_BINLOG,
            _ => CR_CONN_HOST_ERROR,
        }
    }
}

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UpstreamError::Connection(c) => c.fmt(f),
            UpstreamError::Refused { request, error } => write!(f, "the primary refused {request}: {} (error {})", error.message, error.code),
            UpstreamError::UnexpectedAnswer => f.write_str("unexpected answer from the primary"),
            UpstreamError::EndOfStream => f.write_str("the primary ended the stream"),
            UpstreamError::NoSemiSyncHeader => f.write_str("a semi-sync event packet without its header"),
            UpstreamError::NotOneEvent { len } => write!(f, "an event packet of {len} bytes did not hold exactly one event"),
            UpstreamError::BadEvent(e) => write!(f, "bad event from the primary: {e}"),
            UpstreamError::EventBeforeRotate => f.write_str("an event came before any ROTATE"),
            UpstreamError::NotContiguous { file, offset, stored_end } => {
                write!(f, "event at {file}:{offset} does not follow the stored end {stored_end}: the primary's history is not binraft's")
            }
            UpstreamError::OffsetTooLarge { file, offset } => {
                write!(f, "the store ends at {file}:{offset}, past the 4 GiB a binlog dump by file and position can start from: use GTIDs (MASTER_USE_GTID)")
            }
            UpstreamError::Silent { silent_ms, heartbeat_period_ms } => {
                write!(f, "the primary is silent: nothing for {silent_ms} ms, though it was asked for a heartbeat every {heartbeat_period_ms} ms")
            }
            UpstreamError::LoginTimeout { timeout_ms } => write!(f, "login to the primary did not finish within {timeout_ms} ms"),
            UpstreamError::BadFileName { name, why } => write!(f, "the primary names the next binlog file {name:?}, which binraft refuses: {why}"),
            UpstreamError::Network { detail } => write!(f, "network: {detail}"),
            UpstreamError::Closed => f.write_str("the primary closed the connection"),
            UpstreamError::Store { detail } => write!(f, "store: {detail}"),
            UpstreamError::NotCommitted { detail } => write!(f, "not committed by the cluster: {detail}"),
            UpstreamError::HistoryDiffers { file, offset } => {
                write!(f, "the primary's {file} differs from binraft's at {offset}: its binlog history does not match the store's")
            }
            UpstreamError::TlsConfig { detail } => write!(f, "TLS: {detail}"),
            UpstreamError::TlsHandshake { detail } => write!(f, "TLS handshake with the primary: {detail}"),
            UpstreamError::PrimaryLacks { missing } => write!(
                f,
                "the new primary lacks transactions binraft holds ({missing}): it is not a promoted replica of the old primary, or it is behind; binraft does not follow it"
            ),
            UpstreamError::TailMissing { file, next } => write!(f, "the primary went on in {next} while binraft's {file} has no end yet: fetching it by file and position"),
            UpstreamError::NewPrimaryNeedsGtid => f.write_str("a new primary is followed by GTID: CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos (MariaDB) or MASTER_AUTO_POSITION=1 (MySQL)"),
        }
    }
}

impl std::error::Error for UpstreamError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primarys_errno_is_kept_and_decides_what_is_fatal() {
        let refused = |code| UpstreamError::Refused { request: "the binlog request".into(), error: ServerError::new(code, b"HY000", "no") };
        assert_eq!((refused(1236).errno(), refused(1236).is_fatal()), (Some(1236), true));
        assert_eq!((refused(1193).io_errno(), refused(1193).is_fatal()), (1193, false));
        let denied = UpstreamError::Connection(ClientError::AccessDenied(ServerError::access_denied("repl", "10.0.0.1", true)));
        assert_eq!((denied.io_errno(), denied.is_fatal()), (1045, true));
        assert_eq!(denied.to_string(), "authentication failed: Access denied for user 'repl'@'10.0.0.1' (using password: YES) (error 1045)");
        let too_many = UpstreamError::Connection(ClientError::ConnectionRefused(ServerError::new(1040, b"08004", "Too many connections")));
        assert_eq!((too_many.io_errno(), too_many.is_fatal()), (1040, false), "the primary may have room later");
        let purged = UpstreamError::Connection(ClientError::StreamError(ServerError::binlog("Could not find first log file name in binary log index file")));
        assert_eq!((purged.io_errno(), purged.is_fatal()), (1236, true));
    }

    #[test]
    fn causes_without_a_server_errno_get_a_replicas_number() {
        let e = UpstreamError::Silent { silent_ms: 3100, heartbeat_period_ms: 1000 };
        assert_eq!((e.errno(), e.io_errno(), e.is_fatal()), (None, 2003, false));
        assert_eq!(e.to_string(), "the primary is silent: nothing for 3100 ms, though it was asked for a heartbeat every 1000 ms");
        let e = UpstreamError::HistoryDiffers { file: "binlog.000002".into(), offset: 4 };
        assert_eq!((e.io_errno(), e.is_fatal()), (1236, true));
        assert_eq!(UpstreamError::TlsHandshake { detail: "bad certificate".into() }.io_errno(), 2026);
        assert!(!UpstreamError::Network { detail: "connection refused".into() }.is_fatal());
        let e = UpstreamError::OffsetTooLarge { file: "binlog.000009".into(), offset: 5 << 30 };
        assert!(e.is_fatal());
        assert!(e.to_string().contains("binlog.000009:5368709120"), "{e}");
    }
}
