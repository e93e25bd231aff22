//! Temporal values: the old layouts (DATE, TIME, DATETIME, TIMESTAMP) and the MySQL 5.6.4+
//! fractional ones (TIME2, DATETIME2, TIMESTAMP2), which are big-endian and offset so that they
//! sort as bytes.

use super::Value;
use crate::binlog::error::BodyError;
use crate::codec::Reader;

/// Bytes of the fractional part for a precision of 0 to 6.
pub fn frac_bytes(fsp: u8) -> Result<usize, BodyError> {
    match fsp {
        0..=6 => Ok(usize::from(fsp).div_ceil(2)),
        _ => Err(BodyError::invalid("fsp", format!("fractional precision {fsp}"))),
    }
}

/// Reads the fractional part and scales it to microseconds.
fn read_frac(r: &mut Reader<'_>, fsp: u8) -> Result<u32, BodyError> {
    let n = frac_bytes(fsp)?;
    let v = r.uint_be(n, "fraction")? as u32;
    Ok(match n {
        1 => v * 10_000,
        2 => v * 100,
        _ => v,
    })
}

pub fn date(v: u32) -> Value {
    Value::Date { year: (v >> 9) as u16, month: ((v >> 5) & 15) as u8, day: (v & 31) as u8 }
}

pub fn time_old(v: i32) -> Value {
    let negative = v < 0;
    let a = v.unsigned_abs();
    Value::Time { negative, hours: a / 10000, minutes: (a / 100 % 100) as u8, seconds: (a % 100) as u8, micros: 0, fsp: 0 }
}

pub fn datetime_old(v: u64) -> Value {
    let (d, t) = (v / 1_000_000, v % 1_000_000);
    Value::DateTime {
        year: (d / 10000) as u16,
        month: (d / 100 % 100) as u8,
        day: (d % 100) as u8,
        hour: (t / 10000) as u8,
        minute: (t / 100 % 100) as u8,
        second: (t % 100) as u8,
        micros: 0,
        fsp: 0,
    }
}

pub fn timestamp2(r: &mut Reader<'_>, fsp: u8) -> Result<Value, BodyError> {
    let seconds = r.uint_be(4, "timestamp")? as u32;
    let micros = read_frac(r, fsp)?;
    Ok(Value::Timestamp { seconds, micros, fsp })
}

pub fn datetime2(r: &mut Reader<'_>, fsp: u8) -> Result<Value, BodyError> {
    const OFFSET: i64 = 0x80_0000_0000;
    let packed = r.uint_be(5, "datetime")? as i64 - OFFSET;
    let micros = read_frac(r, fsp)?;
    let int = packed.unsigned_abs();
    let ymd = int >> 17;
    let ym = ymd >> 5;
    let hms = int & 0x1_ffff;
    Ok(Value::DateTime {
        year: (ym / 13) as u16,
        month: (ym % 13) as u8,
        day: (ymd & 31) as u8,
        hour: (hms >> 12) as u8,
        minute: ((hms >> 6) & 63) as u8,
        second: (hms & 63) as u8,
        micros,
        fsp,
    })
}

pub fn time2(r: &mut Reader<'_>, fsp: u8) -> Result<Value, BodyError> {
    const INT_OFFSET: i64 = 0x80_0000;
    const OFFSET: i64 = 0x8000_0000_0000;
    // Rebuild MySQL's packed form: the integer part shifted 24 bits over microseconds.
    let packed: i64 = match frac_bytes(fsp)? {
        0 => (r.uint_be(3, "time")? as i64 - INT_OFFSET) << 24,
        1 => {
            let mut int = r.uint_be(3, "time")? as i64 - INT_OFFSET;
            let mut frac = i64::from(r.u8("fraction")?);
            if int < 0 && frac != 0 {
                int += 1;
                frac -= 0x100;
            }
            (int << 24) + frac * 10_000
        }
        2 => {
            let mut int = r.uint_be(3, "time")? as i64 - INT_OFFSET;
            let mut frac = r.uint_be(2, "fraction")? as i64;
            if int < 0 && frac != 0 {
                int += 1;
                frac -= 0x10000;
            }
            (int << 24) + frac * 100
        }
        _ => r.uint_be(6, "time")? as i64 - OFFSET,
    };
    let negative = packed < 0;
    let a = packed.unsigned_abs();
    let hms = a >> 24;
    Ok(Value::Time {
        negative,
        hours: ((hms >> 12) % (1 << 10)) as u32,
        minutes: ((hms >> 6) % 64) as u8,
        seconds: (hms % 64) as u8,
        micros: (a % (1 << 24)) as u32,
        fsp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time2_negative_with_fraction() {
        // '-00:00:01.5' as TIME(1): MySQL stores the floored integer part -2 and the fraction
        // byte -50 (two's complement), which a reader folds back into -1.5 s.
        let bytes = [0x7f, 0xff, 0xfe, 0xce];
        let v = time2(&mut Reader::new(&bytes), 1).unwrap();
        assert_eq!(v, Value::Time { negative: true, hours: 0, minutes: 0, seconds: 1, micros: 500_000, fsp: 1 });
    }

    #[test]
    fn datetime2_round_values() {
        // 2017-04-13 06:34:30 as DATETIME(0)
        let ym: u64 = 2017 * 13 + 4;
        let ymd = (ym << 5) | 13;
        let hms: u64 = (6 << 12) | (34 << 6) | 30;
        let packed = ((ymd << 17) | hms) + 0x80_0000_0000;
        let b = packed.to_be_bytes();
        let v = datetime2(&mut Reader::new(&b[3..]), 0).unwrap();
        assert_eq!(v.to_string(), "'2017-04-13 06:34:30'");
    }
}
