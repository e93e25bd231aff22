//! TABLE_MAP (19): binds a table id to a schema, table and column list for the rows events that
//! follow. The optional metadata (binlog_row_metadata, MySQL 8.0+ and MariaDB 10.5+) adds
//! signedness, charsets, names, ENUM/SET strings, geometry types, primary key and visibility.

use crate::binlog::error::BodyError;
use crate::binlog::value::column_type::{ColumnMeta, ColumnType};
use crate::codec::{put_lenenc, Reader};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMap {
    pub table_id: u64,
    /// 4 in MySQL 5.1.0 to 5.1.3 files, 6 after.
    pub table_id_len: u8,
    pub flags: u16,
    pub schema: Vec<u8>,
    pub table: Vec<u8>,
    pub column_types: Vec<ColumnType>,
    /// The metadata block as stored; `None` in MySQL 5.1 pre-GA files, which have neither it nor
    /// the NULL bitmap.
    pub metadata: Option<Vec<u8>>,
    pub null_bitmap: Vec<u8>,
    /// Optional metadata fields, in their order, as stored.
    pub optional: Vec<(u8, Vec<u8>)>,
    /// Everything decoded per column.
    pub columns: Vec<ColumnInfo>,
}

/// One column as the table map describes it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnInfo {
    pub column_type: ColumnType,
    pub meta: ColumnMeta,
    pub nullable: bool,
    /// From SIGNEDNESS: `Some(true)` for UNSIGNED.
    pub unsigned: Option<bool>,
    pub charset: Option<u64>,
    pub name: Option<String>,
    /// ENUM or SET member strings.
    pub members: Option<Vec<Vec<u8>>>,
    pub geometry_type: Option<u64>,
    pub primary_key_prefix: Option<u64>,
    pub visible: Option<bool>,
}

/// Optional metadata field types.
pub mod opt {
    pub const SIGNEDNESS: u8 = 1;
    pub const DEFAULT_CHARSET: u8 = 2;
    pub const COLUMN_CHARSET: u8 = 3;
    pub const COLUMN_NAME: u8 = 4;
    pub const SET_STR_VALUE: u8 = 5;
    pub const ENUM_STR_VALUE: u8 = 6;
    pub const GEOMETRY_TYPE: u8 = 7;
    pub const SIMPLE_PRIMARY_KEY: u8 = 8;
    pub const PRIMARY_KEY_WITH_PREFIX: u8 = 9;
    pub const ENUM_AND_SET_DEFAULT_CHARSET: u8 = 10;
    pub const ENUM_AND_SET_COLUMN_CHARSET: u8 = 11;
    pub const COLUMN_VISIBILITY: u8 = 12;
}

/// Reads a table id of 4 or 6 bytes, as the post-header length says.
pub(crate) fn read_table_id(r: &mut Reader<'_>, post_header_len: u8) -> Result<(u64, u8), BodyError> {
    if post_header_len == 6 {
        Ok((u64::from(r.u32("table_id")?), 4))
    } else {
        Ok((r.u48("table_id")?, 6))
    }
}

fn bit(bitmap: &[u8], i: usize) -> bool {
    bitmap.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0)
}

/// MSB-first bitmaps of the optional metadata (signedness, visibility).
fn bit_msb(bitmap: &[u8], i: usize) -> bool {
    bitmap.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}

fn len_usize(r: &mut Reader<'_>, field: &'static str) -> Result<usize, BodyError> {
    let n = r.lenenc(field)?.ok_or_else(|| BodyError::invalid(field, "NULL length"))?;
    usize::try_from(n).map_err(|_| BodyError::invalid(field, "length too large"))
}

