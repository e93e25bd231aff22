//! The applied point a node persists once the binlog files it applied are synced: from there
//! the Raft log may forget what it held, and a restart applies the log again from there.
//!
//! In: the Raft side of the point (the applied log id and membership, serialized by the node:
//! opaque here) and where the store ended (its files, the last of them up to an offset). Out:
//! the bytes of `raft.applied`, written with [`crate::store::disk::write_atomically`], and back.
//! A snapshot installed is committed by writing its checkpoint: the files' list is the truth a
//! restart takes the directory back to ([`crate::store::cut_to`]).
//!
//! ```text
//! magic "BRCK" | version u32 | raft length u32 | raft | file count u32 | (name length u16 | name)* | last end u64 | CRC-32 u32
//! ```

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
    /// The store's files, in order (none yet: empty).
    pub files: Vec<String>,
    /// Where the last of them ended.
    pub last_end: u64,
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
        let mut out = Vec::with_capacity(30 + self.raft.len() + self.files.iter().map(|f| 2 + f.len()).sum::<usize>());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        // The node's log id and membership are a few hundred bytes; names at most 255.
        out.extend_from_slice(&u32::try_from(self.raft.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&self.raft);
        out.extend_from_slice(&u32::try_from(self.files.len()).unwrap_or(u32::MAX).to_le_bytes());
        for name in &self.files {
            out.extend_from_slice(&u16::try_from(name.len()).unwrap_or(u16::MAX).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
        }
        out.extend_from_slice(&self.last_end.to_le_bytes());
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
        let count = r.u32("file count").map_err(|_| CheckpointError::Malformed("file count"))?;
        let mut files = Vec::new();
        for _ in 0..count {
            let n = usize::from(r.u16("name length").map_err(|_| CheckpointError::Malformed("name length"))?);
            let name = r.take(n, "name").map_err(|_| CheckpointError::Malformed("file name"))?;
            files.push(String::from_utf8(name.to_vec()).map_err(|_| CheckpointError::Malformed("file name"))?);
        }
        let last_end = r.u64("end").map_err(|_| CheckpointError::Malformed("file end"))?;
        if !r.is_empty() {
            return Err(CheckpointError::Malformed("trailing bytes"));
        }
        Ok(Checkpoint { raft, files, last_end })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_every_damage() {
        for c in [Checkpoint::default(), Checkpoint { raft: b"{\"log_id\":7}".to_vec(), files: vec!["mariadb-bin.000002".into(), "mariadb-bin.000003".into()], last_end: 12_345 }] {
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
