//! Framing: cutting a byte sequence into events and checking their checksums, without decoding
//! bodies (except FORMAT_DESCRIPTION, which says how to frame what follows).
//!
//! In: the bytes of a file, or of a stream in chunks of any size. Out: [`Frame`]s, each a whole
//! event with a verified checksum, or a [`BinlogError`] naming the offset. The state carried from
//! one frame to the next is the header length and checksum algorithm of the last
//! FORMAT_DESCRIPTION.

use super::checksum::{event_crc, ChecksumAlg, CHECKSUM_LEN};
use super::error::{BinlogError, BodyError};
use super::event_type::EventType;
use super::events::format_description::FormatDescription;
use super::header::{EventHeader, HEADER_LEN_V1, HEADER_LEN_V4};
use crate::codec::Reader;

/// The four bytes every binlog file starts with.
pub const BINLOG_MAGIC: [u8; 4] = [0xfe, b'b', b'i', b'n'];

/// The largest event accepted by default: MySQL's and MariaDB's max_allowed_packet ceiling (1 GiB)
/// plus room for the header.
pub const DEFAULT_MAX_EVENT_SIZE: u32 = (1 << 30) + 4096;

/// One whole event, borrowed from the input.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// Offset of the event's first byte in the file (or stream position).
    pub offset: u64,
    pub header: EventHeader,
    /// The whole event, header and checksum included.
    pub bytes: &'a [u8],
    /// Length of the header in `bytes`.
    pub header_len: usize,
    /// The stored checksum, when the event carries one.
    pub checksum: Option<u32>,
}

impl<'a> Frame<'a> {
    /// The event body: after the header, before the checksum.
    pub fn body(&self) -> &'a [u8] {
        let end = self.bytes.len() - if self.checksum.is_some() { CHECKSUM_LEN } else { 0 };
        &self.bytes[self.header_len..end]
    }

    /// Offset just past this event.
    pub fn end_offset(&self) -> u64 {
        self.offset + self.bytes.len() as u64
    }
}

/// The state framing carries from event to event.
#[derive(Debug, Clone)]
pub struct FrameState {
    header_len: usize,
    checksum: ChecksumAlg,
    max_event_size: u32,
    fde: Option<FormatDescription>,
    /// The next event is the first of a file: it decides the binlog version.
    at_file_start: bool,
    /// Checksums are verified (else only read).
    verify: bool,
}

/// What [`FrameState::frame`] found at the start of its input.
#[derive(Debug)]
pub enum Framed<'a> {
    Event(Frame<'a>),
    /// The input ends before the event does; `need` bytes from its start would complete it.
    Incomplete { need: usize },
}

impl FrameState {
    /// State for a file after its magic: the first event decides the version.
    pub fn for_file() -> Self {
        FrameState {
            header_len: HEADER_LEN_V4,
            checksum: ChecksumAlg::None,
            max_event_size: DEFAULT_MAX_EVENT_SIZE,
            fde: None,
            at_file_start: true,
            verify: true,
        }
    }

    /// State for a replication stream, whose first event (an artificial ROTATE) comes before
    /// the FORMAT_DESCRIPTION: the checksum is the one negotiated with the primary.
    pub fn for_stream(checksum: ChecksumAlg) -> Self {
        FrameState { checksum, at_file_start: false, ..FrameState::for_file() }
    }

    /// State for the events inside a transaction payload: the outer format, no checksums.
    pub fn inner(fde: FormatDescription) -> Self {
        FrameState { at_file_start: false, fde: Some(fde), ..FrameState::for_file() }
    }

    /// Whether checksums are verified (on by default). Off for bytes verified before, a store's
    /// served to replicas, which verify them again themselves; MariaDB's dump thread does not
    /// verify either unless master_verify_checksum is set.
    pub fn set_verify(&mut self, on: bool) {
        self.verify = on;
    }

    pub fn with_max_event_size(mut self, max: u32) -> Self {
        self.max_event_size = max;
        self
    }

