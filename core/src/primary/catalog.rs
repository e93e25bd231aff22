//! `INFORMATION_SCHEMA.COLUMNS` answered from the binlog itself: the last TABLE_MAP of a table
//! with binlog_row_metadata=FULL names its columns, their types, charsets, ENUM and SET members,
//! signedness and primary key. CDC clients (zongji, Maxwell-style readers) ask for exactly that.

use crate::binlog::events::table_map::{ColumnInfo, TableMap};
use crate::binlog::value::column_type::{ColumnMeta, ColumnType};
use crate::mysql::response::ResultSet;

/// Character set and collation names of the collation ids servers put in table maps.
pub fn collation(id: u64) -> Option<(&'static str, &'static str)> {
    Some(match id {
        8 => ("latin1", "latin1_swedish_ci"),
        11 => ("ascii", "ascii_general_ci"),
        28 => ("gbk", "gbk_chinese_ci"),
        33 => ("utf8mb3", "utf8mb3_general_ci"),
        45 => ("utf8mb4", "utf8mb4_general_ci"),
        46 => ("utf8mb4", "utf8mb4_bin"),
        47 => ("latin1", "latin1_bin"),
        63 => ("binary", "binary"),
        83 => ("utf8mb3", "utf8mb3_bin"),
        192 => ("utf8mb3", "utf8mb3_unicode_ci"),
        224 => ("utf8mb4", "utf8mb4_unicode_ci"),
        246 => ("utf8mb4", "utf8mb4_unicode_520_ci"),
        255 => ("utf8mb4", "utf8mb4_0900_ai_ci"),
        _ => return None,
    })
}

fn max_bytes_per_char(charset: Option<u64>) -> u16 {
    match charset.and_then(collation).map(|(c, _)| c) {
        Some("utf8mb4") => 4,
        Some("utf8mb3") => 3,
        Some("gbk") => 2,
        _ => 1,
    }
}

fn quoted_members(m: &Option<Vec<Vec<u8>>>) -> String {
    let items: Vec<String> = m.iter().flatten().map(|x| format!("'{}'", String::from_utf8_lossy(x).replace('\'', "''"))).collect();
    items.join(",")
}

/// The SQL type of a column, as COLUMN_TYPE spells it.
pub fn column_type(c: &ColumnInfo) -> String {
    let t = c.meta.real_type(c.column_type);
    let binary = c.charset == Some(63);
    let unsigned = if c.unsigned == Some(true) { " unsigned" } else { "" };
    match (t, c.meta) {
        (ColumnType::TINY, _) => format!("tinyint{unsigned}"),
        (ColumnType::SHORT, _) => format!("smallint{unsigned}"),
        (ColumnType::INT24, _) => format!("mediumint{unsigned}"),
        (ColumnType::LONG, _) => format!("int{unsigned}"),
        (ColumnType::LONGLONG, _) => format!("bigint{unsigned}"),
        (ColumnType::FLOAT, _) => format!("float{unsigned}"),
        (ColumnType::DOUBLE, _) => format!("double{unsigned}"),
        (ColumnType::NEWDECIMAL, ColumnMeta::Decimal { precision, scale }) => format!("decimal({precision},{scale}){unsigned}"),
        (ColumnType::YEAR, _) => "year(4)".into(),
        (ColumnType::DATE | ColumnType::NEWDATE, _) => "date".into(),
        (ColumnType::TIME | ColumnType::TIME2, m) => fsp_type("time", m),
        (ColumnType::DATETIME | ColumnType::DATETIME2, m) => fsp_type("datetime", m),
        (ColumnType::TIMESTAMP | ColumnType::TIMESTAMP2, m) => fsp_type("timestamp", m),
        (ColumnType::VARCHAR | ColumnType::VAR_STRING, ColumnMeta::VarLength(n)) => {
            let chars = n / max_bytes_per_char(c.charset);
            if binary { format!("varbinary({n})") } else { format!("varchar({chars})") }
        }
        (ColumnType::STRING, ColumnMeta::String { length, .. }) => {
            let chars = length / max_bytes_per_char(c.charset);
            if binary { format!("binary({length})") } else { format!("char({chars})") }
        }
        (ColumnType::ENUM, _) => format!("enum({})", quoted_members(&c.members)),
        (ColumnType::SET, _) => format!("set({})", quoted_members(&c.members)),
        (ColumnType::BIT, ColumnMeta::Bit { bits, bytes }) => format!("bit({})", u16::from(bytes) * 8 + u16::from(bits)),
        (ColumnType::BLOB, ColumnMeta::BlobLength(n)) => {
            let size = ["tiny", "", "medium", "long"].get(usize::from(n.max(1)) - 1).copied().unwrap_or("long");
            format!("{size}{}", if binary || c.charset.is_none() { "blob" } else { "text" })
        }
        (ColumnType::JSON, _) => "json".into(),
        (ColumnType::GEOMETRY, _) => "geometry".into(),
        (ColumnType::VECTOR, _) => "vector".into(),
        (t, _) => t.name().to_ascii_lowercase(),
    }
}

fn fsp_type(name: &str, m: ColumnMeta) -> String {
    match m {
        ColumnMeta::Fsp(f) if f > 0 => format!("{name}({f})"),
        _ => name.to_string(),
    }
}

/// The rows of `SELECT <columns> FROM INFORMATION_SCHEMA.COLUMNS` for one table, in column
/// order. Columns binraft cannot know (defaults, comments) are empty, as for a column without.
/// A table map without column names gives no rows: binraft does not know the table.
pub fn columns_rows(table: Option<&TableMap>, select: &[String]) -> ResultSet {
    let mut rs = ResultSet { columns: select.to_vec(), rows: Vec::new() };
    let Some(t) = table else { return rs };
    if t.columns.iter().any(|c| c.name.is_none()) {
        return rs;
    }
    for (i, c) in t.columns.iter().enumerate() {
        let ct = column_type(c);
        let cs = if c.meta.real_type(c.column_type).is_character() || matches!(c.meta.real_type(c.column_type), ColumnType::ENUM | ColumnType::SET) {
            c.charset.and_then(collation).filter(|(cs, _)| *cs != "binary")
        } else {
            None
        };
        let row = select
            .iter()
            .map(|col| match col.to_ascii_uppercase().as_str() {
                "TABLE_CATALOG" => Some("def".into()),
                "TABLE_SCHEMA" => Some(String::from_utf8_lossy(&t.schema).into_owned()),
                "TABLE_NAME" => Some(String::from_utf8_lossy(&t.table).into_owned()),
                "COLUMN_NAME" => c.name.clone(),
                "ORDINAL_POSITION" => Some((i + 1).to_string()),
                "COLUMN_TYPE" => Some(ct.clone()),
                "DATA_TYPE" => Some(ct.split(['(', ' ']).next().unwrap_or("").to_string()),
                "CHARACTER_SET_NAME" => cs.map(|(c, _)| c.to_string()),
                "COLLATION_NAME" => cs.map(|(_, c)| c.to_string()),
                "IS_NULLABLE" => Some(if c.nullable { "YES" } else { "NO" }.into()),
                "COLUMN_KEY" => Some(if c.primary_key_prefix.is_some() { "PRI" } else { "" }.into()),
                "COLUMN_COMMENT" | "EXTRA" | "PRIVILEGES" => Some(String::new()),
                _ => None,
            })
            .collect();
        rs.rows.push(row);
    }
    rs
}
