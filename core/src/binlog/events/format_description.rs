//! FORMAT_DESCRIPTION (15), the first event of every v4 file, and START_EVENT_V3 (1) of v1/v3 files.
//!
//! It fixes how the rest of the file is read: the header length, each event type's post-header
//! length and (MySQL 5.6.1+, MariaDB 5.3+) the checksum algorithm.

use crate::binlog::checksum::ChecksumAlg;
use crate::binlog::error::BodyError;
use crate::binlog::event_type::EventType;
use crate::codec::Reader;

const SERVER_VERSION_LEN: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatDescription {
    pub binlog_version: u16,
    /// The server version, zero-padded to 50 bytes as stored.
    pub server_version: [u8; SERVER_VERSION_LEN],
    pub create_timestamp: u32,
    pub header_len: u8,
    /// Post-header length of each event type, starting at type 1.
    pub post_header_lens: Vec<u8>,
    /// The checksum algorithm byte, present when the server version knows checksums.
    pub checksum_alg: Option<u8>,
}

impl FormatDescription {
    /// Decodes the body of a FORMAT_DESCRIPTION event, with any checksum algorithm byte still on
    /// its end but without the 4 checksum bytes.
    pub fn decode(body: &[u8], checksum_aware: bool) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let binlog_version = r.u16("binlog_version")?;
        let server_version = r.array::<SERVER_VERSION_LEN>("server_version")?;
        let create_timestamp = r.u32("create_timestamp")?;
        let header_len = r.u8("header_len")?;
        let rest = r.rest();
        let (post_header_lens, checksum_alg) = if checksum_aware {
            match rest.split_last() {
                Some((&alg, lens)) => (lens.to_vec(), Some(alg)),
                None => return Err(BodyError::Truncated { field: "checksum_alg", need: 1, have: 0 }),
            }
        } else {
            (rest.to_vec(), None)
        };
        Ok(FormatDescription { binlog_version, server_version, create_timestamp, header_len, post_header_lens, checksum_alg })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.binlog_version.to_le_bytes());
        out.extend_from_slice(&self.server_version);
        out.extend_from_slice(&self.create_timestamp.to_le_bytes());
        out.push(self.header_len);
        out.extend_from_slice(&self.post_header_lens);
        if let Some(alg) = self.checksum_alg {
            out.push(alg);
        }
    }

    /// Whether a FORMAT_DESCRIPTION body (with its checksum tail) was written by a server that
    /// appends a checksum algorithm byte. Decided from the server version, as the servers do.
    pub fn body_is_checksum_aware(body: &[u8]) -> bool {
        match body.get(2..2 + SERVER_VERSION_LEN) {
            Some(v) => version_knows_checksums(v),
            None => false,
        }
    }

    /// The server version without its padding, lossily as UTF-8.
    pub fn server_version(&self) -> String {
        let end = self.server_version.iter().position(|&b| b == 0).unwrap_or(SERVER_VERSION_LEN);
        String::from_utf8_lossy(&self.server_version[..end]).into_owned()
    }

    pub fn is_mariadb(&self) -> bool {
        self.server_version().contains("MariaDB")
    }

    /// The checksum algorithm in force for the events after this one. A byte other than 0 or 1
    /// comes back as `Err(byte)`.
    pub fn checksum(&self) -> Result<ChecksumAlg, u8> {
        match self.checksum_alg {
            None => Ok(ChecksumAlg::None),
            Some(b) => ChecksumAlg::from_byte(b).ok_or(b),
        }
    }

    /// Post-header length of `t` (a type as this codec numbers it), or `None` when this
    /// description does not list it.
    pub fn post_header_len(&self, t: EventType) -> Option<u8> {
        let raw = if self.uses_pre_ga_numbering() {
            PRE_GA_PERMUTATION.iter().position(|&c| c == t.0)? as u8
        } else {
            t.0
        };
        let i = usize::from(raw).checked_sub(1)?;
        self.post_header_lens.get(i).copied()
    }

    /// Whether this file numbers event types as MySQL 5.1.0 to 5.1.15 and the 5.2 previews did,
    /// before row events were renumbered for 5.1 GA (22 event types).
    pub fn uses_pre_ga_numbering(&self) -> bool {
        let (a, b, c) = split_version(&self.server_version);
        self.post_header_lens.len() == 22 && a == 5 && ((b == 1 && c <= 15) || b == 2)
    }

    /// The type a raw header type code stands for in this file.
    pub fn canonical_type(&self, raw: EventType) -> EventType {
        if self.uses_pre_ga_numbering() {
            if let Some(&c) = PRE_GA_PERMUTATION.get(usize::from(raw.0)) {
                return EventType(c);
            }
        }
        raw
    }

    /// A description for building new v4 events: MariaDB's post-header lengths when `mariadb`.
    pub fn new_v4(server_version: &str, create_timestamp: u32, checksum: ChecksumAlg, mariadb: bool) -> Self {
        let mut sv = [0u8; SERVER_VERSION_LEN];
        let n = server_version.len().min(SERVER_VERSION_LEN - 1);
        sv[..n].copy_from_slice(&server_version.as_bytes()[..n]);
        let post_header_lens = if mariadb { MARIADB_10_POST_HEADER_LENS.to_vec() } else { MYSQL_8_POST_HEADER_LENS.to_vec() };
        FormatDescription {
            binlog_version: 4,
            server_version: sv,
            create_timestamp,
            header_len: 19,
            post_header_lens,
            checksum_alg: Some(checksum.to_byte()),
        }
    }

    /// The implied description of a v1 (MySQL 3.23) or v3 (MySQL 4.0, 4.1) file, built from its
    /// START_EVENT_V3.
    pub fn for_old_version(binlog_version: u16, server_version: [u8; SERVER_VERSION_LEN], create_timestamp: u32) -> Self {
        let (header_len, post_header_lens) = if binlog_version == 1 {
            (13, vec![56, 11, 0, 0, 0, 18, 0, 4, 4, 4, 4, 18])
        } else {
            (19, vec![56, 13, 0, 8, 0, 18, 0, 4, 4, 4, 4, 18])
        };
        FormatDescription {
            binlog_version,
            server_version,
            create_timestamp,
            header_len,
            post_header_lens,
            checksum_alg: None,
        }
    }
}

