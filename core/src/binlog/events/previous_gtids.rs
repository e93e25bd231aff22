//! PREVIOUS_GTIDS (35, MySQL): the GTID set of all files before this one.

use crate::binlog::error::BodyError;
use crate::gtid::mysql::{BinaryFormat, GtidSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousGtids {
    pub set: GtidSet,
    pub format: BinaryFormat,
}

impl PreviousGtids {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let (set, format) = GtidSet::decode(body).map_err(|e| BodyError::invalid("gtid_set", e.to_string()))?;
        Ok(PreviousGtids { set, format })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        self.set.encode(self.format, out);
    }
}
