//! OK, ERR and EOF packets, and text result sets, both ways.

use super::capabilities::{DEPRECATE_EOF, PROTOCOL_41};
use super::errors::ServerError;
use crate::codec::{put_lenenc, Reader, Short};

/// An OK packet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ok {
    pub affected_rows: u64,
    pub last_insert_id: u64,
    pub status: u16,
    pub warnings: u16,
    pub info: Vec<u8>,
}

impl Ok {
    /// `header` is 0x00, or 0xFE for the OK that ends a result set under DEPRECATE_EOF.
    pub fn encode(&self, header: u8, out: &mut Vec<u8>) {
        out.push(header);
        put_lenenc(out, self.affected_rows);
        put_lenenc(out, self.last_insert_id);
        out.extend_from_slice(&self.status.to_le_bytes());
        out.extend_from_slice(&self.warnings.to_le_bytes());
        out.extend_from_slice(&self.info);
    }

    pub fn decode(payload: &[u8]) -> Result<Self, Short> {
        let mut r = Reader::new(payload);
        r.u8("ok_header")?;
        let affected_rows = r.lenenc_len("affected_rows")?;
        let last_insert_id = r.lenenc_len("last_insert_id")?;
        let status = if r.remaining() >= 2 { r.u16("status")? } else { 0 };
        let warnings = if r.remaining() >= 2 { r.u16("warnings")? } else { 0 };
        Ok(Ok { affected_rows, last_insert_id, status, warnings, info: r.rest().to_vec() })
    }
}

/// Writes an ERR packet (protocol 4.1 form, with the SQL state).
pub fn encode_err(e: &ServerError, out: &mut Vec<u8>) {
    out.push(0xff);
    out.extend_from_slice(&e.code.to_le_bytes());
    out.push(b'#');
    out.extend_from_slice(&e.sql_state);
    out.extend_from_slice(e.message.as_bytes());
}

/// Reads an ERR packet.
pub fn decode_err(payload: &[u8]) -> Result<ServerError, Short> {
    let mut r = Reader::new(payload);
    r.u8("err_header")?;
    let code = r.u16("error_code")?;
    let mut sql_state = *b"HY000";
    if r.peek() == Some(b'#') {
        r.u8("sql_state_marker")?;
        sql_state = r.array::<5>("sql_state")?;
    }
    Ok(ServerError { code, sql_state, message: String::from_utf8_lossy(r.rest()).into_owned() })
}

/// Writes an EOF packet.
pub fn encode_eof(status: u16, out: &mut Vec<u8>) {
    out.push(0xfe);
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&status.to_le_bytes());
}

/// Column types a text result set declares.
pub mod column_type {
    pub const LONGLONG: u8 = 8;
    pub const VAR_STRING: u8 = 253;
}

/// A text result set: column names and rows of optional text values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResultSet {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl ResultSet {
    pub fn new(columns: &[&str]) -> Self {
        ResultSet { columns: columns.iter().map(|c| c.to_string()).collect(), rows: Vec::new() }
    }

    pub fn row(mut self, values: Vec<Option<String>>) -> Self {
        self.rows.push(values);
        self
    }

    /// The packets' payloads, in order: column count, definitions, an EOF (without
    /// DEPRECATE_EOF), rows, then EOF or OK.
    pub fn encode(&self, client_caps: u32, status: u16) -> Vec<Vec<u8>> {
        let deprecate_eof = client_caps & DEPRECATE_EOF != 0;
        let mut msgs = Vec::with_capacity(self.columns.len() + self.rows.len() + 3);
        let mut count = Vec::new();
        put_lenenc(&mut count, self.columns.len() as u64);
        msgs.push(count);
        for c in &self.columns {
            msgs.push(column_definition(c, client_caps));
        }
        if !deprecate_eof {
            let mut eof = Vec::new();
            encode_eof(status, &mut eof);
            msgs.push(eof);
        }
        for row in &self.rows {
            let mut m = Vec::new();
            for v in row {
                match v {
                    None => m.push(0xfb),
                    Some(s) => {
                        put_lenenc(&mut m, s.len() as u64);
                        m.extend_from_slice(s.as_bytes());
                    }
                }
            }
            msgs.push(m);
        }
        let mut end = Vec::new();
        if deprecate_eof {
            Ok { status, ..Default::default() }.encode(0xfe, &mut end);
        } else {
            encode_eof(status, &mut end);
        }
        msgs.push(end);
        msgs
    }
}

fn column_definition(name: &str, client_caps: u32) -> Vec<u8> {
    let mut m = Vec::new();
    let s = |m: &mut Vec<u8>, v: &str| {
        put_lenenc(m, v.len() as u64);
        m.extend_from_slice(v.as_bytes());
    };
    if client_caps & PROTOCOL_41 != 0 {
        s(&mut m, "def");
        s(&mut m, "");
        s(&mut m, "");
        s(&mut m, "");
        s(&mut m, name);
        s(&mut m, name);
        m.push(0x0c);
        m.extend_from_slice(&33u16.to_le_bytes()); // utf8_general_ci
        m.extend_from_slice(&1024u32.to_le_bytes());
        m.push(column_type::VAR_STRING);
        m.extend_from_slice(&0u16.to_le_bytes());
        m.push(0x1f);
        m.extend_from_slice(&[0, 0]);
    } else {
        s(&mut m, "");
        s(&mut m, name);
        m.extend_from_slice(&[3, 0, 4, 0]);
        m.extend_from_slice(&[1, column_type::VAR_STRING]);
        m.extend_from_slice(&[3, 0, 0, 0]);
    }
    m
}

/// Reads a text result set's rows from its packets after the column count (client side).
pub fn decode_text_row(payload: &[u8], columns: usize) -> Result<Vec<Option<Vec<u8>>>, Short> {
    let mut r = Reader::new(payload);
    let mut row = Vec::with_capacity(columns);
    for _ in 0..columns {
        if r.peek() == Some(0xfb) {
            r.u8("null")?;
            row.push(None);
        } else {
            row.push(Some(r.lenenc_bytes("value")?.to_vec()));
        }
    }
    Ok(row)
}
