//! ROTATE (4): the next file's name and the position to start at in it. Real ones end a file;
//! artificial ones (flag 0x20) begin every replication stream.

use crate::binlog::error::BodyError;
use crate::codec::Reader;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotate {
    /// Absent in v1 files, where it is always 4.
    pub position: Option<u64>,
    pub next_file: Vec<u8>,
}

impl Rotate {
    pub fn decode(body: &[u8], post_header_len: u8) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let position = if post_header_len >= 8 { Some(r.u64("position")?) } else { None };
        Ok(Rotate { position, next_file: r.rest().to_vec() })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        if let Some(p) = self.position {
            out.extend_from_slice(&p.to_le_bytes());
        }
        out.extend_from_slice(&self.next_file);
    }
}
