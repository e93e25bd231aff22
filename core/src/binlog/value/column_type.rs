//! Column types as TABLE_MAP lists them (`enum_field_types`), and the per-column metadata that
//! tells how a value of that type is laid out in a row image.

use crate::binlog::error::BodyError;
use crate::codec::Reader;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ColumnType(pub u8);

impl Default for ColumnType {
    fn default() -> Self {
        ColumnType::NULL
    }
}

impl ColumnType {
    pub const DECIMAL: ColumnType = ColumnType(0);
    pub const TINY: ColumnType = ColumnType(1);
    pub const SHORT: ColumnType = ColumnType(2);
    pub const LONG: ColumnType = ColumnType(3);
    pub const FLOAT: ColumnType = ColumnType(4);
    pub const DOUBLE: ColumnType = ColumnType(5);
    pub const NULL: ColumnType = ColumnType(6);
    pub const TIMESTAMP: ColumnType = ColumnType(7);
    pub const LONGLONG: ColumnType = ColumnType(8);
    pub const INT24: ColumnType = ColumnType(9);
    pub const DATE: ColumnType = ColumnType(10);
    pub const TIME: ColumnType = ColumnType(11);
    pub const DATETIME: ColumnType = ColumnType(12);
    pub const YEAR: ColumnType = ColumnType(13);
    pub const NEWDATE: ColumnType = ColumnType(14);
    pub const VARCHAR: ColumnType = ColumnType(15);
    pub const BIT: ColumnType = ColumnType(16);
    pub const TIMESTAMP2: ColumnType = ColumnType(17);
    pub const DATETIME2: ColumnType = ColumnType(18);
    pub const TIME2: ColumnType = ColumnType(19);
    pub const TYPED_ARRAY: ColumnType = ColumnType(20);
    pub const VECTOR: ColumnType = ColumnType(242);
    pub const INVALID: ColumnType = ColumnType(243);
    pub const BOOL: ColumnType = ColumnType(244);
    pub const JSON: ColumnType = ColumnType(245);
    pub const NEWDECIMAL: ColumnType = ColumnType(246);
    pub const ENUM: ColumnType = ColumnType(247);
    pub const SET: ColumnType = ColumnType(248);
    pub const TINY_BLOB: ColumnType = ColumnType(249);
    pub const MEDIUM_BLOB: ColumnType = ColumnType(250);
    pub const LONG_BLOB: ColumnType = ColumnType(251);
    pub const BLOB: ColumnType = ColumnType(252);
    pub const VAR_STRING: ColumnType = ColumnType(253);
    pub const STRING: ColumnType = ColumnType(254);
    pub const GEOMETRY: ColumnType = ColumnType(255);

    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "DECIMAL",
            1 => "TINYINT",
            2 => "SMALLINT",
            3 => "INT",
            4 => "FLOAT",
            5 => "DOUBLE",
            6 => "NULL",
            7 => "TIMESTAMP",
            8 => "BIGINT",
            9 => "MEDIUMINT",
            10 => "DATE",
            11 => "TIME",
            12 => "DATETIME",
            13 => "YEAR",
            14 => "NEWDATE",
            15 => "VARCHAR",
            16 => "BIT",
            17 => "TIMESTAMP2",
            18 => "DATETIME2",
            19 => "TIME2",
            20 => "TYPED_ARRAY",
            242 => "VECTOR",
            245 => "JSON",
            246 => "NEWDECIMAL",
            247 => "ENUM",
            248 => "SET",
            249 => "TINYBLOB",
            250 => "MEDIUMBLOB",
            251 => "LONGBLOB",
            252 => "BLOB",
            253 => "VARSTRING",
            254 => "STRING",
            255 => "GEOMETRY",
            _ => "UNKNOWN",
        }
    }

    /// Bytes of metadata this type has in TABLE_MAP's metadata block.
    pub fn metadata_len(self) -> Option<usize> {
        match self.0 {
            4 | 5 | 17 | 18 | 19 | 242 | 245 | 249..=252 | 255 => Some(1),
            15 | 16 | 246 | 247 | 248 | 253 | 254 => Some(2),
            0..=3 | 6..=14 => Some(0),
            _ => None,
        }
    }

    /// Whether the SIGNEDNESS optional metadata has a bit for this type.
    pub fn is_numeric(self) -> bool {
        matches!(self.0, 0..=5 | 8 | 9 | 246)
    }

    /// Whether COLUMN_CHARSET / DEFAULT_CHARSET have an entry for this type (the real type, after
    /// STRING's metadata has said whether it is ENUM or SET). MySQL 9 counts VECTOR (binary).
    pub fn is_character(self) -> bool {
        matches!(self.0, 15 | 242 | 249..=252 | 253 | 254)
    }
}