    pub fn header_len(&self) -> usize {
        self.header_len
    }

    pub fn checksum(&self) -> ChecksumAlg {
        self.checksum
    }

    /// The last FORMAT_DESCRIPTION seen (or implied by a START_EVENT_V3).
    pub fn format(&self) -> Option<&FormatDescription> {
        self.fde.as_ref()
    }

    /// Frames the event at the start of `input`, which sits at `offset`.
    pub fn frame<'a>(&mut self, input: &'a [u8], offset: u64) -> Result<Framed<'a>, BinlogError> {
        if self.at_file_start {
            return self.frame_first(input, offset);
        }
        self.frame_with(input, offset, self.header_len)
    }

    fn frame_first<'a>(&mut self, input: &'a [u8], offset: u64) -> Result<Framed<'a>, BinlogError> {
        // The type and size sit at the same place in every header version.
        if input.len() < HEADER_LEN_V1 {
            return Ok(Framed::Incomplete { need: HEADER_LEN_V1 });
        }
        let event_type = EventType(input[4]);
        let event_size = u32::from_le_bytes([input[9], input[10], input[11], input[12]]);
        if event_type == EventType::START_V3 {
            // v1 (MySQL 3.23) has a 13-byte header, v3 (4.0, 4.1) a 19-byte one; the start
            // event body is 56 bytes in both.
            let header_len = match event_size {
                69 => HEADER_LEN_V1,
                75 => HEADER_LEN_V4,
                _ => return Err(BinlogError::InconsistentLength { offset, event_type, event_size }),
            };
            let framed = self.frame_with(input, offset, header_len)?;
            if let Framed::Event(f) = &framed {
                let mut r = Reader::new(f.body());
                let body_err = |e: BodyError| BinlogError::Body { offset, event_type, error: e };
                let version = r.u16("binlog_version").map_err(|e| body_err(e.into()))?;
                if version != 1 && version != 3 {
                    return Err(BinlogError::UnknownBinlogVersion { offset, version });
                }
                let sv = r.array::<50>("server_version").map_err(|e| body_err(e.into()))?;
                let ts = r.u32("create_timestamp").map_err(|e| body_err(e.into()))?;
                self.fde = Some(FormatDescription::for_old_version(version, sv, ts));
                self.header_len = header_len;
                self.at_file_start = false;
            }
            return Ok(framed);
        }
        let framed = self.frame_with(input, offset, HEADER_LEN_V4)?;
        if matches!(framed, Framed::Event(_)) {
            self.at_file_start = false;
        }
        Ok(framed)
    }

    fn frame_with<'a>(&mut self, input: &'a [u8], offset: u64, header_len: usize) -> Result<Framed<'a>, BinlogError> {
        if input.len() < header_len {
            return Ok(Framed::Incomplete { need: header_len });
        }
        let header = EventHeader::read(input, header_len, offset)?;
        let event_type = header.event_type;
        let size = header.event_size as usize;
        if header.event_size > self.max_event_size || size < header_len {
            return Err(BinlogError::InconsistentLength { offset, event_type, event_size: header.event_size });
        }
        if input.len() < size {
            return Ok(Framed::Incomplete { need: size });
        }
        let bytes = &input[..size];
        if event_type == EventType::FORMAT_DESCRIPTION {
            return self.frame_fde(bytes, offset, header, header_len).map(Framed::Event);
        }
        let checksum = match self.checksum {
            ChecksumAlg::None => None,
            ChecksumAlg::Crc32 => {
                if size < header_len + CHECKSUM_LEN {
                    return Err(BinlogError::InconsistentLength { offset, event_type, event_size: header.event_size });
                }
                let (data, tail) = bytes.split_at(size - CHECKSUM_LEN);
                let found = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
                let expected = if self.verify { event_crc(data, false) } else { found };
                if expected != found {
                    return Err(BinlogError::BadChecksum { offset, event_type, expected, found });
                }
                Some(found)
            }
        };
        Ok(Framed::Event(Frame { offset, header, bytes, header_len, checksum }))
    }

    fn frame_fde<'a>(&mut self, bytes: &'a [u8], offset: u64, header: EventHeader, header_len: usize) -> Result<Frame<'a>, BinlogError> {
        let event_type = header.event_type;
        let body_err = |error| BinlogError::Body { offset, event_type, error };
        let tail = &bytes[header_len..];
        let aware = FormatDescription::body_is_checksum_aware(tail);
        // A checksum-aware server always writes 4 checksum bytes after the algorithm byte, even
        // when the algorithm is NONE.
        let (body, checksum) = if aware {
            if tail.len() < CHECKSUM_LEN {
                return Err(BinlogError::InconsistentLength { offset, event_type, event_size: header.event_size });
            }
            let (b, c) = tail.split_at(tail.len() - CHECKSUM_LEN);
            (b, Some(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
        } else {
            (tail, None)
        };
        let fde = FormatDescription::decode(body, aware).map_err(body_err)?;
        if fde.binlog_version != 4 {
            return Err(BinlogError::UnknownBinlogVersion { offset, version: fde.binlog_version });
        }
        if usize::from(fde.header_len) < HEADER_LEN_V4 {
            return Err(body_err(BodyError::invalid("header_len", format!("{} is shorter than 19", fde.header_len))));
        }
        let alg = fde.checksum().map_err(|algorithm| BinlogError::UnknownChecksum { offset, algorithm })?;
        if alg == ChecksumAlg::Crc32 {
            let found = checksum.unwrap_or(0);
            let expected = event_crc(&bytes[..bytes.len() - CHECKSUM_LEN], true);
            if expected != found {
                return Err(BinlogError::BadChecksum { offset, event_type, expected, found });
            }
        }
        self.header_len = usize::from(fde.header_len);
        self.checksum = alg;
        self.fde = Some(fde);
        Ok(Frame { offset, header, bytes, header_len, checksum })
    }
}

