//! MySQL GTID (33) and ANONYMOUS_GTID (34): the identity of the next transaction and its
//! commit-order metadata. The fields after the 25-byte 5.6 core are optional: each server
//! version appends more, and a decoder reads as many as are there.

use super::simple::finish;
use crate::binlog::error::BodyError;
use crate::codec::{put_lenenc, Reader};
use crate::gtid::mysql::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gtid {
    /// Bit 0: the transaction may commit in parallel (not DDL).
    pub flags: u8,
    pub uuid: Uuid,
    pub gno: i64,
    /// Logical clock (5.7+): type code (2), last committed, sequence number.
    pub logical_clock: Option<LogicalClock>,
    /// Commit timestamps in microseconds (8.0.1+).
    pub commit_ts: Option<CommitTimestamps>,
    /// Transaction length in bytes (8.0.2+).
    pub transaction_length: Option<u64>,
    /// Server versions (8.0.14+).
    pub server_versions: Option<ServerVersions>,
    /// Binlog group commit ticket (8.0.33+), written only when not zero.
    pub commit_group_ticket: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogicalClock {
    pub type_code: u8,
    pub last_committed: i64,
    pub sequence_number: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitTimestamps {
    pub immediate: u64,
    /// Present when it differs from `immediate` (the transaction came from another server).
    pub original: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerVersions {
    pub immediate: u32,
    pub original: Option<u32>,
}

const TS_ORIGINAL_FLAG: u64 = 1 << 55;
const VERSION_ORIGINAL_FLAG: u32 = 1 << 31;

impl Gtid {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let flags = r.u8("flags")?;
        let uuid = Uuid(r.array::<16>("uuid")?);
        let gno = r.u64("gno")? as i64;
        let mut g = Gtid {
            flags,
            uuid,
            gno,
            logical_clock: None,
            commit_ts: None,
            transaction_length: None,
            server_versions: None,
            commit_group_ticket: None,
        };
        if r.is_empty() {
            return Ok(g);
        }
        g.logical_clock = Some(LogicalClock {
            type_code: r.u8("lt_type")?,
            last_committed: r.u64("last_committed")? as i64,
            sequence_number: r.u64("sequence_number")? as i64,
        });
        if r.is_empty() {
            return Ok(g);
        }
        let imm = r.uint_le(7, "immediate_commit_timestamp")?;
        let original = if imm & TS_ORIGINAL_FLAG != 0 { Some(r.uint_le(7, "original_commit_timestamp")?) } else { None };
        g.commit_ts = Some(CommitTimestamps { immediate: imm & !TS_ORIGINAL_FLAG, original });
        if r.is_empty() {
            return Ok(g);
        }
        g.transaction_length = Some(r.lenenc_len("transaction_length")?);
        if r.is_empty() {
            return Ok(g);
        }
        let imm = r.u32("immediate_server_version")?;
        let original = if imm & VERSION_ORIGINAL_FLAG != 0 { Some(r.u32("original_server_version")?) } else { None };
        g.server_versions = Some(ServerVersions { immediate: imm & !VERSION_ORIGINAL_FLAG, original });
        if r.is_empty() {
            return Ok(g);
        }
        g.commit_group_ticket = Some(r.u64("commit_group_ticket")?);
        finish(&r)?;
        Ok(g)
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.flags);
        out.extend_from_slice(&self.uuid.0);
        out.extend_from_slice(&self.gno.to_le_bytes());
        let Some(lc) = &self.logical_clock else { return };
        out.push(lc.type_code);
        out.extend_from_slice(&lc.last_committed.to_le_bytes());
        out.extend_from_slice(&lc.sequence_number.to_le_bytes());
        let Some(ts) = &self.commit_ts else { return };
        let flag = if ts.original.is_some() { TS_ORIGINAL_FLAG } else { 0 };
        out.extend_from_slice(&(ts.immediate | flag).to_le_bytes()[..7]);
        if let Some(o) = ts.original {
            out.extend_from_slice(&o.to_le_bytes()[..7]);
        }
        let Some(len) = self.transaction_length else { return };
        put_lenenc(out, len);
        let Some(v) = &self.server_versions else { return };
        let flag = if v.original.is_some() { VERSION_ORIGINAL_FLAG } else { 0 };
        out.extend_from_slice(&(v.immediate | flag).to_le_bytes());
        if let Some(o) = v.original {
            out.extend_from_slice(&o.to_le_bytes());
        }
        if let Some(t) = self.commit_group_ticket {
            out.extend_from_slice(&t.to_le_bytes());
        }
    }
}
