//! Applying a committed entry's groups: what each group adds to its file's summary, derived
//! from its bytes on every node, with the decoder state of the file being written.
//!
//! In: the groups of committed entries, in log order, and a way to read the store (to learn a
//! file's format after a restart). Out: the [`Appended`] facts the store applies with the bytes.
//! The facts come from the same [`GroupFacts`] the upstream and a file's summary use, so a
//! follower's summaries are the leader's.

use super::request::Group;
use crate::binlog::decoder::Decoder;
use crate::binlog::error::BinlogError;
use crate::store::index::{Appended, GroupFacts};
use crate::store::StoreError;
use std::fmt;

/// Why a group cannot be applied. Every node holds the same entries, so each of these is a bug
/// or damage, never something to skip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    Store(StoreError),
    /// A group's bytes do not decode as events.
    Event { file: String, offset: u64, error: BinlogError },
    /// A group's bytes end inside an event.
    Torn { file: String, offset: u64 },
}

impl From<StoreError> for ApplyError {
    fn from(e: StoreError) -> Self {
        ApplyError::Store(e)
    }
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApplyError::Store(e) => write!(f, "{e}"),
            ApplyError::Event { file, offset, error } => write!(f, "entry for {file} at {offset}: {error}"),
            ApplyError::Torn { file, offset } => write!(f, "entry for {file} at {offset} ends inside an event"),
        }
    }
}

impl std::error::Error for ApplyError {}

/// The decoder of the file being applied to, and the facts of a group whose pieces are
/// arriving.
#[derive(Debug, Default)]
pub struct Applier {
    file: Option<(String, Decoder)>,
    facts: GroupFacts,
}

/// The common header's length before binlog v4's extra fields: type at 4, size at 9..13.
const HEADER_MIN: usize = 13;

impl Applier {
    pub fn new() -> Applier {
        Applier::default()
    }

    /// Forgets the file's decoder (the store was replaced or cut).
    pub fn reset(&mut self) {
        *self = Applier::default();
    }

    /// What `g` adds to its file ([`Appended::part`] for a piece). `read(file, offset, len)`
    /// reads the store: a group in the middle of a file whose format this applier has not seen
    /// (after a restart) needs the file's first event.
    pub fn facts(&mut self, g: &Group, read: impl Fn(&str, u64, usize) -> Result<Vec<u8>, StoreError>) -> Result<Appended, ApplyError> {
        if self.file.as_ref().is_none_or(|(f, _)| *f != g.file) {
            let mut d = Decoder::for_file().decode_rows(false);
            if g.offset > 4 {
                let head = read(&g.file, 4, HEADER_MIN)?;
                let Some(size) = head.get(9..HEADER_MIN) else { return Err(ApplyError::Torn { file: g.file.clone(), offset: 4 }) };
                let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize;
                let first = read(&g.file, 4, size)?;
                match d.decode_next(&first, 4) {
                    Ok(Some(_)) => {}
                    Ok(None) => return Err(ApplyError::Torn { file: g.file.clone(), offset: 4 }),
                    Err(error) => return Err(ApplyError::Event { file: g.file.clone(), offset: 4, error }),
                }
            }
            self.file = Some((g.file.clone(), d));
            self.facts = GroupFacts::new();
        }
        let Some((_, d)) = self.file.as_mut() else { return Err(ApplyError::Torn { file: g.file.clone(), offset: g.offset }) };
        let mut pos = 0usize;
        while pos < g.bytes.len() {
            let at = g.offset + pos as u64;
            let ev = match d.decode_next(&g.bytes[pos..], at) {
                Ok(Some(ev)) => ev,
                Ok(None) => return Err(ApplyError::Torn { file: g.file.clone(), offset: at }),
                Err(error) => return Err(ApplyError::Event { file: g.file.clone(), offset: at, error }),
            };
            if ev.header.event_size == 0 {
                return Err(ApplyError::Torn { file: g.file.clone(), offset: at });
            }
            pos += ev.header.event_size as usize;
            self.facts.observe(&ev);
        }
        if g.part {
            return Ok(Appended::part());
        }
        // A group's rows refer to its own TABLE_MAPs only.
        d.forget_tables();
        Ok(self.facts.finish())
    }
}
