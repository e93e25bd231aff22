//! Which file names the store accepts from the primary. A ROTATE names the next binlog file, and
//! its bytes come from the network (from anyone in the middle, without TLS verification): a name
//! is a plain file name of the store's directory, never a path, a hidden file, or one of the
//! store's own files (nor one of the Raft side's: anything named `raft-log.*` or `raft.*`).

use std::fmt;

/// The store's own files, and the suffix of its temporary files.
pub const INDEX: &str = "binlog.index";
pub const SUMMARIES: &str = "binlog.summaries";
pub const JOURNAL: &str = "binlog.journal";
pub const REPLICATION: &str = "replication.toml";
pub const RESERVED: [&str; 4] = [INDEX, SUMMARIES, JOURNAL, REPLICATION];
pub const TMP_SUFFIX: &str = ".tmp";
/// The Raft log's segments are `raft-log.<first index>` (`cluster::log`).
pub const RAFT_LOG_PREFIX: &str = "raft-log.";
/// The Raft side's small files: `raft.vote`, `raft.purged`, `raft.applied`...
pub const RAFT_PREFIX: &str = "raft.";
pub const RAFT_VOTE: &str = "raft.vote";
pub const RAFT_PURGED: &str = "raft.purged";

/// The longest binlog file name accepted (MySQL's FN_REFLEN is 512).
pub const NAME_BYTES_MAX: usize = 255;

/// Why a name from the primary is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    Empty,
    TooLong { len: usize },
    /// A byte outside `[A-Za-z0-9._-]`.
    BadByte { byte: u8, at: usize },
    LeadingDot,
    Reserved,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => write!(f, "empty"),
            NameError::TooLong { len } => write!(f, "{len} bytes long, more than {NAME_BYTES_MAX}"),
            NameError::BadByte { byte, at } => write!(f, "byte 0x{byte:02x} at {at} is not one of A-Z a-z 0-9 . _ -"),
            NameError::LeadingDot => write!(f, "starts with a dot"),
            NameError::Reserved => write!(f, "one of binraft's own files"),
        }
    }
}

/// Whether `name` may be a binlog file of the store.
pub fn check_binlog_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > NAME_BYTES_MAX {
        return Err(NameError::TooLong { len: name.len() });
    }
    if let Some((at, &byte)) = name.as_bytes().iter().enumerate().find(|(_, b)| !(b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))) {
        return Err(NameError::BadByte { byte, at });
    }
    if name.starts_with('.') {
        return Err(NameError::LeadingDot);
    }
    // The Raft side's files are reserved by prefix, so the names it adds later are too.
    if RESERVED.contains(&name) || name.ends_with(TMP_SUFFIX) || name.starts_with(RAFT_LOG_PREFIX) || name.starts_with(RAFT_PREFIX) {
        return Err(NameError::Reserved);
    }
    Ok(())
}

/// The file after `name` in binraft's own layout (after a change of primary): its number plus
/// one, as wide as it was and at least six digits, as MariaDB and MySQL number theirs
/// (`primary-bin.000009` → `primary-bin.000010`); a name without a number gets `.000001`.
pub fn next_binlog_name(name: &str) -> String {
    let (base, digits) = match name.rsplit_once('.') {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => (base, n),
        _ => return format!("{name}.000001"),
    };
    let next = digits.parse::<u64>().map_or(1, |n| n.saturating_add(1));
    format!("{base}.{next:0width$}", width = digits.len().max(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binraft_numbers_its_own_files_on_from_the_last() {
        assert_eq!(next_binlog_name("primary-bin.000009"), "primary-bin.000010");
        assert_eq!(next_binlog_name("mysql-bin.999999"), "mysql-bin.1000000");
        assert_eq!(next_binlog_name("db.7"), "db.000008");
        assert_eq!(next_binlog_name("binlog"), "binlog.000001");
        assert_eq!(next_binlog_name("a.b-c"), "a.b-c.000001");
        assert_eq!(check_binlog_name(&next_binlog_name("primary-bin.000001")), Ok(()));
    }

    #[test]
    fn binlog_names_are_allow_listed() {
        for ok in ["binlog.000001", "mysql-bin.000042", "db1_relay-bin.7", "A.b-c_d"] {
            assert_eq!(check_binlog_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(check_binlog_name(""), Err(NameError::Empty));
        assert_eq!(check_binlog_name("../etc/passwd"), Err(NameError::BadByte { byte: b'/', at: 2 }));
        assert_eq!(check_binlog_name("a b"), Err(NameError::BadByte { byte: b' ', at: 1 }));
        assert_eq!(check_binlog_name("bin\0"), Err(NameError::BadByte { byte: 0, at: 3 }));
        assert_eq!(check_binlog_name("binlog.ü"), Err(NameError::BadByte { byte: 0xc3, at: 7 }));
        assert_eq!(check_binlog_name(".hidden"), Err(NameError::LeadingDot));
        assert_eq!(check_binlog_name(".."), Err(NameError::LeadingDot));
        for reserved in RESERVED {
            assert_eq!(check_binlog_name(reserved), Err(NameError::Reserved), "{reserved}");
        }
        assert_eq!(check_binlog_name("binlog.index.tmp"), Err(NameError::Reserved));
        for raft in ["raft-log.00000000000000000001", "raft-log.x", "raft.vote", "raft.purged", "raft.applied", "raft.anything"] {
            assert_eq!(check_binlog_name(raft), Err(NameError::Reserved), "{raft}");
        }
        assert_eq!(check_binlog_name("raft-bin.000001"), Ok(()), "only the Raft prefixes are reserved");
        assert_eq!(check_binlog_name(&"a".repeat(256)), Err(NameError::TooLong { len: 256 }));
    }
}
