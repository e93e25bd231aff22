//! What goes through the Raft log. The leader's upstream proposes what the primary sent, in its
//! order: whole groups (several per entry under load), each with the file and offset it has on
//! the primary, so that every node writes the same bytes at the same places and the binlog files
//! are byte-identical on every node, under the primary's names.
//!
//! An entry carries bytes and places only. What a group adds to its file's summary (GTIDs,
//! tables, a rotation) is derived again from the bytes on every node ([`super::apply`]), so no
//! node can disagree with its own files.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// One entry's command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Groups (or pieces of one) in the primary's order, each where its file ends.
    Groups(Vec<Group>),
    /// A new binlog file (the primary rotated): it holds only the magic until groups follow.
    CreateFile { name: String },
    /// CHANGE MASTER TO, START / STOP / RESET SLAVE, as asked: every member decides it against
    /// the settings the log has made so far and saves what it decides, and the leader acts on
    /// it; a refusal is the entry's [`Response`].
    Replication(crate::upstream::settings::Command),
    /// PURGE BINARY LOGS (or the retention settings), decided on the member that was asked once
    /// no replica of any member read these files: every member removes them, the oldest first.
    Purge { files: Vec<String> },
}

/// Bytes for `file` at `offset`: one whole group, or a piece of one too large to hold (`part`),
/// shown to readers only with its last piece.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub file: String,
    pub offset: u64,
    pub bytes: Bytes,
    pub part: bool,
}

impl Request {
    /// The bytes of binlog the entry carries.
    pub fn payload_bytes(&self) -> usize {
        match self {
            Request::Groups(g) => g.iter().map(|g| g.bytes.len()).sum(),
            Request::CreateFile { .. } | Request::Replication(_) | Request::Purge { .. } => 0,
        }
    }
}

/// What applying an entry answers to whoever proposed it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// A replication statement the settings in force refused (it changed nothing).
    pub refused: Option<crate::upstream::settings::SettingsError>,
}

impl std::fmt::Display for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Groups(g) => match (g.first(), g.last()) {
                (Some(a), Some(z)) => write!(f, "{} groups, {} bytes, {}:{}..{}:{}", g.len(), self.payload_bytes(), a.file, a.offset, z.file, z.offset + z.bytes.len() as u64),
                _ => write!(f, "no groups"),
            },
            Request::CreateFile { name } => write!(f, "create {name}"),
            Request::Replication(c) => write!(f, "replication statement {c:?}"),
            Request::Purge { files } => write!(f, "purge {}", files.join(", ")),
        }
    }
}
