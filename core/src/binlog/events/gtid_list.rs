//! GTID_LIST (163, MariaDB): the binlog state at the start of a file (last GTID per domain and
//! server). A primary also sends an artificial one in place of skipped groups at a GTID start.

use crate::binlog::error::BodyError;
use crate::codec::Reader;
use crate::gtid::mariadb::MariaGtid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtidList {
    /// The top 4 bits of the count word (`GTID_LIST_FLAG_*`).
    pub flags: u8,
    pub gtids: Vec<MariaGtid>,
    /// Bytes after the list: MariaDB pads an empty list with two zero bytes.
    pub padding: Vec<u8>,
}

impl GtidList {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let word = r.u32("count")?;
        let count = word & 0x0fff_ffff;
        if count as usize > r.remaining() / 16 {
            return Err(BodyError::invalid("count", format!("{count} GTIDs in {} bytes", r.remaining())));
        }
        let mut gtids = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let domain = r.u32("domain_id")?;
            let server = r.u32("server_id")?;
            let seq = r.u64("seq_no")?;
            gtids.push(MariaGtid { domain, server, seq });
        }
        let padding = r.rest().to_vec();
        if padding.len() > 2 || padding.iter().any(|&b| b != 0) {
            return Err(BodyError::TrailingBytes { count: padding.len() });
        }
        Ok(GtidList { flags: (word >> 28) as u8, gtids, padding })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let word = (self.gtids.len() as u32 & 0x0fff_ffff) | (u32::from(self.flags) << 28);
        out.extend_from_slice(&word.to_le_bytes());
        for g in &self.gtids {
            out.extend_from_slice(&g.domain.to_le_bytes());
            out.extend_from_slice(&g.server.to_le_bytes());
            out.extend_from_slice(&g.seq.to_le_bytes());
        }
        out.extend_from_slice(&self.padding);
    }
}
