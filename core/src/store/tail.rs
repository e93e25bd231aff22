//! The newest stored bytes of one file, kept in memory for readers that follow the primary, so
//! that they are served without a disk read.

use bytes::Bytes;
use std::collections::VecDeque;

/// How many of the newest stored bytes are kept in memory for readers that follow.
pub const TAIL_BYTES: usize = 64 << 20;

/// The newest stored bytes of one file, in the groups they were appended as: contiguous, each
/// chunk starting where the one before ends.
#[derive(Debug, Default)]
pub struct Tail {
    file: String,
    chunks: VecDeque<(u64, Bytes)>,
    bytes: usize,
}

impl Tail {
    pub fn push(&mut self, file: &str, offset: u64, bytes: Bytes) {
        let follows = self.file == file && self.chunks.back().is_some_and(|(o, b)| o + b.len() as u64 == offset);
        if !follows {
            self.file = file.to_string();
            self.chunks.clear();
            self.bytes = 0;
        }
        self.bytes += bytes.len();
        self.chunks.push_back((offset, bytes));
        while self.bytes > TAIL_BYTES && self.chunks.len() > 1 {
            if let Some((_, b)) = self.chunks.pop_front() {
                self.bytes -= b.len();
            }
        }
    }

    /// `len` bytes of `file` from `offset`, if the tail holds all of them: a slice of the
    /// appended buffer when one holds them all, else one copy.
    pub fn read(&self, file: &str, offset: u64, len: usize) -> Option<Bytes> {
        if self.file != file || offset < self.chunks.front()?.0 {
            return None;
        }
        // The chunk holding `offset`; the chunks after it continue it.
        let i = self.chunks.partition_point(|(o, _)| *o <= offset) - 1;
        let (o, b) = &self.chunks[i];
        let from = usize::try_from(offset - o).ok()?;
        let head = b.get(from..)?;
        if head.len() >= len {
            return Some(b.slice(from..from + len));
        }
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(head);
        for (_, b) in self.chunks.range(i + 1..) {
            let take = (len - out.len()).min(b.len());
            out.extend_from_slice(&b[..take]);
            if out.len() == len {
                break;
            }
        }
        (out.len() == len).then(|| out.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tail_of(chunks: &[(u64, &[u8])]) -> Tail {
        let mut t = Tail::default();
        for (o, b) in chunks {
            t.push("f.000001", *o, Bytes::copy_from_slice(b));
        }
        t
    }

    #[test]
    fn tail_reads_across_chunks_and_refuses_what_it_lacks() {
        let t = tail_of(&[(4, b"abc"), (7, b"defg"), (11, b"h")]);
        assert_eq!(t.read("f.000001", 4, 8).as_deref(), Some(&b"abcdefgh"[..]));
        assert_eq!(t.read("f.000001", 6, 3).as_deref(), Some(&b"cde"[..]));
        assert_eq!(t.read("f.000001", 11, 1).as_deref(), Some(&b"h"[..]));
        assert_eq!(t.read("f.000001", 8, 0).as_deref(), Some(&b""[..]));
        // Before the tail, past it, or another file: the caller reads the file instead.
        assert_eq!(t.read("f.000001", 3, 2), None);
        assert_eq!(t.read("f.000001", 10, 5), None);
        // At the end, nothing to read; past the end, not the tail's to answer (no panic).
        assert_eq!(t.read("f.000001", 12, 0).as_deref(), Some(&b""[..]));
        assert_eq!(t.read("f.000001", 13, 0), None);
        assert_eq!(t.read("f.000002", 4, 1), None);
    }

    #[test]
    fn tail_starts_over_on_a_gap_or_another_file_and_stays_bounded() {
        let mut t = tail_of(&[(4, b"abc")]);
        t.push("f.000001", 100, Bytes::from_static(b"xyz"));
        assert_eq!(t.read("f.000001", 4, 3), None);
        assert_eq!(t.read("f.000001", 100, 3).as_deref(), Some(&b"xyz"[..]));
        t.push("f.000002", 4, Bytes::from_static(b"new"));
        assert_eq!(t.read("f.000001", 100, 3), None);
        let big = Bytes::from(vec![7u8; TAIL_BYTES / 2 + 1]);
        let mut at = 7;
        for _ in 0..4 {
            t.push("f.000002", at, big.clone());
            at += big.len() as u64;
        }
        assert!(t.bytes <= TAIL_BYTES);
        assert_eq!(t.read("f.000002", at - 10, 10), Some(Bytes::from(vec![7u8; 10])));
        assert_eq!(t.read("f.000002", 4, 3), None);
    }
}
