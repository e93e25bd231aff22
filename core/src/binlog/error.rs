//! Errors of the binlog codec. Every variant carries the file offset of the event it concerns, so
//! a DBA can go straight to it with `mariadb-binlog --start-position`.

use super::event_type::EventType;
use crate::codec::Short;
use std::fmt;

/// A binlog could not be framed or an event could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BinlogError {
    /// The file does not begin with the binlog magic `\xfebin`.
    NotABinlog { found: Vec<u8> },
    /// The input ends inside an event header.
    TruncatedHeader { offset: u64, have: usize },
    /// The input ends inside an event: the header promised `event_size` bytes.
    TruncatedEvent { offset: u64, event_type: EventType, event_size: u32, have: usize },
    /// The header's size is smaller than the header and checksum it must contain, or larger than
    /// any event may be.
    InconsistentLength { offset: u64, event_type: EventType, event_size: u32 },
    /// The CRC32 at the end of the event does not match its bytes.
    BadChecksum { offset: u64, event_type: EventType, expected: u32, found: u32 },
    /// The first event declares a binlog version this codec does not know.
    UnknownBinlogVersion { offset: u64, version: u16 },
    /// The FORMAT_DESCRIPTION names a checksum algorithm other than NONE or CRC32.
    UnknownChecksum { offset: u64, algorithm: u8 },
    /// The header was sound but the body is not what its type requires.
    Body { offset: u64, event_type: EventType, error: BodyError },
}

/// What is wrong inside an event body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// A field runs past the end of the body.
    Truncated { field: &'static str, need: usize, have: usize },
    /// Bytes are left after the last field the type defines.
    TrailingBytes { count: usize },
    /// A field holds a value the format does not allow.
    Invalid { field: &'static str, detail: String },
    /// Compressed data did not inflate.
    Decompress { detail: String },
    /// A rows event names a table id with no TABLE_MAP before it.
    UnknownTable { table_id: u64 },
    /// A row image did not match the table's columns.
    Row { row: usize, column: usize, detail: String },
}

impl From<Short> for BodyError {
    fn from(s: Short) -> Self {
        BodyError::Truncated { field: s.field, need: s.need, have: s.have }
    }
}

impl BodyError {
    pub fn invalid(field: &'static str, detail: impl Into<String>) -> Self {
        BodyError::Invalid { field, detail: detail.into() }
    }
}

impl BinlogError {
    /// The file offset of the event at fault, when there is one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            BinlogError::NotABinlog { .. } => Some(0),
            BinlogError::TruncatedHeader { offset, .. }
            | BinlogError::TruncatedEvent { offset, .. }
            | BinlogError::InconsistentLength { offset, .. }
            | BinlogError::BadChecksum { offset, .. }
            | BinlogError::UnknownBinlogVersion { offset, .. }
            | BinlogError::UnknownChecksum { offset, .. }
            | BinlogError::Body { offset, .. } => Some(*offset),
        }
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Truncated { field, need, have } => {
                write!(f, "truncated at field {field}: needs {need} bytes, {have} left")
            }
            BodyError::TrailingBytes { count } => write!(f, "{count} bytes after the last field"),
            BodyError::Invalid { field, detail } => write!(f, "invalid {field}: {detail}"),
            BodyError::Decompress { detail } => write!(f, "cannot decompress: {detail}"),
            BodyError::UnknownTable { table_id } => write!(f, "no TABLE_MAP for table id {table_id}"),
            BodyError::Row { row, column, detail } => {
                write!(f, "row {row}, column {}: {detail}", column + 1)
            }
        }
    }
}

impl fmt::Display for BinlogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BinlogError::NotABinlog { found } => {
                write!(f, "not a binlog: expected magic fe 62 69 6e, found {}", crate::codec::hex(found))
            }
            BinlogError::TruncatedHeader { offset, have } => {
                write!(f, "at {offset}: truncated event header ({have} bytes)")
            }
            BinlogError::TruncatedEvent { offset, event_type, event_size, have } => write!(
                f,
                "at {offset}: truncated {event_type} event: header says {event_size} bytes, {have} present"
            ),
            BinlogError::InconsistentLength { offset, event_type, event_size } => {
                write!(f, "at {offset}: {event_type} event has impossible length {event_size}")
            }
            BinlogError::BadChecksum { offset, event_type, expected, found } => write!(
                f,
                "at {offset}: bad checksum in {event_type} event: computed 0x{expected:08x}, stored 0x{found:08x}"
            ),
            BinlogError::UnknownBinlogVersion { offset, version } => {
                write!(f, "at {offset}: unknown binlog version {version}")
            }
            BinlogError::UnknownChecksum { offset, algorithm } => {
                write!(f, "at {offset}: unknown checksum algorithm {algorithm}")
            }
            BinlogError::Body { offset, event_type, error } => {
                write!(f, "at {offset}: malformed {event_type} event: {error}")
            }
        }
    }
}

impl std::error::Error for BinlogError {}
