//! Rows events: WRITE, UPDATE and DELETE in every version (v0 pre-GA 20-22, v1 23-25, v2 30-32),
//! MySQL's PARTIAL_UPDATE_ROWS (39) and MariaDB's compressed forms (166-171). Row images decode
//! into typed values with the table map that precedes them.

use super::table_map::{read_table_id, TableMap};
use crate::binlog::compress::mariadb_inflate;
use crate::binlog::error::BodyError;
use crate::binlog::event_type::EventType;
use crate::binlog::value::column_type::{ColumnMeta, ColumnType};
use crate::binlog::value::json_diff::read_diffs;
use crate::binlog::value::{read_blob, read_value, Value};
use crate::codec::{put_lenenc, Reader};
use bytes::Bytes;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowsKind {
    Write,
    Update,
    Delete,
    /// UPDATE whose after images may carry JSON diffs.
    PartialUpdate,
}

/// Rows event flags.
pub mod flags {
    pub const STMT_END: u16 = 0x0001;
    pub const NO_FOREIGN_KEY_CHECKS: u16 = 0x0002;
    pub const RELAXED_UNIQUE_CHECKS: u16 = 0x0004;
    pub const COMPLETE_ROWS: u16 = 0x0008;
}

#[derive(Debug, Clone, PartialEq)]
pub struct RowsEvent {
    pub kind: RowsKind,
    /// 0 (pre-GA), 1 or 2.
    pub version: u8,
    /// MariaDB log_bin_compress: `data` is a compressed block.
    pub compressed: bool,
    pub table_id: u64,
    pub table_id_len: u8,
    pub flags: u16,
    /// v2 extra data (NDB info, partition id), without its length.
    pub extra_data: Option<Vec<u8>>,
    pub column_count: u64,
    /// Columns present in the before image (DELETE, UPDATE) or the after image (WRITE).
    pub columns: Vec<u8>,
    /// Columns present in UPDATE after images.
    pub columns_after: Option<Vec<u8>>,
    /// The row images as stored.
    pub data: Bytes,
    /// `data` inflated, for compressed events.
    pub inflated: Option<Bytes>,
    /// Decoded rows; empty until decoded with the table map.
    pub rows: Vec<RowChange>,
    /// Why `rows` stays empty although the table map is known.
    pub undecodable: Option<&'static str>,
}

/// One changed row.
#[derive(Debug, Clone, PartialEq)]
pub struct RowChange {
    pub before: Option<RowImage>,
    pub after: Option<RowImage>,
}

/// Present columns of one image: (column index, value).
pub type RowImage = Vec<(usize, Value)>;

impl RowsKind {
    /// Kind, version and compression of a rows event type, or `None` for other types.
    pub fn of(t: EventType) -> Option<(RowsKind, u8, bool)> {
        use RowsKind::*;
        Some(match t.0 {
            20 => (Write, 0, false),
            21 => (Update, 0, false),
            22 => (Delete, 0, false),
            23 => (Write, 1, false),
            24 => (Update, 1, false),
            25 => (Delete, 1, false),
            30 => (Write, 2, false),
            31 => (Update, 2, false),
            32 => (Delete, 2, false),
            39 => (PartialUpdate, 2, false),
            166 => (Write, 1, true),
            167 => (Update, 1, true),
            168 => (Delete, 1, true),
            169 => (Write, 2, true),
            170 => (Update, 2, true),
            171 => (Delete, 2, true),
            _ => return None,
        })
    }
}

