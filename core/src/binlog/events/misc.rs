//! The rarer MySQL events: HEARTBEAT (27) and HEARTBEAT_V2 (41), TRANSACTION_CONTEXT (36) and
//! VIEW_CHANGE (37) of Group Replication, and the LOAD DATA family (6, 9, 10, 11, 12, 17).

use super::simple::finish;
use crate::binlog::error::BodyError;
use crate::codec::{put_lenenc, Reader};

/// HEARTBEAT (27): sent by a primary with nothing new; names the file the replica reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub log_file: Vec<u8>,
}

/// HEARTBEAT_V2 (41, MySQL 8.0.26+): fields as (type, length-encoded length, value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeartbeatV2 {
    pub fields: Vec<(u8, Vec<u8>)>,
}

impl HeartbeatV2 {
    pub const LOG_FILENAME: u8 = 1;
    pub const LOG_POSITION: u8 = 2;

    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let mut fields = Vec::new();
        while !r.is_empty() {
            let t = r.u8("field_type")?;
            if t == 0 {
                fields.push((0, Vec::new()));
                continue;
            }
            let v = r.lenenc_bytes("field_value")?.to_vec();
            fields.push((t, v));
        }
        Ok(HeartbeatV2 { fields })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        for (t, v) in &self.fields {
            out.push(*t);
            if *t != 0 {
                put_lenenc(out, v.len() as u64);
                out.extend_from_slice(v);
            }
        }
    }

    pub fn log_file(&self) -> Option<&[u8]> {
        self.fields.iter().find(|(t, _)| *t == Self::LOG_FILENAME).map(|(_, v)| v.as_slice())
    }

    pub fn log_position(&self) -> Option<u64> {
        let (_, v) = self.fields.iter().find(|(t, _)| *t == Self::LOG_POSITION)?;
        Reader::new(v).lenenc("log_position").ok().flatten()
    }
}

/// TRANSACTION_CONTEXT (36): certification data of a Group Replication transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionContext {
    pub server_uuid: Vec<u8>,
    pub thread_id: u32,
    pub gtid_specified: bool,
    pub snapshot_version: Vec<u8>,
    pub write_set: Vec<Vec<u8>>,
    pub read_set: Vec<Vec<u8>>,
}

impl TransactionContext {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let uuid_len = r.u8("server_uuid_len")?;
        let thread_id = r.u32("thread_id")?;
        let gtid_specified = r.u8("gtid_specified")? != 0;
        let sv_len = r.u32("snapshot_version_len")? as usize;
        let ws = r.u32("write_set_len")?;
        let rs = r.u32("read_set_len")?;
        let server_uuid = r.take(usize::from(uuid_len), "server_uuid")?.to_vec();
        let snapshot_version = r.take(sv_len, "snapshot_version")?.to_vec();
        let mut set = |n: u32, field| -> Result<Vec<Vec<u8>>, BodyError> {
            let mut v = Vec::new();
            for _ in 0..n {
                let len = r.u16(field)?;
                v.push(r.take(usize::from(len), field)?.to_vec());
            }
            Ok(v)
        };
        let write_set = set(ws, "write_set")?;
        let read_set = set(rs, "read_set")?;
        finish(&r)?;
        Ok(TransactionContext { server_uuid, thread_id, gtid_specified, snapshot_version, write_set, read_set })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.server_uuid.len() as u8);
        out.extend_from_slice(&self.thread_id.to_le_bytes());
        out.push(u8::from(self.gtid_specified));
        out.extend_from_slice(&(self.snapshot_version.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.write_set.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.read_set.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.server_uuid);
        out.extend_from_slice(&self.snapshot_version);
        for item in self.write_set.iter().chain(&self.read_set) {
            out.extend_from_slice(&(item.len() as u16).to_le_bytes());
            out.extend_from_slice(item);
        }
    }
}

/// VIEW_CHANGE (37): a Group Replication membership change and its certification info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewChange {
    pub view_id: [u8; 40],
    pub seq_number: u64,
    pub cert_info: Vec<(Vec<u8>, Vec<u8>)>,
}

impl ViewChange {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let view_id = r.array::<40>("view_id")?;
        let seq_number = r.u64("seq_number")?;
        let n = r.u32("cert_info_size")?;
        let mut cert_info = Vec::new();
        for _ in 0..n {
            let kl = r.u16("key_len")?;
            let k = r.take(usize::from(kl), "key")?.to_vec();
            let vl = r.u32("value_len")?;
            let v = r.take(vl as usize, "value")?.to_vec();
            cert_info.push((k, v));
        }
        finish(&r)?;
        Ok(ViewChange { view_id, seq_number, cert_info })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.view_id);
        out.extend_from_slice(&self.seq_number.to_le_bytes());
        out.extend_from_slice(&(self.cert_info.len() as u32).to_le_bytes());
        for (k, v) in &self.cert_info {
            out.extend_from_slice(&(k.len() as u16).to_le_bytes());
            out.extend_from_slice(k);
            out.extend_from_slice(&(v.len() as u32).to_le_bytes());
            out.extend_from_slice(v);
        }
    }
}

