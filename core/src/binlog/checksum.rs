//! Event checksums: the zlib CRC-32 of the event bytes before it, stored little-endian in the last
//! four bytes. The FORMAT_DESCRIPTION of a file in use is checksummed with its in-use flag clear,
//! because the server clears the flag on close without rewriting the checksum.

use super::header::flags::BINLOG_IN_USE;

/// Size of a stored checksum.
pub const CHECKSUM_LEN: usize = 4;

/// `binlog_checksum` as a FORMAT_DESCRIPTION states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlg {
    None,
    Crc32,
}

impl ChecksumAlg {
    pub fn from_byte(b: u8) -> Option<ChecksumAlg> {
        match b {
            0 => Some(ChecksumAlg::None),
            1 => Some(ChecksumAlg::Crc32),
            _ => None,
        }
    }

    pub fn to_byte(self) -> u8 {
        match self {
            ChecksumAlg::None => 0,
            ChecksumAlg::Crc32 => 1,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ChecksumAlg::None => "NONE",
            ChecksumAlg::Crc32 => "CRC32",
        }
    }
}

/// CRC-32 of an event's bytes without its checksum. `is_fde` masks the in-use flag.
pub fn event_crc(bytes: &[u8], is_fde: bool) -> u32 {
    const FLAGS_OFFSET: usize = 17;
    let mut h = crc32fast::Hasher::new();
    if is_fde && bytes.len() > FLAGS_OFFSET {
        h.update(&bytes[..FLAGS_OFFSET]);
        h.update(&[bytes[FLAGS_OFFSET] & !(BINLOG_IN_USE as u8)]);
        h.update(&bytes[FLAGS_OFFSET + 1..]);
    } else {
        h.update(bytes);
    }
    h.finalize()
}
