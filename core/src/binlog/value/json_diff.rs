//! Partial JSON updates (PARTIAL_UPDATE_ROWS, binlog_row_value_options=PARTIAL_JSON): a list of
//! changes to a JSON column instead of the whole new document.

use super::json::json_to_text;
use crate::binlog::error::BodyError;
use crate::codec::Reader;

#[derive(Debug, Clone, PartialEq)]
pub struct JsonDiff {
    pub operation: JsonDiffOp,
    pub path: String,
    /// The new value rendered as JSON text (absent for REMOVE).
    pub value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonDiffOp {
    Replace,
    Insert,
    Remove,
}

impl JsonDiffOp {
    fn function(self) -> &'static str {
        match self {
            JsonDiffOp::Replace => "JSON_REPLACE",
            JsonDiffOp::Insert => "JSON_INSERT",
            JsonDiffOp::Remove => "JSON_REMOVE",
        }
    }
}

/// Reads every diff in `data` (the column's bytes after its length prefix).
pub fn read_diffs(data: &[u8]) -> Result<Vec<JsonDiff>, BodyError> {
    let mut r = Reader::new(data);
    let mut out = Vec::new();
    while !r.is_empty() {
        let operation = match r.u8("json_diff_operation")? {
            0 => JsonDiffOp::Replace,
            1 => JsonDiffOp::Insert,
            2 => JsonDiffOp::Remove,
            x => return Err(BodyError::invalid("json_diff_operation", format!("{x}"))),
        };
        let path = String::from_utf8_lossy(r.lenenc_bytes("json_diff_path")?).into_owned();
        let value = if operation == JsonDiffOp::Remove {
            None
        } else {
            Some(json_to_text(r.lenenc_bytes("json_diff_value")?)?)
        };
        out.push(JsonDiff { operation, path, value });
    }
    Ok(out)
}

/// The diffs as the SQL expression mysqlbinlog shows: `JSON_REPLACE(@3, '$.a', 1)`, nested.
pub fn diffs_to_sql(diffs: &[JsonDiff], column: usize) -> String {
    let mut expr = format!("@{}", column + 1);
    for d in diffs {
        expr = match &d.value {
            Some(v) => format!("{}({expr}, '{}', CAST('{}' AS JSON))", d.operation.function(), d.path, v),
            None => format!("{}({expr}, '{}')", d.operation.function(), d.path),
        };
    }
    expr
}
