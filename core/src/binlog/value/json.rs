//! MySQL's binary JSON (the JSON column type, MySQL 5.7+), rendered as the JSON text MySQL
//! prints: `{"a": 1, "b": [true, null]}`. Nesting is bounded so that hostile input cannot
//! exhaust the stack.

use super::decimal::decode_decimal;
use super::Value;
use crate::binlog::error::BodyError;
use crate::codec::Reader;
use base64::Engine;

/// MySQL refuses JSON documents nested deeper than this.
const MAX_DEPTH: usize = 100;

fn invalid(detail: impl Into<String>) -> BodyError {
    BodyError::invalid("json", detail)
}

/// Renders a whole binary JSON document (type byte first). An empty value is JSON null, as
/// MySQL writes it for an empty document.
pub fn json_to_text(doc: &[u8]) -> Result<String, BodyError> {
    let mut out = String::new();
    match doc.split_first() {
        None => out.push_str("null"),
        Some((&t, body)) => render_value(t, body, 0, &mut out)?,
    }
    Ok(out)
}

/// Renders a value of type `t` whose data starts at `data[0]`.
pub fn render_value(t: u8, data: &[u8], depth: usize, out: &mut String) -> Result<(), BodyError> {
    if depth > MAX_DEPTH {
        return Err(invalid("nested too deep"));
    }
    let mut r = Reader::new(data);
    match t {
        0x00 | 0x01 => render_container(data, t == 0x01, true, depth, out),
        0x02 | 0x03 => render_container(data, t == 0x03, false, depth, out),
        0x04 => render_literal(r.u8("json_literal")?, out),
        0x05 => {
            out.push_str(&(r.u16("json_int16")? as i16).to_string());
            Ok(())
        }
        0x06 => {
            out.push_str(&r.u16("json_uint16")?.to_string());
            Ok(())
        }
        0x07 => {
            out.push_str(&(r.u32("json_int32")? as i32).to_string());
            Ok(())
        }
        0x08 => {
            out.push_str(&r.u32("json_uint32")?.to_string());
            Ok(())
        }
        0x09 => {
            out.push_str(&(r.u64("json_int64")? as i64).to_string());
            Ok(())
        }
        0x0a => {
            out.push_str(&r.u64("json_uint64")?.to_string());
            Ok(())
        }
        0x0b => {
            let v = f64::from_bits(r.u64("json_double")?);
            out.push_str(&format_json_double(v));
            Ok(())
        }
        0x0c => {
            let n = read_varlen(&mut r)?;
            let s = r.take(n, "json_string")?;
            push_json_string(&String::from_utf8_lossy(s), out);
            Ok(())
        }
        0x0f => {
            let field_type = r.u8("json_opaque_type")?;
            let n = read_varlen(&mut r)?;
            let d = r.take(n, "json_opaque")?;
            render_opaque(field_type, d, out)
        }
        other => Err(invalid(format!("value type 0x{other:02x}"))),
    }
}

fn render_literal(b: u8, out: &mut String) -> Result<(), BodyError> {
    out.push_str(match b {
        0 => "null",
        1 => "true",
        2 => "false",
        x => return Err(invalid(format!("literal 0x{x:02x}"))),
    });
    Ok(())
}

/// The length prefix of strings and opaque values: 7 bits a byte, low bits first, at most 5.
fn read_varlen(r: &mut Reader<'_>) -> Result<usize, BodyError> {
    let mut v: u64 = 0;
    for i in 0..5 {
        let b = r.u8("json_length")?;
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return usize::try_from(v).map_err(|_| invalid("length too large"));
        }
    }
    Err(invalid("length longer than 5 bytes"))
}

fn render_container(data: &[u8], large: bool, object: bool, depth: usize, out: &mut String) -> Result<(), BodyError> {
    let w = if large { 4 } else { 2 };
    let mut r = Reader::new(data);
    let count = r.uint_le(w, "json_count")? as usize;
    let size = r.uint_le(w, "json_size")? as usize;
    if size > data.len() {
        return Err(invalid(format!("container of {size} bytes in {}", data.len())));
    }
    let data = &data[..size];
    let key_entry = w + 2;
    let value_entry = 1 + w;
    let header = 2 * w + count.saturating_mul(if object { key_entry + value_entry } else { value_entry });
    if header > size {
        return Err(invalid(format!("{count} entries do not fit in {size} bytes")));
    }
    out.push(if object { '{' } else { '[' });
    for i in 0..count {
        if i > 0 {
            out.push_str(", ");
        }
        if object {
            let mut k = Reader::new(&data[2 * w + i * key_entry..]);
            let off = k.uint_le(w, "json_key_offset")? as usize;
            let len = k.u16("json_key_length")? as usize;
            let key = data.get(off..off + len).ok_or_else(|| invalid("key out of bounds"))?;
            push_json_string(&String::from_utf8_lossy(key), out);
            out.push_str(": ");
        }
        let base = 2 * w + if object { count * key_entry } else { 0 } + i * value_entry;
        let mut v = Reader::new(&data[base..]);
        let t = v.u8("json_value_type")?;
        let inline = matches!(t, 0x04..=0x06) || (large && matches!(t, 0x07 | 0x08));
        if inline {
            render_value(t, &data[base + 1..base + 1 + w], depth + 1, out)?;
        } else {
            let off = v.uint_le(w, "json_value_offset")? as usize;
            if off >= size {
                return Err(invalid("value out of bounds"));
            }
            render_value(t, &data[off..], depth + 1, out)?;
        }
    }
    out.push(if object { '}' } else { ']' });
    Ok(())
}

