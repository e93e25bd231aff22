//! Typed column values of row images.
//!
//! In: a row image's bytes and the table map's column description. Out: [`Value`]s. Rendering
//! (`Display`) follows `mysqlbinlog -v`, so that binraft's output can be checked against the
//! servers' own tool: strings quoted with escapes, DATE as `'YYYY:MM:DD'`, TIMESTAMP as epoch
//! seconds, FLOAT with `%g`, DOUBLE with `%.20g`, negative integers of unknown signedness followed
//! by their unsigned reading.

pub mod column_type;
pub mod decimal;
pub mod json;
pub mod json_diff;
pub mod temporal;

use crate::binlog::error::BodyError;
use crate::binlog::events::table_map::ColumnInfo;
use crate::codec::Reader;
use bytes::Bytes;
use column_type::{ColumnMeta, ColumnType};
use json_diff::JsonDiff;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    /// An integer of `width` bytes read as signed (signedness unknown or SIGNED).
    Int { value: i64, width: u8 },
    /// An integer of a column known to be UNSIGNED.
    UInt(u64),
    Float(f32),
    Double(f64),
    /// DECIMAL as exact text.
    Decimal(String),
    Year(u16),
    Date { year: u16, month: u8, day: u8 },
    Time { negative: bool, hours: u32, minutes: u8, seconds: u8, micros: u32, fsp: u8 },
    DateTime { year: u16, month: u8, day: u8, hour: u8, minute: u8, second: u8, micros: u32, fsp: u8 },
    Timestamp { seconds: u32, micros: u32, fsp: u8 },
    /// CHAR, VARCHAR, TEXT, BINARY, VARBINARY, BLOB bytes (the charset says how to read them),
    /// shared with the event's row data rather than copied.
    String(Bytes),
    /// ENUM: 1-based index into the member list, 0 for the empty error value.
    Enum(u16),
    /// SET: one bit per member, stored in `bytes` bytes.
    Set { bits: u64, bytes: u8 },
    /// BIT(n): big-endian bytes.
    Bit { bits: u16, bytes: Vec<u8> },
    /// MySQL binary JSON rendered as JSON text.
    Json(String),
    /// A partial JSON update.
    JsonDiffs(Vec<JsonDiff>),
    /// GEOMETRY: 4-byte SRID then WKB.
    Geometry(Bytes),
    /// VECTOR: IEEE floats.
    Vector(Vec<f32>),
}

/// Takes `n` bytes as a slice of `base`, which `r` reads.
fn take_shared(r: &mut Reader<'_>, base: &Bytes, n: usize, field: &'static str) -> Result<Bytes, BodyError> {
    let start = r.position();
    r.take(n, field)?;
    Ok(base.slice(start..start + n))
}