/// MySQL 8.0.45's post-header lengths for types 1 to 41, as its FORMAT_DESCRIPTION lists them.
pub const MYSQL_8_POST_HEADER_LENS: [u8; 41] = [
    0, 13, 0, 8, 0, 0, 0, 0, 4, 0, 4, 0, 0, 0, 98, 0, 4, 26, 8, 0, 0, 0, 8, 8, 8, 2, 0, 0, 0, 10, 10, 10, 42, 42, 0, 18, 52,
    0, 10, 40, 0,
];

/// MariaDB 10.11's post-header lengths for types 1 to 171, as its FORMAT_DESCRIPTION lists them.
pub const MARIADB_10_POST_HEADER_LENS: [u8; 171] = {
    let mut lens = [0u8; 171];
    let head: [u8; 32] = [56, 13, 0, 8, 0, 18, 0, 4, 4, 4, 4, 18, 0, 0, 228, 0, 4, 26, 8, 0, 0, 0, 8, 8, 8, 2, 0, 0, 0, 10, 10, 10];
    let mut i = 0;
    while i < head.len() {
        lens[i] = head[i];
        i += 1;
    }
    lens[38] = 10;
    lens[39] = 10;
    lens[40] = 10;
    // 160 ANNOTATE_ROWS .. 171 DELETE_ROWS_COMPRESSED
    let tail: [u8; 12] = [0, 4, 19, 4, 0, 13, 8, 8, 8, 10, 10, 10];
    let mut j = 0;
    while j < tail.len() {
        lens[159 + j] = tail[j];
        j += 1;
    }
    lens
};

/// Raw type code (index) to this codec's type code, for pre-GA numbering: TABLE_MAP, the three
/// pre-GA rows events and XID, BEGIN_LOAD_QUERY, EXECUTE_LOAD_QUERY sat at 16 to 22.
const PRE_GA_PERMUTATION: [u8; 23] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 19, 20, 21, 22, 16, 17, 18];

/// Parses the leading `a.b.c` of a server version string.
pub fn split_version(v: &[u8]) -> (u32, u32, u32) {
    let mut parts = [0u32; 3];
    let mut idx = 0;
    let mut seen_digit = false;
    for &b in v {
        if b.is_ascii_digit() {
            parts[idx] = parts[idx].saturating_mul(10).saturating_add(u32::from(b - b'0'));
            seen_digit = true;
        } else if b == b'.' && seen_digit && idx < 2 {
            idx += 1;
            seen_digit = false;
        } else {
            break;
        }
    }
    (parts[0], parts[1], parts[2])
}

fn version_knows_checksums(v: &[u8]) -> bool {
    let is_mariadb = v.windows(7).any(|w| w == b"MariaDB");
    let min = if is_mariadb { (5, 3, 0) } else { (5, 6, 1) };
    split_version(v) >= min
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_that_know_checksums() {
        assert!(version_knows_checksums(b"5.6.17-log\0\0"));
        assert!(!version_knows_checksums(b"5.6.0-m4\0"));
        assert!(!version_knows_checksums(b"5.5.27-log"));
        assert!(version_knows_checksums(b"5.5.30-MariaDB-log"));
        assert!(version_knows_checksums(b"10.11.19-MariaDB-0+deb12u1-log"));
        assert!(version_knows_checksums(b"9.6.0"));
    }
}