fn render_opaque(field_type: u8, d: &[u8], out: &mut String) -> Result<(), BodyError> {
    let packed = || -> Result<i64, BodyError> {
        let b: [u8; 8] = d.get(..8).and_then(|s| s.try_into().ok()).ok_or_else(|| invalid("short temporal"))?;
        Ok(i64::from_le_bytes(b))
    };
    match field_type {
        246 if d.len() >= 2 => {
            out.push_str(&decode_decimal(&d[2..], d[0], d[1])?);
        }
        10 | 12 | 7 | 14 | 18 | 17 => {
            let v = unpack_datetime(packed()?, field_type == 10 || field_type == 14);
            out.push('"');
            out.push_str(v.trim_matches('\''));
            out.push('"');
        }
        11 | 19 => {
            let p = packed()?;
            let a = p.unsigned_abs();
            let hms = a >> 24;
            let v = Value::Time {
                negative: p < 0,
                hours: ((hms >> 12) % (1 << 10)) as u32,
                minutes: ((hms >> 6) % 64) as u8,
                seconds: (hms % 64) as u8,
                micros: (a % (1 << 24)) as u32,
                fsp: if a % (1 << 24) != 0 { 6 } else { 0 },
            };
            out.push('"');
            out.push_str(v.to_string().trim_matches('\''));
            out.push('"');
        }
        t => {
            out.push_str(&format!("\"base64:type{t}:{}\"", base64::engine::general_purpose::STANDARD.encode(d)));
        }
    }
    Ok(())
}

/// MySQL's packed DATETIME (`TIME_to_longlong_datetime_packed`) as text.
fn unpack_datetime(p: i64, date_only: bool) -> String {
    let a = p.unsigned_abs();
    let micros = (a % (1 << 24)) as u32;
    let ymdhms = a >> 24;
    let ymd = ymdhms >> 17;
    let ym = ymd >> 5;
    let hms = ymdhms % (1 << 17);
    let v = Value::DateTime {
        year: (ym / 13) as u16,
        month: (ym % 13) as u8,
        day: (ymd % (1 << 5)) as u8,
        hour: (hms >> 12) as u8,
        minute: ((hms >> 6) % (1 << 6)) as u8,
        second: (hms % (1 << 6)) as u8,
        micros,
        fsp: if micros != 0 { 6 } else { 0 },
    };
    let s = v.to_string();
    if date_only {
        s.trim_matches('\'').split(' ').next().unwrap_or_default().to_string()
    } else {
        s
    }
}

/// Doubles as MySQL's JSON printer shows them: shortest round-trip digits, exponent when large.
fn format_json_double(v: f64) -> String {
    if v.is_finite() && v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        let s = format!("{v:e}");
        if v.abs() >= 1e-5 && v.abs() < 1e15 {
            format!("{v}")
        } else {
            s.replace("e", "e+").replace("e+-", "e-")
        }
    }
}

pub fn push_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_object() {
        // {"a": 1} : small object, count 1, size 12, key entry (off 11, len 1), value (int16 inline 1)
        let doc = [0x00, 1, 0, 12, 0, 11, 0, 1, 0, 0x05, 1, 0, b'a'];
        assert_eq!(json_to_text(&doc).unwrap(), "{\"a\": 1}");
    }

    #[test]
    fn corrupt_sizes_are_errors() {
        assert!(json_to_text(&[0x00, 0xff, 0xff, 4, 0]).is_err());
        assert!(json_to_text(&[0x0c, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
        // A container that contains itself at offset 0 must not recurse forever.
        let doc = [0x02, 1, 0, 7, 0, 0x02, 0, 0];
        assert!(json_to_text(&doc).is_err());
    }
}
