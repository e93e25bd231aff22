//! The committed log id a member last knew, kept without a sync: on a restart the member
//! applies its log up to it before it serves, so its replicas never see it hold less than it
//! showed them before. A lost or torn write only leaves an older committed id (or none), which
//! is still committed: the value is a hint that can be stale, never wrong.
//!
//! ```text
//! raft.committed: magic "BRCM" | length u32 | log id (serialized by the node) | CRC-32 u32
//! ```

use crate::store::disk::{Disk, DiskResult};

pub const COMMITTED: &str = "raft.committed";
const MAGIC: &[u8; 4] = b"BRCM";

/// The slot's bytes for `value`.
pub fn encode(value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + value.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&u32::try_from(value.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(value);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The value in the slot's bytes, if they are whole (a torn or damaged slot is none).
pub fn decode(bytes: &[u8]) -> Option<Vec<u8>> {
    let len = u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?) as usize;
    let end = 8usize.checked_add(len)?;
    let crc = u32::from_le_bytes(bytes.get(end..end + 4)?.try_into().ok()?);
    (&bytes[..4] == MAGIC && crc32fast::hash(&bytes[..end]) == crc).then(|| bytes[8..end].to_vec())
}

/// Overwrites the slot with `value`, unsynced.
pub fn save(disk: &dyn Disk, value: &[u8]) -> DiskResult<()> {
    let f = match disk.open(COMMITTED) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => disk.create(COMMITTED)?,
        Err(e) => return Err(e),
    };
    f.write_at(0, &encode(value))
}

/// The value last saved, if the slot reads whole.
pub fn load(disk: &dyn Disk) -> DiskResult<Option<Vec<u8>>> {
    Ok(crate::store::disk::read_whole(disk, COMMITTED)?.and_then(|b| decode(&b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemDisk;

    #[test]
    fn a_torn_or_lost_slot_reads_as_none_never_as_garbage() {
        let b = encode(b"log id 42");
        assert_eq!(decode(&b), Some(b"log id 42".to_vec()));
        for cut in 0..b.len() {
            assert_eq!(decode(&b[..cut]), None, "cut {cut}");
        }
        for i in 0..b.len() * 8 {
            let mut d = b.clone();
            d[i / 8] ^= 1 << (i % 8);
            assert_eq!(decode(&d), None, "bit {i}");
        }
        // A longer value written over a shorter one keeps reading the whole slot.
        let disk = MemDisk::new();
        save(&disk, b"a much longer first value").unwrap();
        save(&disk, b"short").unwrap();
        assert_eq!(load(&disk).unwrap(), Some(b"short".to_vec()));
        // Never synced: a crash may lose it, and then there is none.
        disk.crash(1);
        assert!(matches!(load(&disk), Ok(None) | Ok(Some(_))));
    }
}
