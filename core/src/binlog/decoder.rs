//! The stateful decoder: frames events and decodes their bodies, keeping what decoding needs
//! from one event to the next (the format description, the checksum algorithm, the table maps).
//!
//! - [`Decoder::decode_file`]: a whole file in memory, as an iterator of events.
//! - [`StreamDecoder`]: bytes in chunks of any size (from a socket or a file read piecewise):
//!   `handle_bytes`, then `poll_event` until it returns `None`.

use super::checksum::ChecksumAlg;
use super::error::{BinlogError, BodyError};
use super::event::Event;
use super::event_type::EventType;
use super::events::format_description::FormatDescription;
use super::events::rows::RowsEvent;
use super::events::table_map::TableMap;
use super::events::EventBody;
use super::frame::{check_magic, incomplete_error, Frame, FrameState, Framed, BINLOG_MAGIC};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Decoding state across events.
#[derive(Debug, Clone)]
pub struct Decoder {
    frames: FrameState,
    tables: BTreeMap<u64, Arc<TableMap>>,
    decode_rows: bool,
    skim_rows: bool,
}

/// Used before any FORMAT_DESCRIPTION (a stream's artificial ROTATE comes first).
fn default_format() -> &'static FormatDescription {
    use std::sync::OnceLock;
    static F: OnceLock<FormatDescription> = OnceLock::new();
    F.get_or_init(|| FormatDescription::new_v4("", 0, ChecksumAlg::None, true))
}

impl Decoder {
    /// A decoder for a file: the first event sets the format.
    pub fn for_file() -> Self {
        Decoder { frames: FrameState::for_file(), tables: BTreeMap::new(), decode_rows: true, skim_rows: false }
    }

    /// A decoder for a replication stream with the negotiated checksum algorithm.
    pub fn for_stream(checksum: ChecksumAlg) -> Self {
        Decoder { frames: FrameState::for_stream(checksum), tables: BTreeMap::new(), decode_rows: true, skim_rows: false }
    }

    /// Whether rows events are decoded into values (on by default). Off, only framing, headers
    /// and bodies are decoded, and a rows event needs no table map.
    pub fn decode_rows(mut self, on: bool) -> Self {
        self.decode_rows = on;
        self
    }

    /// Rows events decoded to their head only (table id and flags; implies no row values):
    /// for a reader that passes events on, which need not copy or inflate row data.
    /// Drops every table map it keeps (a stream reader does at each group's end: a group's rows
    /// refer only to its own TABLE_MAPs).
    pub fn forget_tables(&mut self) {
        self.tables.clear();
    }

    pub fn skim_rows(mut self, on: bool) -> Self {
        self.skim_rows = on;
        if on {
            self.decode_rows = false;
        }
        self
    }

    pub fn frame_state(&self) -> &FrameState {
        &self.frames
    }

    pub fn frame_state_mut(&mut self) -> &mut FrameState {
        &mut self.frames
    }

    /// The table map in force for `table_id`.
    pub fn table(&self, table_id: u64) -> Option<&TableMap> {
        self.tables.get(&table_id).map(|t| &**t)
    }

    /// Decodes every event of a whole file.
    pub fn decode_file(bytes: &[u8]) -> FileEvents<'_> {
        FileEvents { input: bytes, pos: 0, decoder: Decoder::for_file(), done: false }
    }

    /// Frames and decodes the event at the start of `input` (which is at `offset`).
    pub fn decode_next(&mut self, input: &[u8], offset: u64) -> Result<Option<Event>, BinlogError> {
        match self.frames.frame(input, offset)? {
            Framed::Event(f) => self.decode_frame(&f).map(Some),
            Framed::Incomplete { .. } => Ok(None),
        }
    }

    /// Decodes the body of a framed event and updates the table state.
    pub fn decode_frame(&mut self, f: &Frame<'_>) -> Result<Event, BinlogError> {
        let fde = self.frames.format().unwrap_or_else(|| default_format());
        let t = fde.canonical_type(f.header.event_type);
        let err = |error| BinlogError::Body { offset: f.offset, event_type: t, error };
        let skimmed = if self.skim_rows { EventBody::decode_rows_head(t, f.body(), fde) } else { None };
        let mut body = match skimmed {
            Some(b) => b.map_err(err)?,
            None => EventBody::decode(t, f.body(), fde).map_err(err)?,
        };
        let mut tables = Tables { maps: &mut self.tables, decode_rows: self.decode_rows };
        tables.apply(&mut body, fde).map_err(err)?;
        Ok(Event { offset: f.offset, header: f.header, kind: t, header_len: f.header_len, body, checksum: f.checksum })
    }
}

/// The table state an event updates or reads, borrowed apart from the frame state.
struct Tables<'a> {
    maps: &'a mut BTreeMap<u64, Arc<TableMap>>,
    decode_rows: bool,
}

