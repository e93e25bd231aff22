//! Compressed payloads: MariaDB's zlib blocks (log_bin_compress) and MySQL's zstd transaction
//! payloads. Output is bounded by the length the block declares, so a corrupt block cannot make
//! the decoder allocate without limit.

use super::error::BodyError;
use std::io::Read;

/// The most a single compressed block may inflate to: the largest event a server writes.
pub const MAX_INFLATED: u64 = 1 << 30;

/// Inflates a MariaDB compressed block: one byte `0x80 | n`, the inflated length in `n`
/// big-endian bytes, then a zlib stream.
pub fn mariadb_inflate(block: &[u8]) -> Result<Vec<u8>, BodyError> {
    let (&head, rest) = block.split_first().ok_or(BodyError::Truncated { field: "compressed_header", need: 1, have: 0 })?;
    let lenlen = usize::from(head & 0x07);
    if lenlen == 0 || lenlen > 4 {
        return Err(BodyError::invalid("compressed_header", format!("length of length {lenlen}")));
    }
    if rest.len() < lenlen {
        return Err(BodyError::Truncated { field: "compressed_length", need: lenlen, have: rest.len() });
    }
    let len = rest[..lenlen].iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
    if len > MAX_INFLATED {
        return Err(BodyError::invalid("compressed_length", format!("{len} bytes")));
    }
    inflate_exact(flate2::read::ZlibDecoder::new(&rest[lenlen..]), len)
}

/// Builds a MariaDB compressed block around `data`.
pub fn mariadb_deflate(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let len = data.len() as u32;
    let lenlen = match len {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xff_ffff => 3,
        _ => 4,
    };
    let mut out = vec![0x80 | lenlen as u8];
    out.extend_from_slice(&len.to_be_bytes()[4 - lenlen..]);
    let mut z = flate2::write::ZlibEncoder::new(out, flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = z.write_all(data);
    z.finish().unwrap_or_default()
}

/// Inflates a zstd frame that must come to `len` bytes.
pub fn zstd_inflate(data: &[u8], len: u64) -> Result<Vec<u8>, BodyError> {
    if len > MAX_INFLATED {
        return Err(BodyError::invalid("uncompressed_size", format!("{len} bytes")));
    }
    let dec = zstd::stream::read::Decoder::new(data).map_err(|e| BodyError::Decompress { detail: e.to_string() })?;
    inflate_exact(dec, len)
}

fn inflate_exact(reader: impl Read, len: u64) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::with_capacity(len.min(1 << 20) as usize);
    reader
        .take(len + 1)
        .read_to_end(&mut out)
        .map_err(|e| BodyError::Decompress { detail: e.to_string() })?;
    if out.len() as u64 != len {
        return Err(BodyError::Decompress { detail: format!("declared {len} bytes, inflated to {}", out.len()) });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_block_round_trip() {
        for n in [0usize, 1, 300, 70_000] {
            let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            assert_eq!(mariadb_inflate(&mariadb_deflate(&data)).unwrap(), data);
        }
    }

    #[test]
    fn lying_length_is_an_error() {
        let mut block = mariadb_deflate(b"hello");
        block[1] = 9;
        assert!(matches!(mariadb_inflate(&block), Err(BodyError::Decompress { .. })));
    }
}
