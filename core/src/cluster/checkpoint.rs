//! The applied point a node persists once the binlog files it applied are synced: from there
//! the Raft log may forget what it held, and a restart applies the log again from there.
//!
//! In: the Raft side of the point (the applied log id and membership, serialized by the node:
//! opaque here) and where the store ended (its last file and that file's end). Out: the bytes
//! of `raft.applied`, written with [`crate::store::disk::write_atomically`], and back.
//!
//! ```text
//! magic "BRCK" | version u32 | raft length u32 | raft | name length u16 | name | end u64 | CRC-32 u32
//! ```
//! An empty name: the point before any file.

use crate::codec::Reader;
use std::fmt;

/// The checkpoint's file in the store's directory.
pub const CHECKPOINT: &str = "raft.applied";
const MAGIC: &[u8; 4] = b"BRCK";
const VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checkpoint {
    /// The applied log id and membership, as the node serializes them.
    pub raft: Vec<u8>,
    /// The last file of the store and where it ended (None: no file yet).
    pub store: Option<(String, u64)>,
}

/// Why `raft.applied` does not read. It names what the node's files hold durably: a node never
/// starts over a damaged one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointError {
    BadMagic,
    Version(u32),
    BadChecksum,
    Malformed(&'static str),
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::BadMagic => write!(f, "{CHECKPOINT}: not a binraft checkpoint (bad magic)"),
            CheckpointError::Version(v) => write!(f, "{CHECKPOINT}: version {v} (this binraft reads {VERSION})"),
            CheckpointError::BadChecksum => write!(f, "{CHECKPOINT}: bad checksum"),
            CheckpointError::Malformed(what) => write!(f, "{CHECKPOINT}: malformed {what}"),
        }
    }
}

impl std::error::Error for CheckpointError {}

impl Checkpoint {
    pub fn encode(&self) -> Vec<u8> {
        let (name, end) = match &self.store {
            Some((n, e)) => (n.as_str(), *e),
            None => ("", 0),
        };
        let mut out = Vec::with_capacity(30 + self.raft.len() + name.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        // The node's log id and membership are a few hundred bytes; names at most 255.
        out.extend_from_slice(&u32::try_from(self.raft.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&self.raft);
        out.extend_from_slice(&u16::try_from(name.len()).unwrap_or(u16::MAX).to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&end.to_le_bytes());
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        if bytes.len() < 8 || &bytes[..4] != MAGIC {
            return Err(CheckpointError::BadMagic);
        }
        let Some((body, crc)) = bytes.split_last_chunk::<4>() else { return Err(CheckpointError::Malformed("length")) };
        if crc32fast::hash(body) != u32::from_le_bytes(*crc) {
            return Err(CheckpointError::BadChecksum);
        }
        let mut r = Reader::new(&body[4..]);
        let version = r.u32("version").map_err(|_| CheckpointError::Malformed("version"))?;
        if version != VERSION {
            return Err(CheckpointError::Version(version));
        }
        let n = r.u32("raft length").map_err(|_| CheckpointError::Malformed("raft length"))? as usize;
        let raft = r.take(n, "raft").map_err(|_| CheckpointError::Malformed("raft state"))?.to_vec();
        let n = usize::from(r.u16("name length").map_err(|_| CheckpointError::Malformed("name length"))?);
        let name = r.take(n, "name").map_err(|_| CheckpointError::Malformed("file name"))?;
        let name = String::from_utf8(name.to_vec()).map_err(|_| CheckpointError::Malformed("file name"))?;
        let end = r.u64("end").map_err(|_| CheckpointError::Malformed("file end"))?;
        if !r.is_empty() {
            return Err(CheckpointError::Malformed("trailing bytes"));
        }
        Ok(Checkpoint { raft, store: (!name.is_empty()).then_some((name, end)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_every_damage() {
        for c in [Checkpoint::default(), Checkpoint { raft: b"{\"log_id\":7}".to_vec(), store: Some(("mariadb-bin.000003".into(), 12_345)) }] {
            let b = c.encode();
            assert_eq!(Checkpoint::decode(&b), Ok(c.clone()));
            for cut in 0..b.len() {
                assert!(Checkpoint::decode(&b[..cut]).is_err(), "cut at {cut}");
            }
            for i in 0..b.len() * 8 {
                let mut d = b.clone();
                d[i / 8] ^= 1 << (i % 8);
                assert!(Checkpoint::decode(&d).is_err(), "bit {i}");
            }
        }
    }
}
