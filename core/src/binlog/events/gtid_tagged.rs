//! Tagged GTID (42, MySQL 8.4+/9): the same facts as GTID (33) in MySQL's newer serialization
//! format: a version, the message size and the last non-ignorable field id, then fields as
//! (id, value) pairs of variable-length integers. Fields equal to their defaults are left out,
//! so the event records which ones were present.

use crate::binlog::error::BodyError;
use crate::codec::Reader;
use crate::gtid::mysql::{Tag, Uuid};
use crate::gtid::varint;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedGtid {
    pub serialization_version: u64,
    pub last_non_ignorable_field: u64,
    pub flags: Option<u64>,
    pub uuid: Option<Uuid>,
    pub gno: Option<i64>,
    pub tag: Option<Tag>,
    pub last_committed: Option<i64>,
    pub sequence_number: Option<i64>,
    pub immediate_commit_timestamp: Option<u64>,
    pub original_commit_timestamp: Option<u64>,
    pub transaction_length: Option<u64>,
    pub immediate_server_version: Option<u64>,
    pub original_server_version: Option<u64>,
    pub commit_group_ticket: Option<u64>,
}

impl TaggedGtid {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let serialization_version = varint::read_u64(&mut r, "serialization_version")?;
        let size = varint::read_u64(&mut r, "message_size")?;
        if size != body.len() as u64 {
            return Err(BodyError::invalid("message_size", format!("says {size}, body has {}", body.len())));
        }
        let last_non_ignorable_field = varint::read_u64(&mut r, "last_non_ignorable_field_id")?;
        let mut g = TaggedGtid {
            serialization_version,
            last_non_ignorable_field,
            flags: None,
            uuid: None,
            gno: None,
            tag: None,
            last_committed: None,
            sequence_number: None,
            immediate_commit_timestamp: None,
            original_commit_timestamp: None,
            transaction_length: None,
            immediate_server_version: None,
            original_server_version: None,
            commit_group_ticket: None,
        };
        let mut last_id: Option<u64> = None;
        while !r.is_empty() {
            let id = varint::read_u64(&mut r, "field_id")?;
            if last_id.is_some_and(|l| id <= l) {
                return Err(BodyError::invalid("field_id", format!("{id} out of order")));
            }
            last_id = Some(id);
            match id {
                0 => g.flags = Some(varint::read_u64(&mut r, "gtid_flags")?),
                1 => {
                    let mut u = [0u8; 16];
                    for b in &mut u {
                        let v = varint::read_u64(&mut r, "uuid")?;
                        *b = u8::try_from(v).map_err(|_| BodyError::invalid("uuid", format!("byte {v}")))?;
                    }
                    g.uuid = Some(Uuid(u));
                }
                2 => g.gno = Some(varint::read_i64(&mut r, "gno")?),
                3 => {
                    let n = varint::read_u64(&mut r, "tag_len")?;
                    let t = r.take(usize::try_from(n).unwrap_or(usize::MAX), "tag")?;
                    let tag = std::str::from_utf8(t).ok().and_then(Tag::parse);
                    g.tag = Some(tag.ok_or_else(|| BodyError::invalid("tag", String::from_utf8_lossy(t)))?);
                }
                4 => g.last_committed = Some(varint::read_i64(&mut r, "last_committed")?),
                5 => g.sequence_number = Some(varint::read_i64(&mut r, "sequence_number")?),
                6 => g.immediate_commit_timestamp = Some(varint::read_u64(&mut r, "immediate_commit_timestamp")?),
                7 => g.original_commit_timestamp = Some(varint::read_u64(&mut r, "original_commit_timestamp")?),
                8 => g.transaction_length = Some(varint::read_u64(&mut r, "transaction_length")?),
                9 => g.immediate_server_version = Some(varint::read_u64(&mut r, "immediate_server_version")?),
                10 => g.original_server_version = Some(varint::read_u64(&mut r, "original_server_version")?),
                11 => g.commit_group_ticket = Some(varint::read_u64(&mut r, "commit_group_ticket")?),
                other => return Err(BodyError::invalid("field_id", format!("unknown field {other}"))),
            }
        }
        Ok(g)
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut fields = Vec::new();
        let u = |f: &mut Vec<u8>, id: u64, v: Option<u64>| {
            if let Some(v) = v {
                varint::write_u64(f, id);
                varint::write_u64(f, v);
            }
        };
        let i = |f: &mut Vec<u8>, id: u64, v: Option<i64>| {
            if let Some(v) = v {
                varint::write_u64(f, id);
                varint::write_i64(f, v);
            }
        };
        u(&mut fields, 0, self.flags);
        if let Some(uuid) = &self.uuid {
            varint::write_u64(&mut fields, 1);
            for &b in &uuid.0 {
                varint::write_u64(&mut fields, u64::from(b));
            }
        }
        i(&mut fields, 2, self.gno);
        if let Some(t) = &self.tag {
            varint::write_u64(&mut fields, 3);
            varint::write_u64(&mut fields, t.as_str().len() as u64);
            fields.extend_from_slice(t.as_str().as_bytes());
        }
        i(&mut fields, 4, self.last_committed);
        i(&mut fields, 5, self.sequence_number);
        u(&mut fields, 6, self.immediate_commit_timestamp);
        u(&mut fields, 7, self.original_commit_timestamp);
        u(&mut fields, 8, self.transaction_length);
        u(&mut fields, 9, self.immediate_server_version);
        u(&mut fields, 10, self.original_server_version);
        u(&mut fields, 11, self.commit_group_ticket);
        let mut head = Vec::new();
        varint::write_u64(&mut head, self.serialization_version);
        let mut tail = Vec::new();
        varint::write_u64(&mut tail, self.last_non_ignorable_field);
        tail.extend_from_slice(&fields);
        // The size counts itself: grow its encoding until it is stable.
        let mut size = (head.len() + tail.len() + 1) as u64;
        loop {
            let mut s = Vec::new();
            varint::write_u64(&mut s, size);
            let total = (head.len() + s.len() + tail.len()) as u64;
            if total == size {
                out.extend_from_slice(&head);
                out.extend_from_slice(&s);
                out.extend_from_slice(&tail);
                return;
            }
            size = total;
        }
    }
}