/// Checks and skips the magic at the start of a file.
pub fn check_magic(input: &[u8]) -> Result<(), BinlogError> {
    if input.len() < 4 || input[..4] != BINLOG_MAGIC {
        return Err(BinlogError::NotABinlog { found: input[..input.len().min(4)].to_vec() });
    }
    Ok(())
}

/// Frames every event of a whole file in memory.
#[derive(Debug)]
pub struct FileFrames<'a> {
    input: &'a [u8],
    pos: usize,
    state: FrameState,
    failed: bool,
}

impl<'a> FileFrames<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        FileFrames { input, pos: 0, state: FrameState::for_file(), failed: false }
    }

    pub fn state(&self) -> &FrameState {
        &self.state
    }
}

impl<'a> Iterator for FileFrames<'a> {
    type Item = Result<Frame<'a>, BinlogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if self.pos == 0 {
            if let Err(e) = check_magic(self.input) {
                self.failed = true;
                return Some(Err(e));
            }
            self.pos = 4;
        }
        let rest = &self.input[self.pos..];
        if rest.is_empty() {
            return None;
        }
        let offset = self.pos as u64;
        let r = match self.state.frame(rest, offset) {
            Ok(Framed::Event(f)) => {
                self.pos += f.bytes.len();
                Ok(f)
            }
            Ok(Framed::Incomplete { .. }) => Err(incomplete_error(rest, offset, self.state.header_len())),
            Err(e) => Err(e),
        };
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

/// The error for input that ends inside an event.
pub fn incomplete_error(rest: &[u8], offset: u64, header_len: usize) -> BinlogError {
    // Every header (13 or 19 bytes) holds the type at byte 4 and the size at bytes 9 to 12.
    if rest.len() < header_len.max(HEADER_LEN_V1) {
        return BinlogError::TruncatedHeader { offset, have: rest.len() };
    }
    let event_type = EventType(rest[4]);
    let event_size = u32::from_le_bytes([rest[9], rest[10], rest[11], rest[12]]);
    BinlogError::TruncatedEvent { offset, event_type, event_size, have: rest.len() }
}
