//! The store's journal: a preallocated file that makes appends durable with one small
//! overwrite and one fdatasync, where appending to a binlog file would also commit the file
//! system's metadata (its new size) on every sync.
//!
//! Layout: a header block of [`HEADER_LEN`] bytes, two slots of [`SLOT_LEN`] (magic, version,
//! generation, CRC-32; generation `g` is written to slot `g % 2`, so a torn header write leaves
//! the other slot whole), then records from [`HEADER_LEN`] on, each one batch of whole groups:
//!
//! ```text
//! magic "BRJR" | generation u64 | payload length u32 | CRC-32 of generation, length, payload u32
//! payload: count u32, then per group: name length u16, name, offset u64, length u32, bytes
//! ```
//!
//! A batch is written to the journal and synced, then to its binlog files without a sync. When
//! the journal is full the binlog files are synced (a checkpoint) and the journal starts over
//! under the next generation; on open, every record of the current generation is written again
//! to its file. A scan stops at the first record that is torn, damaged or of another
//! generation, so a record is replayed whole or not at all.

use crate::codec::Reader;

pub const HEADER_LEN: usize = 4096;
pub const SLOT_LEN: usize = HEADER_LEN / 2;
const HEADER_MAGIC: &[u8; 4] = b"BRJH";
const RECORD_MAGIC: &[u8; 4] = b"BRJR";
const VERSION: u32 = 1;
/// Magic, generation, payload length, CRC.
const RECORD_HEAD: usize = 4 + 8 + 4 + 4;

/// One group of a batch: bytes for `file` at `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub file: String,
    pub offset: u64,
    pub bytes: Vec<u8>,
}

/// Where the header slot of `generation` goes.
pub fn slot_offset(generation: u64) -> u64 {
    (generation % 2) * SLOT_LEN as u64
}

/// The header slot of a journal at `generation`.
pub fn encode_header(generation: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(SLOT_LEN);
    h.extend_from_slice(HEADER_MAGIC);
    h.extend_from_slice(&VERSION.to_le_bytes());
    h.extend_from_slice(&generation.to_le_bytes());
    let crc = crc32fast::hash(&h);
    h.extend_from_slice(&crc.to_le_bytes());
    h.resize(SLOT_LEN, 0);
    h
}

/// Why a journal header slot does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderError {
    Short,
    BadMagic,
    BadChecksum,
    Version(u32),
}

impl std::fmt::Display for HeaderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HeaderError::Short => write!(f, "journal header: too short"),
            HeaderError::BadMagic => write!(f, "not a binraft journal (bad magic)"),
            HeaderError::BadChecksum => write!(f, "journal header: bad checksum"),
            HeaderError::Version(v) => write!(f, "journal version {v} (this binraft reads {VERSION})"),
        }
    }
}

/// The journal's generation: the newer of the two header slots that read.
pub fn current_generation(header: &[u8]) -> Result<u64, HeaderError> {
    let a = decode_header(header.get(..SLOT_LEN).unwrap_or_default());
    let b = decode_header(header.get(SLOT_LEN..HEADER_LEN).unwrap_or_default());
    match (a, b) {
        (Ok(x), Ok(y)) => Ok(x.max(y)),
        (Ok(x), Err(_)) | (Err(_), Ok(x)) => Ok(x),
        (Err(e), Err(_)) => Err(e),
    }
}

/// The generation a header slot names, or why it cannot be read.
pub fn decode_header(block: &[u8]) -> Result<u64, HeaderError> {
    let Some(h) = block.get(..20) else { return Err(HeaderError::Short) };
    if &h[..4] != HEADER_MAGIC {
        return Err(HeaderError::BadMagic);
    }
    let version = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
    let generation = u64::from_le_bytes([h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]]);
    if u32::from_le_bytes([h[16], h[17], h[18], h[19]]) != crc32fast::hash(&h[..16]) {
        return Err(HeaderError::BadChecksum);
    }
    if version != VERSION {
        return Err(HeaderError::Version(version));
    }
    Ok(generation)
}

