//! USER_VAR (14): the value of a user variable (`@x`) that the next statement reads.

use super::simple::finish;
use crate::binlog::error::BodyError;
use crate::codec::Reader;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserVar {
    pub name: Vec<u8>,
    /// `None` when the variable is NULL.
    pub value: Option<UserVarValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserVarValue {
    /// STRING_RESULT 0, REAL_RESULT 1, INT_RESULT 2, ROW_RESULT 3, DECIMAL_RESULT 4.
    pub kind: u8,
    pub charset: u32,
    pub value: Vec<u8>,
    /// The flags byte of MySQL 5.1.? on (bit 0: unsigned); absent in older servers.
    pub flags: Option<u8>,
}

impl UserVar {
    pub fn decode(body: &[u8]) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let n = r.u32("name_len")? as usize;
        let name = r.take(n, "name")?.to_vec();
        let is_null = r.u8("is_null")? != 0;
        let value = if is_null {
            None
        } else {
            let kind = r.u8("type")?;
            let charset = r.u32("charset")?;
            let len = r.u32("value_len")? as usize;
            let value = r.take(len, "value")?.to_vec();
            let flags = if r.is_empty() { None } else { Some(r.u8("flags")?) };
            Some(UserVarValue { kind, charset, value, flags })
        };
        finish(&r)?;
        Ok(UserVar { name, value })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&(self.name.len() as u32).to_le_bytes());
        out.extend_from_slice(&self.name);
        match &self.value {
            None => out.push(1),
            Some(v) => {
                out.push(0);
                out.push(v.kind);
                out.extend_from_slice(&v.charset.to_le_bytes());
                out.extend_from_slice(&(v.value.len() as u32).to_le_bytes());
                out.extend_from_slice(&v.value);
                if let Some(f) = v.flags {
                    out.push(f);
                }
            }
        }
    }

    /// The value as mysqlbinlog shows it: strings quoted, numbers decoded.
    pub fn value_text(&self) -> String {
        let Some(v) = &self.value else { return "NULL".into() };
        match v.kind {
            1 if v.value.len() == 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&v.value);
                format!("{}", f64::from_le_bytes(b))
            }
            2 if v.value.len() == 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&v.value);
                if v.flags.unwrap_or(0) & 1 != 0 {
                    format!("{}", u64::from_le_bytes(b))
                } else {
                    format!("{}", i64::from_le_bytes(b))
                }
            }
            4 if v.value.len() >= 2 => {
                let (p, s) = (v.value[0], v.value[1]);
                crate::binlog::value::decimal::decode_decimal(&v.value[2..], p, s)
                    .unwrap_or_else(|_| format!("0x{}", crate::codec::hex(&v.value)))
            }
            _ => format!("'{}'", String::from_utf8_lossy(&v.value)),
        }
    }
}