/// Reads one non-NULL value of `col` from a row image; `r` reads `base`, which string values
/// share instead of copying.
#[inline(always)]
pub fn read_value(r: &mut Reader<'_>, base: &Bytes, col: &ColumnInfo) -> Result<Value, BodyError> {
    let t = col.meta.real_type(col.column_type);
    let int = |r: &mut Reader<'_>, width: usize| -> Result<Value, BodyError> {
        let raw = r.uint_le(width, "int")?;
        if col.unsigned == Some(true) {
            Ok(Value::UInt(raw))
        } else {
            let shift = 64 - 8 * width as u32;
            Ok(Value::Int { value: ((raw << shift) as i64) >> shift, width: width as u8 })
        }
    };
    Ok(match (t, col.meta) {
        (ColumnType::TINY, _) => int(r, 1)?,
        (ColumnType::SHORT, _) => int(r, 2)?,
        (ColumnType::INT24, _) => int(r, 3)?,
        (ColumnType::LONG, _) => int(r, 4)?,
        (ColumnType::LONGLONG, _) => int(r, 8)?,
        (ColumnType::FLOAT, _) => Value::Float(f32::from_bits(r.u32("float")?)),
        (ColumnType::DOUBLE, _) => Value::Double(f64::from_bits(r.u64("double")?)),
        (ColumnType::NEWDECIMAL, ColumnMeta::Decimal { precision, scale }) => {
            let n = decimal::decimal_size(precision, scale)?;
            Value::Decimal(decimal::decode_decimal(r.take(n, "decimal")?, precision, scale)?)
        }
        (ColumnType::YEAR, _) => {
            let y = r.u8("year")?;
            Value::Year(if y == 0 { 0 } else { 1900 + u16::from(y) })
        }
        (ColumnType::DATE | ColumnType::NEWDATE, _) => temporal::date(r.u24("date")?),
        (ColumnType::TIME, _) => {
            let raw = r.u24("time")?;
            temporal::time_old(((raw << 8) as i32) >> 8)
        }
        (ColumnType::DATETIME, _) => temporal::datetime_old(r.u64("datetime")?),
        (ColumnType::TIMESTAMP, _) => Value::Timestamp { seconds: r.u32("timestamp")?, micros: 0, fsp: 0 },
        (ColumnType::TIMESTAMP2, ColumnMeta::Fsp(f)) => temporal::timestamp2(r, f)?,
        (ColumnType::DATETIME2, ColumnMeta::Fsp(f)) => temporal::datetime2(r, f)?,
        (ColumnType::TIME2, ColumnMeta::Fsp(f)) => temporal::time2(r, f)?,
        (ColumnType::VARCHAR | ColumnType::VAR_STRING, ColumnMeta::VarLength(max)) => {
            let n = if max < 256 { usize::from(r.u8("varchar_len")?) } else { usize::from(r.u16("varchar_len")?) };
            Value::String(take_shared(r, base, n, "varchar")?)
        }
        (ColumnType::STRING, ColumnMeta::String { length, .. }) => {
            let n = if length < 256 { usize::from(r.u8("char_len")?) } else { usize::from(r.u16("char_len")?) };
            Value::String(take_shared(r, base, n, "char")?)
        }
        (ColumnType::ENUM, ColumnMeta::String { length, .. }) => match length {
            1 => Value::Enum(u16::from(r.u8("enum")?)),
            2 => Value::Enum(r.u16("enum")?),
            n => return Err(BodyError::invalid("enum", format!("{n}-byte ENUM"))),
        },
        (ColumnType::SET, ColumnMeta::String { length, .. }) => {
            if !(1..=8).contains(&length) {
                return Err(BodyError::invalid("set", format!("{length}-byte SET")));
            }
            Value::Set { bits: r.uint_le(usize::from(length), "set")?, bytes: length as u8 }
        }
        (ColumnType::BIT, ColumnMeta::Bit { bits, bytes }) => {
            let n = usize::from(bytes) + usize::from(bits > 0);
            Value::Bit { bits: u16::from(bytes) * 8 + u16::from(bits), bytes: r.take(n, "bit")?.to_vec() }
        }
        (ColumnType::BLOB | ColumnType::TINY_BLOB | ColumnType::MEDIUM_BLOB | ColumnType::LONG_BLOB, ColumnMeta::BlobLength(n)) => {
            let len = read_blob_len(r, n)?;
            Value::String(take_shared(r, base, len, "blob")?)
        }
        (ColumnType::JSON, ColumnMeta::BlobLength(n)) => Value::Json(json::json_to_text(read_blob(r, n)?)?),
        (ColumnType::GEOMETRY, ColumnMeta::BlobLength(n)) => {
            let len = read_blob_len(r, n)?;
            Value::Geometry(take_shared(r, base, len, "geometry")?)
        }
        (ColumnType::VECTOR, ColumnMeta::BlobLength(n)) => {
            let b = read_blob(r, n)?;
            if b.len() % 4 != 0 {
                return Err(BodyError::invalid("vector", format!("{} bytes", b.len())));
            }
            Value::Vector(b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
        }
        (ColumnType::NULL, _) => Value::Null,
        (t, m) => return Err(BodyError::invalid("column_type", format!("{} with metadata {m:?}", t.name()))),
    })
}

/// The length prefix of a BLOB-like value: `n` (1 to 4) bytes.
fn read_blob_len(r: &mut Reader<'_>, n: u8) -> Result<usize, BodyError> {
    if !(1..=4).contains(&n) {
        return Err(BodyError::invalid("blob_pack_length", format!("{n}")));
    }
    Ok(r.uint_le(usize::from(n), "blob_len")? as usize)
}

/// A value prefixed by its length in `n` (1 to 4) bytes.
pub fn read_blob<'a>(r: &mut Reader<'a>, n: u8) -> Result<&'a [u8], BodyError> {
    let len = read_blob_len(r, n)?;
    Ok(r.take(len, "blob")?)
}

fn frac(micros: u32, fsp: u8) -> String {
    if fsp == 0 {
        return String::new();
    }
    let s = format!("{micros:06}");
    format!(".{}", &s[..usize::from(fsp.min(6))])
}

