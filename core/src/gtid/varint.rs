//! The variable-length integers of MySQL's newer serialization format (tagged GTID events,
//! tagged GTID sets): the count of trailing one bits in the first byte is the count of bytes
//! that follow; the value sits above those bits, little-endian. Nine bytes: `0xff` and 8 bytes.
//! Signed values are zigzag encoded (sign in the lowest bit).

use crate::codec::{Reader, Short};

pub fn read_u64(r: &mut Reader<'_>, field: &'static str) -> Result<u64, Short> {
    let first = r.peek().ok_or(Short { field, need: 1, have: 0 })?;
    let extra = first.trailing_ones() as usize;
    if extra >= 8 {
        r.u8(field)?;
        return r.u64(field);
    }
    let raw = r.uint_le(extra + 1, field)?;
    Ok(raw >> (extra + 1))
}

pub fn read_i64(r: &mut Reader<'_>, field: &'static str) -> Result<i64, Short> {
    let u = read_u64(r, field)?;
    Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
}

pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    for n in 1..=8usize {
        if n == 8 || v < (1u64 << (7 * n)) {
            if n == 8 && v >= (1u64 << 56) {
                break;
            }
            let raw = (v << n) | ((1u64 << (n - 1)) - 1);
            out.extend_from_slice(&raw.to_le_bytes()[..n]);
            return;
        }
    }
    out.push(0xff);
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    write_u64(out, ((v << 1) ^ (v >> 63)) as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        let mut out = Vec::new();
        write_u64(&mut out, 0x89);
        assert_eq!(out, [0x25, 0x02]);
        out.clear();
        write_u64(&mut out, 90600);
        assert_eq!(out, [0x43, 0x0f, 0x0b]);
        out.clear();
        write_i64(&mut out, 3);
        assert_eq!(out, [0x0c]);
    }

    #[test]
    fn round_trip() {
        for v in [0u64, 1, 127, 128, 1 << 20, (1 << 49) - 1, 1 << 49, (1 << 56) - 1, 1 << 56, u64::MAX] {
            let mut out = Vec::new();
            write_u64(&mut out, v);
            assert_eq!(read_u64(&mut Reader::new(&out), "v"), Ok(v), "{v}");
        }
        for v in [0i64, -1, 1, i64::MIN, i64::MAX, -300] {
            let mut out = Vec::new();
            write_i64(&mut out, v);
            assert_eq!(read_i64(&mut Reader::new(&out), "v"), Ok(v), "{v}");
        }
    }
}