/// The record of one batch, under `generation`.
pub fn encode_record(generation: u64, entries: &[(&str, u64, &[u8])]) -> Vec<u8> {
    let payload_len = record_len(entries) - RECORD_HEAD;
    // The journal takes records of at most a quarter of its size (at most 1 GiB), and file
    // names of at most 255 bytes (store::names): the casts below cannot truncate.
    assert!(u32::try_from(payload_len).is_ok() && entries.iter().all(|(f, _, b)| f.len() <= usize::from(u16::MAX) && u32::try_from(b.len()).is_ok()));
    let mut out = Vec::with_capacity(RECORD_HEAD + payload_len);
    out.extend_from_slice(RECORD_MAGIC);
    out.extend_from_slice(&generation.to_le_bytes());
    out.extend_from_slice(&(payload_len as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for (file, offset, bytes) in entries {
        out.extend_from_slice(&(file.len() as u16).to_le_bytes());
        out.extend_from_slice(file.as_bytes());
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        out.extend_from_slice(bytes);
    }
    let crc = record_crc(&out[4..16], &out[RECORD_HEAD..]);
    out[16..20].copy_from_slice(&crc.to_le_bytes());
    out
}

fn record_crc(generation_and_len: &[u8], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(generation_and_len);
    h.update(payload);
    h.finalize()
}

/// How much a batch of `entries` takes in the journal.
pub fn record_len(entries: &[(&str, u64, &[u8])]) -> usize {
    RECORD_HEAD + 4 + entries.iter().map(|(f, _, b)| 2 + f.len() + 8 + 4 + b.len()).sum::<usize>()
}

/// What a scan of the records found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scan {
    /// Every group of every whole record of the generation, in order.
    pub entries: Vec<Entry>,
    pub records: usize,
    /// Where the records end (relative to the start of `body`).
    pub end: usize,
}

/// Reads the records of `generation` in `body` (the journal after its header) up to the first
/// one that is torn, damaged or of another generation.
pub fn scan(body: &[u8], generation: u64) -> Scan {
    let mut s = Scan::default();
    let mut pos = 0usize;
    while let Some(head) = body.get(pos..pos + RECORD_HEAD) {
        if &head[..4] != RECORD_MAGIC || head[4..12] != generation.to_le_bytes() {
            break;
        }
        let len = u32::from_le_bytes([head[12], head[13], head[14], head[15]]) as usize;
        let crc = u32::from_le_bytes([head[16], head[17], head[18], head[19]]);
        let Some(payload) = body.get(pos + RECORD_HEAD..pos + RECORD_HEAD + len) else { break };
        if record_crc(&head[4..16], payload) != crc {
            break;
        }
        let Some(entries) = parse_payload(payload) else { break };
        s.entries.extend(entries);
        s.records += 1;
        pos += RECORD_HEAD + len;
    }
    s.end = pos;
    s
}

fn parse_payload(payload: &[u8]) -> Option<Vec<Entry>> {
    let mut r = Reader::new(payload);
    let n = r.u32("count").ok()?;
    let mut out = Vec::new();
    for _ in 0..n {
        let name_len = r.u16("name length").ok()? as usize;
        let file = String::from_utf8(r.take(name_len, "name").ok()?.to_vec()).ok()?;
        let offset = r.u64("offset").ok()?;
        let len = r.u32("length").ok()? as usize;
        let bytes = r.take(len, "bytes").ok()?.to_vec();
        out.push(Entry { file, offset, bytes });
    }
    r.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(generation: u64, batches: &[Vec<(&str, u64, &[u8])>]) -> Vec<u8> {
        batches.iter().flat_map(|b| encode_record(generation, b)).collect()
    }

    #[test]
    fn header_round_trips_and_refuses_damage() {
        let h = encode_header(7);
        assert_eq!(h.len(), SLOT_LEN);
        assert_eq!(decode_header(&h), Ok(7));
        // Two slots: the newer wins; a torn newer slot leaves the older.
        let mut block = vec![0u8; HEADER_LEN];
        for g in [7u64, 8] {
            let at = slot_offset(g) as usize;
            block[at..at + SLOT_LEN].copy_from_slice(&encode_header(g));
        }
        assert_eq!(current_generation(&block), Ok(8));
        block[slot_offset(8) as usize + 3] = 0;
        assert_eq!(current_generation(&block), Ok(7));
        assert!(current_generation(&[0u8; HEADER_LEN]).is_err());
        let mut bad = h.clone();
        bad[9] ^= 1;
        assert_eq!(decode_header(&bad), Err(HeaderError::BadChecksum));
        assert_eq!(decode_header(&[0u8; HEADER_LEN]), Err(HeaderError::BadMagic));
        assert!(decode_header(b"BRJH").is_err());
    }

    #[test]
    fn records_scan_back_whole_and_stop_at_the_first_bad_one() {
        let b1: Vec<(&str, u64, &[u8])> = vec![("bin.000001", 4, b"group one"), ("bin.000001", 13, b"two")];
        let b2: Vec<(&str, u64, &[u8])> = vec![("bin.000002", 4, b"three")];
        assert_eq!(record_len(&b1), encode_record(1, &b1).len());
        let body = journal(3, &[b1.clone(), b2.clone()]);
        let s = scan(&body, 3);
        assert_eq!((s.records, s.end), (2, body.len()));
        assert_eq!(s.entries.iter().map(|e| (e.file.as_str(), e.offset, &e.bytes[..])).collect::<Vec<_>>(), [b1.clone(), b2.clone()].concat());
        // Another generation: nothing. Zeros after the records: a clean end.
        assert_eq!(scan(&body, 2).records, 0);
        let mut padded = body.clone();
        padded.extend_from_slice(&[0; 100]);
        assert_eq!(scan(&padded, 3).records, 2);
        // Every cut and every flipped byte of the second record: the first survives alone.
        let first = encode_record(3, &b1).len();
        for cut in first..body.len() {
            assert_eq!(scan(&body[..cut], 3).records, 1, "cut at {cut}");
        }
        for i in first..body.len() {
            let mut d = body.clone();
            d[i] ^= 0x40;
            assert_eq!(scan(&d, 3).records, 1, "flip at {i}");
        }
        // An older generation's records after the newer ones are not read.
        let mut mixed = journal(4, std::slice::from_ref(&b2));
        mixed.extend_from_slice(&journal(3, std::slice::from_ref(&b1)));
        assert_eq!(scan(&mixed, 4).records, 1);
    }
}