impl TableMap {
    pub fn decode(body: &[u8], post_header_len: u8) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let (table_id, table_id_len) = read_table_id(&mut r, post_header_len)?;
        let flags = r.u16("flags")?;
        let n = r.u8("schema_len")?;
        let schema = r.take(usize::from(n), "schema")?.to_vec();
        r.u8("schema_nul")?;
        let n = r.u8("table_len")?;
        let table = r.take(usize::from(n), "table")?.to_vec();
        r.u8("table_nul")?;
        let count = len_usize(&mut r, "column_count")?;
        let types = r.take(count, "column_types")?;
        let column_types: Vec<ColumnType> = types.iter().map(|&t| ColumnType(t)).collect();
        let (metadata, null_bitmap) = if r.is_empty() {
            (None, Vec::new())
        } else {
            let m = r.lenenc_bytes("metadata")?.to_vec();
            (Some(m), r.take(count.div_ceil(8), "null_bitmap")?.to_vec())
        };
        let mut optional = Vec::new();
        while !r.is_empty() {
            let t = r.u8("optional_metadata_type")?;
            let v = r.lenenc_bytes("optional_metadata")?.to_vec();
            optional.push((t, v));
        }
        let mut m = Reader::new(metadata.as_deref().unwrap_or_default());
        let mut columns = Vec::with_capacity(count);
        for (i, &t) in column_types.iter().enumerate() {
            let meta = match metadata {
                Some(_) => ColumnMeta::read(t, &mut m)?,
                None => ColumnMeta::None,
            };
            let nullable = metadata.is_none() || bit(&null_bitmap, i);
            columns.push(ColumnInfo { column_type: t, meta, nullable, ..Default::default() });
        }
        if !m.is_empty() {
            return Err(BodyError::invalid("metadata", format!("{} bytes left over", m.remaining())));
        }
        let mut tm = TableMap { table_id, table_id_len, flags, schema, table, column_types, metadata, null_bitmap, optional, columns };
        tm.apply_optional()?;
        Ok(tm)
    }

    fn apply_optional(&mut self) -> Result<(), BodyError> {
        let real: Vec<ColumnType> = self.columns.iter().map(|c| c.meta.real_type(c.column_type)).collect();
        let idx = |pred: &dyn Fn(ColumnType) -> bool| -> Vec<usize> {
            real.iter().enumerate().filter(|(_, &t)| pred(t)).map(|(i, _)| i).collect()
        };
        let numeric = idx(&|t| t.is_numeric());
        let character = idx(&|t| t.is_character());
        let enum_set = idx(&|t| t == ColumnType::ENUM || t == ColumnType::SET);
        let sets = idx(&|t| t == ColumnType::SET);
        let enums = idx(&|t| t == ColumnType::ENUM);
        let geoms = idx(&|t| t == ColumnType::GEOMETRY);
        let optional = std::mem::take(&mut self.optional);
        for (t, v) in &optional {
            let mut r = Reader::new(v);
            match *t {
                opt::SIGNEDNESS => {
                    for (k, &i) in numeric.iter().enumerate() {
                        self.columns[i].unsigned = Some(bit_msb(v, k));
                    }
                }
                opt::DEFAULT_CHARSET | opt::ENUM_AND_SET_DEFAULT_CHARSET => {
                    let targets = if *t == opt::DEFAULT_CHARSET { &character } else { &enum_set };
                    let default = r.lenenc_len("default_charset")?;
                    for &i in targets {
                        self.columns[i].charset = Some(default);
                    }
                    while !r.is_empty() {
                        let k = len_usize(&mut r, "charset_column")?;
                        let cs = r.lenenc_len("charset")?;
                        let i = *targets.get(k).ok_or_else(|| BodyError::invalid("charset_column", format!("{k}")))?;
                        self.columns[i].charset = Some(cs);
                    }
                }
                opt::COLUMN_CHARSET | opt::ENUM_AND_SET_COLUMN_CHARSET => {
                    let targets = if *t == opt::COLUMN_CHARSET { &character } else { &enum_set };
                    for &i in targets {
                        self.columns[i].charset = Some(r.lenenc_len("column_charset")?);
                    }
                }
                opt::COLUMN_NAME => {
                    for c in self.columns.iter_mut() {
                        c.name = Some(String::from_utf8_lossy(r.lenenc_bytes("column_name")?).into_owned());
                    }
                }
                opt::SET_STR_VALUE | opt::ENUM_STR_VALUE => {
                    let targets = if *t == opt::SET_STR_VALUE { &sets } else { &enums };
                    for &i in targets {
                        let n = len_usize(&mut r, "member_count")?;
                        let mut members = Vec::with_capacity(n.min(65536));
                        for _ in 0..n {
                            members.push(r.lenenc_bytes("member")?.to_vec());
                        }
                        self.columns[i].members = Some(members);
                    }
                }
                opt::GEOMETRY_TYPE => {
                    for &i in &geoms {
                        self.columns[i].geometry_type = Some(r.lenenc_len("geometry_type")?);
                    }
                }
                opt::SIMPLE_PRIMARY_KEY => {
                    while !r.is_empty() {
                        let i = len_usize(&mut r, "primary_key")?;
                        self.column_mut(i, "primary_key")?.primary_key_prefix = Some(0);
                    }
                }
                opt::PRIMARY_KEY_WITH_PREFIX => {
                    while !r.is_empty() {
                        let i = len_usize(&mut r, "primary_key")?;
                        let p = r.lenenc_len("prefix")?;
                        self.column_mut(i, "primary_key")?.primary_key_prefix = Some(p);
                    }
                }
                opt::COLUMN_VISIBILITY => {
                    for i in 0..self.columns.len() {
                        self.columns[i].visible = Some(bit_msb(v, i));
                    }
                }
                _ => {}
            }
            if matches!(*t, opt::COLUMN_CHARSET | opt::ENUM_AND_SET_COLUMN_CHARSET | opt::COLUMN_NAME | opt::SET_STR_VALUE | opt::ENUM_STR_VALUE | opt::GEOMETRY_TYPE)
                && !r.is_empty()
            {
                return Err(BodyError::invalid("optional_metadata", format!("type {t}: {} bytes left over", r.remaining())));
            }
        }
        self.optional = optional;
        Ok(())
    }

    fn column_mut(&mut self, i: usize, field: &'static str) -> Result<&mut ColumnInfo, BodyError> {
        let n = self.columns.len();
        self.columns.get_mut(i).ok_or_else(|| BodyError::invalid(field, format!("column {i} of {n}")))
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.table_id.to_le_bytes()[..usize::from(self.table_id_len)]);
        out.extend_from_slice(&self.flags.to_le_bytes());
        out.push(self.schema.len() as u8);
        out.extend_from_slice(&self.schema);
        out.push(0);
        out.push(self.table.len() as u8);
        out.extend_from_slice(&self.table);
        out.push(0);
        put_lenenc(out, self.column_types.len() as u64);
        out.extend(self.column_types.iter().map(|t| t.0));
        if let Some(m) = &self.metadata {
            put_lenenc(out, m.len() as u64);
            out.extend_from_slice(m);
            out.extend_from_slice(&self.null_bitmap);
        }
        for (t, v) in &self.optional {
            out.push(*t);
            put_lenenc(out, v.len() as u64);
            out.extend_from_slice(v);
        }
    }

    /// `schema`.`table`, as mysqlbinlog prints it.
    pub fn qualified_name(&self) -> String {
        format!("`{}`.`{}`", String::from_utf8_lossy(&self.schema), String::from_utf8_lossy(&self.table))
    }
}
