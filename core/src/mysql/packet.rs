//! Packet framing: every message is one or more packets of a 3-byte little-endian length, a
//! sequence id, and up to 2^24 - 1 payload bytes. A payload of 2^24 - 1 bytes or more is split,
//! and a packet of exactly that length means another follows (possibly empty).

use std::fmt;

/// The largest payload one packet carries.
pub const MAX_PACKET_PAYLOAD: usize = 0xff_ffff;

/// Framing violations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketError {
    /// A packet arrived with another sequence id than the one due.
    OutOfOrder { expected: u8, found: u8 },
    /// A message is larger than this side accepts (its max_allowed_packet).
    TooLarge { size: usize, max: usize },
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::OutOfOrder { expected, found } => {
                write!(f, "packets out of order: expected sequence id {expected}, got {found}")
            }
            PacketError::TooLarge { size, max } => write!(f, "packet of {size} bytes exceeds max_allowed_packet {max}"),
        }
    }
}

impl std::error::Error for PacketError {}

/// Appends `payload` as packets starting at sequence id `*seq`, which is advanced past them.
pub fn write_message(out: &mut Vec<u8>, seq: &mut u8, payload: &[u8]) {
    write_message_parts(out, seq, &[], payload);
}

/// [`write_message`] of `head` followed by `body`, without joining them first (an event is
/// framed straight from where it lies).
pub fn write_message_parts(out: &mut Vec<u8>, seq: &mut u8, head: &[u8], body: &[u8]) {
    let total = head.len() + body.len();
    out.reserve(total + 4 * (total / MAX_PACKET_PAYLOAD + 1));
    let mut at = 0usize;
    loop {
        let n = (total - at).min(MAX_PACKET_PAYLOAD);
        out.extend_from_slice(&(n as u32).to_le_bytes()[..3]);
        out.push(*seq);
        *seq = seq.wrapping_add(1);
        let end = at + n;
        if at < head.len() {
            out.extend_from_slice(&head[at..end.min(head.len())]);
        }
        if end > head.len() {
            out.extend_from_slice(&body[at.saturating_sub(head.len())..end - head.len()]);
        }
        at = end;
        if n < MAX_PACKET_PAYLOAD {
            return;
        }
    }
}

/// Reassembles messages from bytes fed in chunks of any size.
#[derive(Debug)]
pub struct PacketReader {
    buf: Vec<u8>,
    start: usize,
    /// The sequence id the next packet must carry; `None` accepts any (a new command).
    expected_seq: Option<u8>,
    max_message: usize,
    /// The message being joined from 2^24 - 1 byte packets, and its first sequence id.
    partial: Vec<u8>,
    partial_seq: Option<u8>,
    check_seq: bool,
}

/// One whole message and the sequence id of its first packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub seq: u8,
    /// The sequence id the reply to this message starts with.
    pub next_seq: u8,
    pub payload: Vec<u8>,
}