fn bit(bitmap: &[u8], i: usize) -> bool {
    bitmap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

impl RowsEvent {
    /// Only the table id and flags (which say where a statement ends): for readers that pass
    /// events on untouched, a dump or the upstream, which need neither the row data nor it
    /// inflated. The rest is left empty.
    pub fn decode_head(body: &[u8], t: EventType, post_header_len: u8) -> Result<Self, BodyError> {
        Self::read_head(body, t, post_header_len).map(|(ev, _)| ev)
    }

    /// The head, and the reader positioned after it.
    fn read_head(body: &[u8], t: EventType, post_header_len: u8) -> Result<(Self, Reader<'_>), BodyError> {
        let (kind, version, compressed) = RowsKind::of(t).ok_or_else(|| BodyError::invalid("type", "not a rows event"))?;
        let mut r = Reader::new(body);
        let (table_id, table_id_len) = read_table_id(&mut r, post_header_len)?;
        let flags = r.u16("flags")?;
        let head = RowsEvent {
            kind,
            version,
            compressed,
            table_id,
            table_id_len,
            flags,
            extra_data: None,
            column_count: 0,
            columns: Vec::new(),
            columns_after: None,
            data: Bytes::new(),
            inflated: None,
            rows: Vec::new(),
            undecodable: None,
        };
        Ok((head, r))
    }

    pub fn decode(body: &[u8], t: EventType, post_header_len: u8) -> Result<Self, BodyError> {
        let (mut ev, mut r) = Self::read_head(body, t, post_header_len)?;
        if ev.version == 2 {
            let n = r.u16("extra_data_len")?;
            if n < 2 {
                return Err(BodyError::invalid("extra_data_len", format!("{n}")));
            }
            ev.extra_data = Some(r.take(usize::from(n) - 2, "extra_data")?.to_vec());
        }
        ev.column_count = r.lenenc_len("column_count")?;
        let width = usize::try_from(ev.column_count.div_ceil(8)).map_err(|_| BodyError::invalid("column_count", "too large"))?;
        ev.columns = r.take(width, "columns_bitmap")?.to_vec();
        if matches!(ev.kind, RowsKind::Update | RowsKind::PartialUpdate) && ev.version > 0 {
            ev.columns_after = Some(r.take(width, "columns_after_bitmap")?.to_vec());
        }
        ev.data = Bytes::copy_from_slice(r.rest());
        if ev.compressed {
            ev.inflated = Some(Bytes::from(mariadb_inflate(&ev.data)?));
        }
        Ok(ev)
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.table_id.to_le_bytes()[..usize::from(self.table_id_len)]);
        out.extend_from_slice(&self.flags.to_le_bytes());
        if let Some(x) = &self.extra_data {
            out.extend_from_slice(&((x.len() + 2) as u16).to_le_bytes());
            out.extend_from_slice(x);
        }
        put_lenenc(out, self.column_count);
        out.extend_from_slice(&self.columns);
        if let Some(a) = &self.columns_after {
            out.extend_from_slice(a);
        }
        out.extend_from_slice(&self.data);
    }

    /// The row images, inflated if they were compressed.
    pub fn row_data(&self) -> &Bytes {
        self.inflated.as_ref().unwrap_or(&self.data)
    }

    pub fn is_stmt_end(&self) -> bool {
        self.flags & flags::STMT_END != 0
    }

    /// Why rows of `table` cannot be decoded at all, when they cannot.
    pub fn undecodable_reason(table: &TableMap) -> Option<&'static str> {
        // MySQL 5.1 pre-GA wrote the server's record format with no column metadata: the layout
        // depends on storage options the binlog does not record.
        table.metadata.is_none().then_some("pre-GA table map without column metadata")
    }

    /// Decodes every row with the table's description.
    pub fn decode_rows(&self, table: &TableMap) -> Result<Vec<RowChange>, BodyError> {
        if self.column_count != table.columns.len() as u64 {
            return Err(BodyError::invalid(
                "column_count",
                format!("rows event has {} columns, table map {} has {}", self.column_count, table.qualified_name(), table.columns.len()),
            ));
        }
        let present = |bitmap: &[u8]| -> Vec<usize> { (0..table.columns.len()).filter(|&i| bit(bitmap, i)).collect() };
        let before_cols = present(&self.columns);
        let after_cols = match &self.columns_after {
            Some(a) => present(a),
            None => before_cols.clone(),
        };
        let n_json_after = after_cols.iter().filter(|&&i| table.columns[i].column_type == ColumnType::JSON).count();
        let base = self.row_data();
        let mut r = Reader::new(base);
        let mut rows = Vec::new();
        while !r.is_empty() {
            let n = rows.len();
            let start = r.remaining();
            let row = match self.kind {
                RowsKind::Write => RowChange { before: None, after: Some(read_image(&mut r, base, table, &before_cols, n, None)?) },
                RowsKind::Delete => RowChange { before: Some(read_image(&mut r, base, table, &before_cols, n, None)?), after: None },
                RowsKind::Update => {
                    let before = read_image(&mut r, base, table, &before_cols, n, None)?;
                    let after = read_image(&mut r, base, table, &after_cols, n, None)?;
                    RowChange { before: Some(before), after: Some(after) }
                }
                RowsKind::PartialUpdate => {
                    let before = read_image(&mut r, base, table, &before_cols, n, None)?;
                    let options = r.lenenc_len("value_options")?;
                    let partial = if options & 1 != 0 { Some(r.take(n_json_after.div_ceil(8), "partial_bits")?) } else { None };
                    let after = read_image(&mut r, base, table, &after_cols, n, partial)?;
                    RowChange { before: Some(before), after: Some(after) }
                }
            };
            if r.remaining() == start {
                // Only possible with no columns present: the data would never be used up.
                return Err(BodyError::Row { row: n, column: 0, detail: "row image with no columns".into() });
            }
            rows.push(row);
        }
        Ok(rows)
    }
}

/// Reads one row image: a NULL bitmap over the present columns (`present`, in order), then
/// their values. `partial` marks JSON columns (counted among present JSON columns) that hold diffs.
fn read_image(r: &mut Reader<'_>, base: &Bytes, table: &TableMap, present: &[usize], row: usize, partial: Option<&[u8]>) -> Result<RowImage, BodyError> {
    let nulls = r.take(present.len().div_ceil(8), "null_bitmap")?;
    let mut image = Vec::with_capacity(present.len());
    let mut json_k = 0;
    for (k, &i) in present.iter().enumerate() {
        let col = &table.columns[i];
        let is_json = col.column_type == ColumnType::JSON;
        let diffs = is_json && partial.is_some_and(|p| bit(p, json_k));
        if is_json {
            json_k += 1;
        }
        if bit(nulls, k) {
            image.push((i, Value::Null));
            continue;
        }
        let v = if diffs {
            let ColumnMeta::BlobLength(n) = col.meta else {
                return Err(BodyError::Row { row, column: i, detail: "JSON column without length metadata".into() });
            };
            read_blob(r, n).and_then(read_diffs).map(Value::JsonDiffs)
        } else {
            read_value(r, base, col)
        };
        let v = v.map_err(|e| BodyError::Row { row, column: i, detail: e.to_string() })?;
        image.push((i, v));
    }
    Ok(image)
}
