//! TRANSACTION_PAYLOAD (40, MySQL 8.0.20+ binlog_transaction_compression): a whole transaction's
//! events, compressed (zstd) or not, behind a header of (type, length, value) fields.

use crate::binlog::compress::zstd_inflate;
use crate::binlog::error::BodyError;
use crate::binlog::event::Event;
use crate::codec::Reader;

#[derive(Debug, Clone, PartialEq)]
pub struct TransactionPayload {
    /// The header fields as stored, up to and including the end mark.
    pub header: Vec<u8>,
    /// 0 zstd, 255 none.
    pub compression: u64,
    pub uncompressed_size: u64,
    pub payload_size: u64,
    /// The payload as stored.
    pub payload: Vec<u8>,
    /// The payload's events, decoded; filled in by the decoder.
    pub events: Vec<Event>,
}

pub const COMPRESSION_ZSTD: u64 = 0;
pub const COMPRESSION_NONE: u64 = 255;

mod field {
    pub const END_MARK: u64 = 0;
    pub const PAYLOAD_SIZE: u64 = 1;
    pub const COMPRESSION_TYPE: u64 = 2;
    pub const UNCOMPRESSED_SIZE: u64 = 3;
}

impl TransactionPayload {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let (mut compression, mut uncompressed_size, mut payload_size) = (COMPRESSION_NONE, 0, None);
        loop {
            let t = r.lenenc_len("payload_field_type")?;
            if t == field::END_MARK {
                break;
            }
            let v = r.lenenc_bytes("payload_field")?;
            let n = Reader::new(v).lenenc_len("payload_field_value")?;
            match t {
                field::PAYLOAD_SIZE => payload_size = Some(n),
                field::COMPRESSION_TYPE => compression = n,
                field::UNCOMPRESSED_SIZE => uncompressed_size = n,
                _ => {}
            }
        }
        let header = body[..r.position()].to_vec();
        let payload = r.rest().to_vec();
        let payload_size = payload_size.unwrap_or(payload.len() as u64);
        if payload_size != payload.len() as u64 {
            return Err(BodyError::invalid("payload_size", format!("says {payload_size}, {} present", payload.len())));
        }
        Ok(TransactionPayload { header, compression, uncompressed_size, payload_size, payload, events: Vec::new() })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.header);
        out.extend_from_slice(&self.payload);
    }

    /// The uncompressed events, as bytes.
    pub fn inflate(&self) -> Result<Vec<u8>, BodyError> {
        match self.compression {
            COMPRESSION_ZSTD => zstd_inflate(&self.payload, self.uncompressed_size),
            COMPRESSION_NONE => Ok(self.payload.clone()),
            other => Err(BodyError::invalid("compression_type", format!("{other}"))),
        }
    }
}