/// C's `printf("%.*g", precision, v)`.
pub fn format_g(v: f64, precision: usize) -> String {
    if !v.is_finite() {
        return if v.is_nan() { "nan".into() } else if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let p = precision.max(1);
    if v == 0.0 {
        return if v.is_sign_negative() { "-0".into() } else { "0".into() };
    }
    let e = format!("{:.*e}", p - 1, v);
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let mant = strip_zeros(mant);
        format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn strip_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Bytes as mariadb-binlog quotes them (checked against MariaDB 10.11): every byte above 0x1F as
/// it is, control bytes as `\xNN`. Bytes that are not UTF-8 also become `\xNN`, so that the
/// result is a string.
pub fn quote_bytes(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() + 2);
    s.push('\'');
    push_escaped(b, &mut s);
    s.push('\'');
    s
}

/// Appends `b` with mysqlbinlog's escapes (see [`quote_bytes`]).
pub fn push_escaped(b: &[u8], s: &mut String) {
    for chunk in b.utf8_chunks() {
        for c in chunk.valid().chars() {
            if (c as u32) > 0x1f {
                s.push(c);
            } else {
                s.push_str(&format!("\\x{:02x}", c as u32));
            }
        }
        for &x in chunk.invalid() {
            s.push_str(&format!("\\x{x:02x}"));
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Int { value, width } => {
                write!(f, "{value}")?;
                if *value < 0 {
                    let mask = if *width >= 8 { u64::MAX } else { (1u64 << (8 * width)) - 1 };
                    write!(f, " ({})", (*value as u64) & mask)?;
                }
                Ok(())
            }
            Value::UInt(v) => write!(f, "{v}"),
            Value::Float(v) => f.write_str(&format_g(f64::from(*v), 6)),
            Value::Double(v) => f.write_str(&format_g(*v, 20)),
            Value::Decimal(s) => f.write_str(s),
            Value::Year(y) => write!(f, "{y}"),
            Value::Date { year, month, day } => write!(f, "'{year:04}:{month:02}:{day:02}'"),
            Value::Time { negative, hours, minutes, seconds, micros, fsp } => {
                let sign = if *negative { "-" } else { "" };
                write!(f, "'{sign}{hours:02}:{minutes:02}:{seconds:02}{}'", frac(*micros, *fsp))
            }
            Value::DateTime { year, month, day, hour, minute, second, micros, fsp } => write!(
                f,
                "'{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}{}'",
                frac(*micros, *fsp)
            ),
            Value::Timestamp { seconds, micros, fsp } => write!(f, "{seconds}{}", frac(*micros, *fsp)),
            Value::String(b) | Value::Geometry(b) => f.write_str(&quote_bytes(b)),
            Value::Enum(i) => write!(f, "{i}"),
            // As the servers' tools print it: the stored bytes in order, each high bit first.
            Value::Set { bits, bytes } => {
                f.write_str("b'")?;
                for b in &bits.to_le_bytes()[..usize::from(*bytes).min(8)] {
                    write!(f, "{b:08b}")?;
                }
                f.write_str("'")
            }
            Value::Bit { bits, bytes } => {
                let mut s = String::new();
                for b in bytes {
                    s.push_str(&format!("{b:08b}"));
                }
                let keep = usize::from(*bits).min(s.len());
                write!(f, "b'{}'", &s[s.len() - keep..])
            }
            Value::Json(j) => f.write_str(&quote_bytes(j.as_bytes())),
            Value::JsonDiffs(d) => {
                let parts: Vec<String> = d
                    .iter()
                    .map(|d| format!("{:?} {} {}", d.operation, d.path, d.value.as_deref().unwrap_or("")))
                    .collect();
                write!(f, "JSON_DIFF[{}]", parts.join("; "))
            }
            Value::Vector(v) => {
                let parts: Vec<String> = v.iter().map(|x| format_g(f64::from(*x), 6)).collect();
                write!(f, "[{}]", parts.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_g() {
        assert_eq!(format_g(1.5, 6), "1.5");
        assert_eq!(format_g(100000.0, 6), "100000");
        assert_eq!(format_g(1000000.0, 6), "1e+06");
        assert_eq!(format_g(0.0001, 6), "0.0001");
        assert_eq!(format_g(0.00001, 6), "1e-05");
        assert_eq!(format_g(1.1, 20), "1.1000000000000000888");
        assert_eq!(format_g(-2.5, 6), "-2.5");
    }

    #[test]
    fn negative_int_shows_unsigned_reading() {
        assert_eq!(Value::Int { value: -1, width: 1 }.to_string(), "-1 (255)");
        assert_eq!(Value::Int { value: 7, width: 4 }.to_string(), "7");
    }
}
