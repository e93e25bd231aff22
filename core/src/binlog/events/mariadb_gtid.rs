//! MariaDB GTID (162): starts an event group and names it `domain-server-seq` (the server id
//! comes from the header). Optional parts: group commit id, XA xid, extra flags.

use crate::binlog::error::BodyError;
use crate::codec::Reader;

pub mod flags {
    pub const STANDALONE: u8 = 0x01;
    pub const GROUP_COMMIT_ID: u8 = 0x02;
    pub const TRANSACTIONAL: u8 = 0x04;
    pub const ALLOW_PARALLEL: u8 = 0x08;
    pub const WAITED: u8 = 0x10;
    pub const DDL: u8 = 0x20;
    pub const PREPARED_XA: u8 = 0x40;
    pub const COMPLETED_XA: u8 = 0x80;
}

/// Bits of the extra flags byte (10.5+).
pub mod flags_extra {
    pub const MULTI_ENGINE: u8 = 0x01;
    pub const START_ALTER: u8 = 0x02;
    pub const COMMIT_ALTER: u8 = 0x04;
    pub const ROLLBACK_ALTER: u8 = 0x08;
    pub const THREAD_ID: u8 = 0x10;
}

/// GTID_HEADER_LEN: bodies shorter than this are zero-padded to it.
const MIN_BODY_LEN: usize = 19;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MariaGtidEvent {
    pub seq: u64,
    pub domain: u32,
    pub flags: u8,
    /// With [`flags::GROUP_COMMIT_ID`].
    pub commit_id: Option<u64>,
    /// With [`flags::PREPARED_XA`] or [`flags::COMPLETED_XA`].
    pub xid: Option<MariaXid>,
    pub flags_extra: Option<u8>,
    pub extra_engines: Option<u8>,
    /// GTID sequence number of the START ALTER this COMMIT/ROLLBACK ALTER completes.
    pub start_alter_seq: Option<u64>,
    pub thread_id: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MariaXid {
    pub format_id: u32,
    pub gtrid: Vec<u8>,
    pub bqual: Vec<u8>,
}

impl MariaGtidEvent {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let seq = r.u64("seq_no")?;
        let domain = r.u32("domain_id")?;
        let flags = r.u8("flags")?;
        let commit_id = if flags & flags::GROUP_COMMIT_ID != 0 { Some(r.u64("commit_id")?) } else { None };
        let xid = if flags & (flags::PREPARED_XA | flags::COMPLETED_XA) != 0 {
            let format_id = r.u32("xid_format_id")?;
            let gl = r.u8("gtrid_len")?;
            let bl = r.u8("bqual_len")?;
            let gtrid = r.take(usize::from(gl), "gtrid")?.to_vec();
            let bqual = r.take(usize::from(bl), "bqual")?.to_vec();
            Some(MariaXid { format_id, gtrid, bqual })
        } else {
            None
        };
        let mut e = MariaGtidEvent {
            seq,
            domain,
            flags,
            commit_id,
            xid,
            flags_extra: None,
            extra_engines: None,
            start_alter_seq: None,
            thread_id: None,
        };
        // A zero where the extra flags would be is padding: the server writes them only when set.
        if r.peek().is_some_and(|b| b != 0) {
            let fx = r.u8("flags_extra")?;
            e.flags_extra = Some(fx);
            if fx & flags_extra::MULTI_ENGINE != 0 {
                e.extra_engines = Some(r.u8("extra_engines")?);
            }
            if fx & (flags_extra::COMMIT_ALTER | flags_extra::ROLLBACK_ALTER) != 0 {
                e.start_alter_seq = Some(r.u64("start_alter_seq_no")?);
            }
            if fx & flags_extra::THREAD_ID != 0 {
                e.thread_id = Some(r.u32("thread_id")?);
            }
        }
        // The body is zero-padded to at least GTID_HEADER_LEN bytes.
        let used = r.position();
        let pad = r.rest();
        if pad.len() != MIN_BODY_LEN.saturating_sub(used) || pad.iter().any(|&b| b != 0) {
            return Err(BodyError::TrailingBytes { count: pad.len() });
        }
        Ok(e)
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.seq.to_le_bytes());
        out.extend_from_slice(&self.domain.to_le_bytes());
        out.push(self.flags);
        let start = out.len() - 13;
        if let Some(c) = self.commit_id {
            out.extend_from_slice(&c.to_le_bytes());
        }
        if let Some(x) = &self.xid {
            out.extend_from_slice(&x.format_id.to_le_bytes());
            out.push(x.gtrid.len() as u8);
            out.push(x.bqual.len() as u8);
            out.extend_from_slice(&x.gtrid);
            out.extend_from_slice(&x.bqual);
        }
        if let Some(fx) = self.flags_extra {
            out.push(fx);
            if let Some(n) = self.extra_engines {
                out.push(n);
            }
            if let Some(s) = self.start_alter_seq {
                out.extend_from_slice(&s.to_le_bytes());
            }
            if let Some(t) = self.thread_id {
                out.extend_from_slice(&t.to_le_bytes());
            }
        }
        let used = out.len() - start;
        out.resize(out.len() + MIN_BODY_LEN.saturating_sub(used), 0);
    }

    /// Whether this group is a standalone statement (DDL or non-transactional) with no COMMIT.
    pub fn is_standalone(&self) -> bool {
        self.flags & flags::STANDALONE != 0
    }
}
