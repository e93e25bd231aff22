//! Byte-level reading and writing shared by every wire format in core.
//!
//! In: a byte slice. Out: integers, strings and sub-slices, or a [`Short`] error naming the field
//! that ran past the end. Nothing here allocates except the helpers that return owned vectors, and
//! nothing panics on any input: every read is bounds-checked.

/// A read ran past the end of its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short {
    /// The field being read.
    pub field: &'static str,
    /// Bytes the field needed.
    pub need: usize,
    /// Bytes that were left.
    pub have: usize,
}

/// A cursor over a byte slice. Little-endian unless the method name says `be`.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// Takes `n` bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], Short> {
        if n > self.remaining() {
            return Err(Short { field, need: n, have: self.remaining() });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Takes everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// Looks at the next byte without consuming it.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, Short> {
        Ok(self.take(1, field)?[0])
    }

    /// An unsigned little-endian integer of `n` bytes (0 to 8).
    pub fn uint_le(&mut self, n: usize, field: &'static str) -> Result<u64, Short> {
        let b = self.take(n, field)?;
        Ok(b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    /// An unsigned big-endian integer of `n` bytes (0 to 8).
    pub fn uint_be(&mut self, n: usize, field: &'static str) -> Result<u64, Short> {
        let b = self.take(n, field)?;
        Ok(b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, Short> {
        Ok(self.uint_le(2, field)? as u16)
    }

    pub fn u24(&mut self, field: &'static str) -> Result<u32, Short> {
        Ok(self.uint_le(3, field)? as u32)
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, Short> {
        Ok(self.uint_le(4, field)? as u32)
    }

    pub fn u48(&mut self, field: &'static str) -> Result<u64, Short> {
        self.uint_le(6, field)
    }

    pub fn u64(&mut self, field: &'static str) -> Result<u64, Short> {
        self.uint_le(8, field)
    }

    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], Short> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, field)?);
        Ok(out)
    }

    /// A MySQL length-encoded integer. `0xfb` (NULL in result sets) reads as `None`.
    pub fn lenenc(&mut self, field: &'static str) -> Result<Option<u64>, Short> {
        match self.u8(field)? {
            x @ 0..=0xfa => Ok(Some(u64::from(x))),
            0xfb => Ok(None),
            0xfc => Ok(Some(self.uint_le(2, field)?)),
            0xfd => Ok(Some(self.uint_le(3, field)?)),
            0xfe => Ok(Some(self.uint_le(8, field)?)),
            0xff => Ok(Some(u64::MAX)),
        }
    }

    /// A length-encoded integer where NULL has no meaning: it reads as `u64::MAX`, which no
    /// length check accepts, so the caller fails on it like on any impossible length.
    pub fn lenenc_len(&mut self, field: &'static str) -> Result<u64, Short> {
        Ok(self.lenenc(field)?.unwrap_or(u64::MAX))
    }

    /// Bytes preceded by a length-encoded length.
    pub fn lenenc_bytes(&mut self, field: &'static str) -> Result<&'a [u8], Short> {
        let n = self.lenenc_len(field)?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        self.take(n, field)
    }

    /// Bytes up to (not including) a zero byte, which is consumed.
    pub fn cstr(&mut self, field: &'static str) -> Result<&'a [u8], Short> {
        let rest = &self.buf[self.pos..];
        match rest.iter().position(|&b| b == 0) {
            Some(i) => {
                self.pos += i + 1;
                Ok(&rest[..i])
            }
            None => Err(Short { field, need: rest.len() + 1, have: rest.len() }),
        }
    }
}

/// Writes a MySQL length-encoded integer in its shortest form.
pub fn put_lenenc(out: &mut Vec<u8>, v: u64) {
    match v {
        0..=0xfa => out.push(v as u8),
        0xfb..=0xffff => {
            out.push(0xfc);
            out.extend_from_slice(&(v as u16).to_le_bytes());
        }
        0x1_0000..=0xff_ffff => {
            out.push(0xfd);
            out.extend_from_slice(&(v as u32).to_le_bytes()[..3]);
        }
        _ => {
            out.push(0xfe);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// Writes the low `n` bytes of `v`, little-endian.
pub fn put_uint_le(out: &mut Vec<u8>, v: u64, n: usize) {
    out.extend_from_slice(&v.to_le_bytes()[..n]);
}

/// Lower-case hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenenc_round_trip() {
        for v in [0u64, 250, 251, 0xffff, 0x10000, 0xff_ffff, 0x100_0000, u64::MAX - 1] {
            let mut out = Vec::new();
            put_lenenc(&mut out, v);
            assert_eq!(Reader::new(&out).lenenc("v"), Ok(Some(v)));
        }
    }

    #[test]
    fn short_reads_name_the_field() {
        let mut r = Reader::new(&[1, 2]);
        assert_eq!(r.u32("size"), Err(Short { field: "size", need: 4, have: 2 }));
        assert_eq!(r.cstr("name"), Err(Short { field: "name", need: 3, have: 2 }));
    }
}