/// APPEND_BLOCK (9) and BEGIN_LOAD_QUERY (17): a block of a LOAD DATA file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendBlock {
    pub file_id: u32,
    pub data: Vec<u8>,
}

impl AppendBlock {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let file_id = r.u32("file_id")?;
        Ok(AppendBlock { file_id, data: r.rest().to_vec() })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.file_id.to_le_bytes());
        out.extend_from_slice(&self.data);
    }
}

/// EXEC_LOAD (10) and DELETE_FILE (11): act on a LOAD DATA file by id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    pub file_id: u32,
}

impl FileId {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let file_id = r.u32("file_id")?;
        finish(&r)?;
        Ok(FileId { file_id })
    }
}

/// LOAD (6) and NEW_LOAD (12): LOAD DATA INFILE of MySQL 3.23 to 5.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Load {
    pub thread_id: u32,
    pub exec_time: u32,
    pub skip_lines: u32,
    /// NEW_LOAD's length-prefixed separators, or LOAD's single bytes.
    pub new_format: bool,
    pub field_term: Vec<u8>,
    pub enclosed: Vec<u8>,
    pub line_term: Vec<u8>,
    pub line_start: Vec<u8>,
    pub escaped: Vec<u8>,
    pub opt_flags: u8,
    pub empty_flags: u8,
    pub field_names: Vec<Vec<u8>>,
    pub table: Vec<u8>,
    pub db: Vec<u8>,
    pub file_name: Vec<u8>,
}

impl Load {
    pub fn decode(body: &[u8], new_format: bool) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let thread_id = r.u32("thread_id")?;
        let exec_time = r.u32("exec_time")?;
        let skip_lines = r.u32("skip_lines")?;
        let table_len = r.u8("table_name_len")?;
        let db_len = r.u8("db_len")?;
        let num_fields = r.u32("num_fields")?;
        let mut sep = |field| -> Result<Vec<u8>, BodyError> {
            if new_format {
                let n = r.u8(field)?;
                Ok(r.take(usize::from(n), field)?.to_vec())
            } else {
                Ok(vec![r.u8(field)?])
            }
        };
        let field_term = sep("field_term")?;
        let enclosed = sep("enclosed")?;
        let line_term = sep("line_term")?;
        let line_start = sep("line_start")?;
        let escaped = sep("escaped")?;
        let opt_flags = r.u8("opt_flags")?;
        let empty_flags = r.u8("empty_flags")?;
        let lens = r.take(num_fields as usize, "field_lens")?.to_vec();
        let mut field_names = Vec::new();
        for l in lens {
            field_names.push(r.take(usize::from(l), "field_name")?.to_vec());
            r.u8("field_name_nul")?;
        }
        let table = r.take(usize::from(table_len), "table")?.to_vec();
        r.u8("table_nul")?;
        let db = r.take(usize::from(db_len), "db")?.to_vec();
        r.u8("db_nul")?;
        let file_name = r.rest().to_vec();
        Ok(Load {
            thread_id,
            exec_time,
            skip_lines,
            new_format,
            field_term,
            enclosed,
            line_term,
            line_start,
            escaped,
            opt_flags,
            empty_flags,
            field_names,
            table,
            db,
            file_name,
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.thread_id.to_le_bytes());
        out.extend_from_slice(&self.exec_time.to_le_bytes());
        out.extend_from_slice(&self.skip_lines.to_le_bytes());
        out.push(self.table.len() as u8);
        out.push(self.db.len() as u8);
        out.extend_from_slice(&(self.field_names.len() as u32).to_le_bytes());
        for s in [&self.field_term, &self.enclosed, &self.line_term, &self.line_start, &self.escaped] {
            if self.new_format {
                out.push(s.len() as u8);
                out.extend_from_slice(s);
            } else {
                out.push(s.first().copied().unwrap_or(0));
            }
        }
        out.push(self.opt_flags);
        out.push(self.empty_flags);
        out.extend(self.field_names.iter().map(|f| f.len() as u8));
        for f in &self.field_names {
            out.extend_from_slice(f);
            out.push(0);
        }
        out.extend_from_slice(&self.table);
        out.push(0);
        out.extend_from_slice(&self.db);
        out.push(0);
        out.extend_from_slice(&self.file_name);
    }
}
