//! One decoded event: where it was, its header, its typed body and its checksum; and how to
//! write it back or build a new one.

use super::checksum::{event_crc, ChecksumAlg, CHECKSUM_LEN};
use super::event_type::EventType;
use super::events::EventBody;
use super::header::{EventHeader, HEADER_LEN_V4};

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Offset of the event in its file (or in its transaction payload).
    pub offset: u64,
    pub header: EventHeader,
    /// The type the body was decoded as: the header's, except in files of MySQL's pre-GA
    /// numbering, where the format description maps it.
    pub kind: EventType,
    /// 19, or 13 in v1 files.
    pub header_len: usize,
    pub body: EventBody,
    /// The stored checksum, when there is one.
    pub checksum: Option<u32>,
}

impl Event {
    /// Builds a v4 event: the size is computed on encode, and the checksum when `checksum` is
    /// CRC32.
    pub fn new(header: EventHeader, body: EventBody, checksum: ChecksumAlg) -> Event {
        let checksum = match checksum {
            ChecksumAlg::None => None,
            ChecksumAlg::Crc32 => Some(0),
        };
        Event { offset: 0, header, kind: header.event_type, header_len: HEADER_LEN_V4, body, checksum }
    }

    pub fn event_type(&self) -> EventType {
        self.kind
    }

    /// Writes the event: header with its size recomputed, body, and (when the event has one) a
    /// checksum recomputed over the new bytes. A FORMAT_DESCRIPTION whose algorithm is NONE
    /// keeps the four bytes it was stored with, as servers do not compute them.
    pub fn encode(&self) -> Vec<u8> {
        let mut body = Vec::new();
        self.body.encode(&mut body);
        let csum_len = if self.checksum.is_some() { CHECKSUM_LEN } else { 0 };
        let mut header = self.header;
        header.event_size = (self.header_len + body.len() + csum_len) as u32;
        let mut out = Vec::with_capacity(header.event_size as usize);
        header.write(&mut out, self.header_len);
        out.extend_from_slice(&body);
        if let Some(stored) = self.checksum {
            let is_fde = self.header.event_type == EventType::FORMAT_DESCRIPTION;
            let crc_off = matches!(&self.body, EventBody::FormatDescription(f) if f.checksum_alg == Some(0));
            let c = if crc_off { stored } else { event_crc(&out, is_fde) };
            out.extend_from_slice(&c.to_le_bytes());
        }
        out
    }
}