impl Tables<'_> {
    fn apply(&mut self, body: &mut EventBody, fde: &FormatDescription) -> Result<(), BodyError> {
        match body {
            EventBody::TableMap(tm) => {
                self.maps.insert(tm.table_id, std::sync::Arc::clone(tm));
            }
            EventBody::Rows(rows) if self.decode_rows => {
                let tm = self.maps.get(&rows.table_id).ok_or(BodyError::UnknownTable { table_id: rows.table_id })?;
                match RowsEvent::undecodable_reason(tm) {
                    Some(why) => rows.undecodable = Some(why),
                    None => rows.rows = rows.decode_rows(tm)?,
                }
            }
            EventBody::TransactionPayload(p) => {
                let inner = p.inflate()?;
                p.events = self.decode_payload(&inner, fde)?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A transaction payload's events: v4 headers, no checksums, the outer format.
    fn decode_payload(&mut self, bytes: &[u8], fde: &FormatDescription) -> Result<Vec<Event>, BodyError> {
        let mut state = FrameState::inner(fde.clone());
        let mut events = Vec::new();
        let mut pos = 0usize;
        while pos < bytes.len() {
            let rest = &bytes[pos..];
            let wrap = |e: BinlogError| BodyError::invalid("payload", e.to_string());
            let f = match state.frame(rest, pos as u64).map_err(wrap)? {
                Framed::Event(f) => f,
                Framed::Incomplete { .. } => return Err(wrap(incomplete_error(rest, pos as u64, 19))),
            };
            let t = fde.canonical_type(f.header.event_type);
            if t == EventType::TRANSACTION_PAYLOAD || t == EventType::FORMAT_DESCRIPTION {
                return Err(BodyError::invalid("payload", format!("{t} inside a transaction payload")));
            }
            let mut body = EventBody::decode(t, f.body(), fde)
                .map_err(|e| BodyError::invalid("payload", format!("at {pos}: {t}: {e}")))?;
            self.apply(&mut body, fde).map_err(|e| BodyError::invalid("payload", format!("at {pos}: {t}: {e}")))?;
            events.push(Event { offset: f.offset, header: f.header, kind: t, header_len: f.header_len, body, checksum: f.checksum });
            pos += f.bytes.len();
        }
        Ok(events)
    }
}

/// The events of a whole file. After the first error it stops.
#[derive(Debug)]
pub struct FileEvents<'a> {
    input: &'a [u8],
    pos: usize,
    decoder: Decoder,
    done: bool,
}

impl FileEvents<'_> {
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Offset just past the last event returned.
    pub fn position(&self) -> usize {
        self.pos
    }
}

impl Iterator for FileEvents<'_> {
    type Item = Result<Event, BinlogError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.pos == 0 {
            if let Err(e) = check_magic(self.input) {
                self.done = true;
                return Some(Err(e));
            }
            self.pos = BINLOG_MAGIC.len();
        }
        let rest = &self.input[self.pos..];
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        let r = match self.decoder.decode_next(rest, self.pos as u64) {
            Ok(Some(ev)) => {
                self.pos += ev.header.event_size as usize;
                return Some(Ok(ev));
            }
            Ok(None) => Err(incomplete_error(rest, self.pos as u64, self.decoder.frames.header_len())),
            Err(e) => Err(e),
        };
        self.done = true;
        Some(r)
    }
}

/// A decoder fed bytes in chunks. It buffers at most one incomplete event.
#[derive(Debug)]
pub struct StreamDecoder {
    decoder: Decoder,
    buf: Vec<u8>,
    start: usize,
    /// Offset of `buf[start]`.
    offset: u64,
    expect_magic: bool,
    failed: bool,
}

impl StreamDecoder {
    /// For the bytes of a file, magic first.
    pub fn for_file() -> Self {
        StreamDecoder { decoder: Decoder::for_file(), buf: Vec::new(), start: 0, offset: 0, expect_magic: true, failed: false }
    }

    /// For events with no magic in front, the first at `offset`.
    pub fn for_events(decoder: Decoder, offset: u64) -> Self {
        StreamDecoder { decoder, buf: Vec::new(), start: 0, offset, expect_magic: false, failed: false }
    }

    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    pub fn handle_bytes(&mut self, bytes: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 1 << 16 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole event, `None` when more bytes are needed. After an error it returns `None`.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Result<Event, BinlogError>> {
        if self.failed {
            return None;
        }
        let rest = &self.buf[self.start..];
        if self.expect_magic {
            if rest.len() < 4 {
                return None;
            }
            if let Err(e) = check_magic(rest) {
                self.failed = true;
                return Some(Err(e));
            }
            self.start += 4;
            self.offset += 4;
            self.expect_magic = false;
            return self.poll_event();
        }
        if rest.is_empty() {
            return None;
        }
        match self.decoder.decode_next(rest, self.offset) {
            Ok(Some(ev)) => {
                let n = ev.header.event_size as usize;
                self.start += n;
                self.offset += n as u64;
                Some(Ok(ev))
            }
            Ok(None) => None,
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    /// Declares the end of input: bytes left over are a truncated event.
    pub fn finish(&self) -> Result<(), BinlogError> {
        let rest = &self.buf[self.start..];
        if self.failed || rest.is_empty() {
            return Ok(());
        }
        if self.expect_magic {
            return Err(BinlogError::NotABinlog { found: rest.to_vec() });
        }
        Err(incomplete_error(rest, self.offset, self.decoder.frames.header_len()))
    }
}
