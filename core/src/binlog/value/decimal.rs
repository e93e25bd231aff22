//! DECIMAL's binary form (MySQL 5.0.3+ NEWDECIMAL), decoded exactly to text: no floats.
//!
//! Nine decimal digits pack into 4 bytes; a leading or trailing group of fewer digits takes
//! 1 to 4 bytes. Big-endian; the top bit of the first byte is the sign (set when positive), and
//! negative numbers have every byte inverted.

use crate::binlog::error::BodyError;

const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];

/// Bytes a DECIMAL(precision, scale) takes in a row image.
pub fn decimal_size(precision: u8, scale: u8) -> Result<usize, BodyError> {
    if scale > precision || precision > 65 || precision == 0 {
        return Err(BodyError::invalid("decimal", format!("DECIMAL({precision},{scale})")));
    }
    let intg = usize::from(precision - scale);
    let frac = usize::from(scale);
    Ok((intg / 9) * 4 + DIG2BYTES[intg % 9] + (frac / 9) * 4 + DIG2BYTES[frac % 9])
}

/// Appends `v` zero-padded to `width` digits; a value wider than that (corrupt data) appends
/// all its digits, which the caller detects by length.
fn push_digits(out: &mut String, mut v: u32, width: usize) {
    let mut buf = [b'0'; 10];
    let mut i = buf.len();
    while v > 0 {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    let start = i.min(buf.len() - width);
    out.extend(buf[start..].iter().map(|&b| b as char));
}

/// Decodes a DECIMAL(precision, scale) value from exactly its bytes.
pub fn decode_decimal(bytes: &[u8], precision: u8, scale: u8) -> Result<String, BodyError> {
    let size = decimal_size(precision, scale)?;
    if bytes.len() < size {
        return Err(BodyError::Truncated { field: "decimal", need: size, have: bytes.len() });
    }
    let mut b = bytes[..size].to_vec();
    let negative = b[0] & 0x80 == 0;
    b[0] ^= 0x80;
    if negative {
        for x in b.iter_mut() {
            *x = !*x;
        }
    }
    let intg = usize::from(precision - scale);
    let frac = usize::from(scale);
    let mut pos = 0;
    let mut group = |n_bytes: usize| -> u32 {
        let v = b[pos..pos + n_bytes].iter().fold(0u32, |a, &x| (a << 8) | u32::from(x));
        pos += n_bytes;
        v
    };
    let mut int_digits = String::with_capacity(intg + 9);
    let lead = intg % 9;
    if lead > 0 {
        push_digits(&mut int_digits, group(DIG2BYTES[lead]), lead);
    }
    for _ in 0..intg / 9 {
        push_digits(&mut int_digits, group(4), 9);
    }
    let mut frac_digits = String::with_capacity(frac + 9);
    for _ in 0..frac / 9 {
        push_digits(&mut frac_digits, group(4), 9);
    }
    let trail = frac % 9;
    if trail > 0 {
        push_digits(&mut frac_digits, group(DIG2BYTES[trail]), trail);
    }
    let int_trimmed = int_digits.trim_start_matches('0');
    let mut out = String::new();
    let is_zero = int_trimmed.is_empty() && frac_digits.bytes().all(|c| c == b'0');
    if negative && !is_zero {
        out.push('-');
    }
    out.push_str(if int_trimmed.is_empty() { "0" } else { int_trimmed });
    if frac > 0 {
        out.push('.');
        out.push_str(&frac_digits);
    }
    // Groups can hold values up to 10^9 - 1 and more in corrupt data: digits beyond the
    // declared width are corruption.
    if int_digits.len() != intg || frac_digits.len() != frac {
        return Err(BodyError::invalid("decimal", "digit group out of range"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_documented_example() {
        // 1234567890.1234 as DECIMAL(14,4), from MySQL's decimal.c comment.
        let b = [0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x04, 0xd2];
        assert_eq!(decode_decimal(&b, 14, 4).unwrap(), "1234567890.1234");
        let neg: Vec<u8> = b.iter().map(|x| !x).collect();
        assert_eq!(decode_decimal(&neg, 14, 4).unwrap(), "-1234567890.1234");
    }

    #[test]
    fn small_values() {
        // 12.34 as DECIMAL(10,2): intg 8 -> 4 bytes, frac 2 -> 1 byte.
        let b = [0x80, 0x00, 0x00, 0x0c, 0x22];
        assert_eq!(decode_decimal(&b, 10, 2).unwrap(), "12.34");
        assert_eq!(decode_decimal(&[0x80, 0, 0, 0, 0], 10, 2).unwrap(), "0.00");
    }
}