impl PacketReader {
    /// A reader that refuses messages over `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        PacketReader { buf: Vec::new(), start: 0, expected_seq: None, max_message, partial: Vec::new(), partial_seq: None, check_seq: true }
    }

    /// Stops checking sequence ids: a semi-sync primary restarts them after each ACK it reads,
    /// while packets already sent carry the old ones. Framing is by length either way.
    pub fn ignore_seq(&mut self) {
        self.check_seq = false;
    }

    /// From now on, refuses messages over `max_message` bytes (a server raises it once the
    /// client is authenticated).
    pub fn set_max_message(&mut self, max_message: usize) {
        self.max_message = max_message;
    }

    /// The sequence id the next packet must carry, or `None` to accept any (a new command).
    pub fn expect_seq(&mut self, seq: Option<u8>) {
        self.expected_seq = seq;
    }

    pub fn handle_bytes(&mut self, bytes: &[u8]) {
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > (1 << 16) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole message, `None` until one is complete. After an error the connection is
    /// beyond repair: the caller closes it.
    #[must_use]
    pub fn poll_message(&mut self) -> Option<Result<Message, PacketError>> {
        loop {
            let avail = &self.buf[self.start..];
            if avail.len() < 4 {
                return None;
            }
            let len = usize::from(avail[0]) | usize::from(avail[1]) << 8 | usize::from(avail[2]) << 16;
            let seq = avail[3];
            if let Some(e) = self.expected_seq.filter(|_| self.check_seq) {
                if e != seq {
                    return Some(Err(PacketError::OutOfOrder { expected: e, found: seq }));
                }
            }
            let size = self.partial.len() + len;
            if size > self.max_message {
                return Some(Err(PacketError::TooLarge { size, max: self.max_message }));
            }
            if avail.len() < 4 + len {
                return None;
            }
            self.partial.extend_from_slice(&avail[4..4 + len]);
            self.start += 4 + len;
            let first = *self.partial_seq.get_or_insert(seq);
            if len == MAX_PACKET_PAYLOAD {
                self.expected_seq = Some(seq.wrapping_add(1));
                continue;
            }
            self.partial_seq = None;
            self.expected_seq = Some(seq.wrapping_add(1));
            let payload = std::mem::take(&mut self.partial);
            return Some(Ok(Message { seq: first, next_seq: seq.wrapping_add(1), payload }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], chunk: usize) -> Vec<Message> {
        let mut r = PacketReader::new(1 << 26);
        let mut out = Vec::new();
        for c in bytes.chunks(chunk) {
            r.handle_bytes(c);
            while let Some(m) = r.poll_message() {
                out.push(m.unwrap());
            }
        }
        out
    }

    #[test]
    fn split_and_join_at_16_mib() {
        for size in [0, 1, MAX_PACKET_PAYLOAD - 1, MAX_PACKET_PAYLOAD, MAX_PACKET_PAYLOAD + 1, 2 * MAX_PACKET_PAYLOAD] {
            let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let mut out = Vec::new();
            let mut seq = 3;
            write_message(&mut out, &mut seq, &payload);
            let packets = size / MAX_PACKET_PAYLOAD + 1;
            assert_eq!(seq, 3 + packets as u8, "size {size}");
            assert_eq!(out.len(), size + 4 * packets);
            let msgs = read_all(&out, 65_537);
            assert_eq!(msgs.len(), 1);
            assert_eq!(msgs[0].seq, 3);
            assert_eq!(msgs[0].next_seq, seq);
            assert!(msgs[0].payload == payload, "size {size}");
        }
    }

    #[test]
    fn parts_frame_as_their_join() {
        for size in [0, 3, MAX_PACKET_PAYLOAD - 1, MAX_PACKET_PAYLOAD, MAX_PACKET_PAYLOAD + 2, 2 * MAX_PACKET_PAYLOAD + 5] {
            let payload: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
            let mut joined = Vec::new();
            let mut seq_joined = 9;
            write_message(&mut joined, &mut seq_joined, &payload);
            for split in [0, 1, 3, size / 2, size.saturating_sub(1), size] {
                let split = split.min(size);
                let mut parts = Vec::new();
                let mut seq = 9;
                write_message_parts(&mut parts, &mut seq, &payload[..split], &payload[split..]);
                assert_eq!(seq, seq_joined, "size {size} split {split}");
                assert!(parts == joined, "size {size} split {split}");
            }
        }
    }

    #[test]
    fn sequence_and_size_violations() {
        let mut out = Vec::new();
        write_message(&mut out, &mut 0, b"a");
        write_message(&mut out, &mut 5, b"b");
        let mut r = PacketReader::new(100);
        r.handle_bytes(&out);
        assert!(r.poll_message().unwrap().is_ok());
        assert_eq!(r.poll_message(), Some(Err(PacketError::OutOfOrder { expected: 1, found: 5 })));
        let mut r = PacketReader::new(2);
        let mut big = Vec::new();
        write_message(&mut big, &mut 0, b"abc");
        r.handle_bytes(&big);
        assert_eq!(r.poll_message(), Some(Err(PacketError::TooLarge { size: 3, max: 2 })));
    }
}
