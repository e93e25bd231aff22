//! The small fixed-layout events: STOP (3), XID (16), INTVAR (5), RAND (13), INCIDENT (26),
//! BINLOG_CHECKPOINT (161), START_ENCRYPTION (164), XA_PREPARE (38), ROWS_QUERY (29) and
//! ANNOTATE_ROWS (160). Each reads all of its body or fails with the field that was short.

use crate::binlog::error::BodyError;
use crate::codec::Reader;

/// Fails when bytes remain after the last field.
pub(crate) fn finish(r: &Reader<'_>) -> Result<(), BodyError> {
    match r.remaining() {
        0 => Ok(()),
        count => Err(BodyError::TrailingBytes { count }),
    }
}

/// STOP (3): the server shut down; nothing follows in this file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stop;

impl Stop {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        finish(&Reader::new(body)).map(|_| Stop)
    }
}

/// XID (16): the commit of an XA-capable (InnoDB) transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xid {
    pub xid: u64,
}

impl Xid {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let xid = r.u64("xid")?;
        finish(&r)?;
        Ok(Xid { xid })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.xid.to_le_bytes());
    }
}

/// INTVAR (5): LAST_INSERT_ID (1) or INSERT_ID (2) for the next statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntVar {
    pub kind: u8,
    pub value: u64,
}

impl IntVar {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let kind = r.u8("type")?;
        let value = r.u64("value")?;
        finish(&r)?;
        Ok(IntVar { kind, value })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.kind);
        out.extend_from_slice(&self.value.to_le_bytes());
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            1 => "LAST_INSERT_ID",
            2 => "INSERT_ID",
            _ => "INVALID_INT",
        }
    }
}

/// RAND (13): the seeds of RAND() for the next statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rand {
    pub seed1: u64,
    pub seed2: u64,
}

impl Rand {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let seed1 = r.u64("seed1")?;
        let seed2 = r.u64("seed2")?;
        finish(&r)?;
        Ok(Rand { seed1, seed2 })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.seed1.to_le_bytes());
        out.extend_from_slice(&self.seed2.to_le_bytes());
    }
}

/// INCIDENT (26): something happened that replicas cannot replay (for instance a lost event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub incident: u16,
    /// Absent in some servers' events; present and possibly empty in others.
    pub message: Option<Vec<u8>>,
}

impl Incident {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let incident = r.u16("incident")?;
        let message = if r.is_empty() {
            None
        } else {
            let n = r.u8("message_len")?;
            Some(r.take(usize::from(n), "message")?.to_vec())
        };
        finish(&r)?;
        Ok(Incident { incident, message })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.incident.to_le_bytes());
        if let Some(m) = &self.message {
            out.push(m.len() as u8);
            out.extend_from_slice(m);
        }
    }
}

/// BINLOG_CHECKPOINT (161, MariaDB): the oldest file still needed for crash recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogCheckpoint {
    pub file: Vec<u8>,
}

impl BinlogCheckpoint {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let n = r.u32("file_len")?;
        let file = r.take(n as usize, "file")?.to_vec();
        finish(&r)?;
        Ok(BinlogCheckpoint { file })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.file.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.file);
    }
}

/// START_ENCRYPTION (164, MariaDB): the rest of the file is encrypted with this key version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartEncryption {
    pub scheme: u8,
    pub key_version: u32,
    pub nonce: [u8; 12],
}

impl StartEncryption {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let scheme = r.u8("scheme")?;
        let key_version = r.u32("key_version")?;
        let nonce = r.array::<12>("nonce")?;
        finish(&r)?;
        Ok(StartEncryption { scheme, key_version, nonce })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.scheme);
        out.extend_from_slice(&self.key_version.to_le_bytes());
        out.extend_from_slice(&self.nonce);
    }
}

/// XA_PREPARE (38, MySQL): XA PREPARE or XA COMMIT ... ONE PHASE of an XA transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XaPrepare {
    pub one_phase: bool,
    pub format_id: u32,
    pub gtrid: Vec<u8>,
    pub bqual: Vec<u8>,
}

impl XaPrepare {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let one_phase = r.u8("one_phase")? != 0;
        let format_id = r.u32("format_id")?;
        let gl = r.u32("gtrid_len")? as usize;
        let bl = r.u32("bqual_len")? as usize;
        let gtrid = r.take(gl, "gtrid")?.to_vec();
        let bqual = r.take(bl, "bqual")?.to_vec();
        finish(&r)?;
        Ok(XaPrepare { one_phase, format_id, gtrid, bqual })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(self.one_phase));
        out.extend_from_slice(&self.format_id.to_le_bytes());
        out.extend_from_slice(&(self.gtrid.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.bqual.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.gtrid);
        out.extend_from_slice(&self.bqual);
    }
}

/// ROWS_QUERY (29, MySQL): the statement behind the rows events that follow
/// (binlog_rows_query_log_events). The length byte is kept as written: servers cap it at 255.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsQuery {
    pub length_byte: u8,
    pub query: Vec<u8>,
}

impl RowsQuery {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let length_byte = r.u8("length")?;
        Ok(RowsQuery { length_byte, query: r.rest().to_vec() })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.length_byte);
        out.extend_from_slice(&self.query);
    }
}

/// ANNOTATE_ROWS (160, MariaDB): the statement behind the rows events that follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotateRows {
    pub query: Vec<u8>,
}