/// A column's type with its metadata decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColumnMeta {
    /// Types with no metadata.
    #[default]
    None,
    /// FLOAT, DOUBLE: bytes of storage.
    PackLength(u8),
    /// VARCHAR and VAR_STRING: maximum length in bytes.
    VarLength(u16),
    /// BLOB, TEXT, JSON, GEOMETRY, VECTOR: bytes of the length prefix.
    BlobLength(u8),
    /// DECIMAL(precision, scale).
    Decimal { precision: u8, scale: u8 },
    /// BIT(bits): whole bytes and the bits left over.
    Bit { bits: u8, bytes: u8 },
    /// TIMESTAMP2, DATETIME2, TIME2: fractional seconds precision.
    Fsp(u8),
    /// STRING(254) whose real type is STRING, ENUM or SET, with a maximum length (STRING) or
    /// the size in bytes of a value (ENUM, SET).
    String { real_type: ColumnType, length: u16 },
}

impl ColumnMeta {
    /// Reads the metadata of `t` from TABLE_MAP's metadata block.
    pub fn read(t: ColumnType, r: &mut Reader<'_>) -> Result<ColumnMeta, BodyError> {
        Ok(match t.0 {
            4 | 5 => ColumnMeta::PackLength(r.u8("float_pack_length")?),
            17..=19 => ColumnMeta::Fsp(r.u8("fsp")?),
            242 | 245 | 249..=252 | 255 => ColumnMeta::BlobLength(r.u8("blob_pack_length")?),
            15 | 253 => ColumnMeta::VarLength(r.u16("varchar_max_length")?),
            16 => {
                let bits = r.u8("bit_bits")?;
                let bytes = r.u8("bit_bytes")?;
                ColumnMeta::Bit { bits, bytes }
            }
            246 => {
                let precision = r.u8("decimal_precision")?;
                let scale = r.u8("decimal_scale")?;
                ColumnMeta::Decimal { precision, scale }
            }
            247 | 248 => {
                let real = r.u8("real_type")?;
                let len = r.u8("pack_length")?;
                ColumnMeta::String { real_type: ColumnType(real), length: u16::from(len) }
            }
            254 => {
                let b0 = r.u8("string_meta")?;
                let b1 = r.u8("string_meta")?;
                // MySQL folds the high bits of long CHAR lengths into the type byte.
                if b0 & 0x30 != 0x30 {
                    let real = ColumnType(b0 | 0x30);
                    let length = u16::from(b1) | (u16::from((b0 & 0x30) ^ 0x30) << 4);
                    ColumnMeta::String { real_type: real, length }
                } else {
                    ColumnMeta::String { real_type: ColumnType(b0), length: u16::from(b1) }
                }
            }
            0..=3 | 6..=14 => ColumnMeta::None,
            _ => return Err(BodyError::invalid("column_type", format!("unknown column type {}", t.0))),
        })
    }

    /// The type whose value layout applies: STRING's real type where it has one.
    pub fn real_type(&self, t: ColumnType) -> ColumnType {
        match self {
            ColumnMeta::String { real_type, .. } if t == ColumnType::STRING => *real_type,
            _ => t,
        }
    }
}
