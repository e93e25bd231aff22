//! Human-readable descriptions of events, for `binraft inspect`, logs and snapshot tests.
//!
//! [`describe`] turns an event into ordered `(name, value)` pairs and row lines; [`text_line`]
//! joins them into the one-line form, and a JSON writer can map the same pairs to an object, so
//! the two outputs never disagree. Row lines follow `mysqlbinlog -v` (`### INSERT INTO ...`).

use super::event::Event;
use super::events::rows::{RowChange, RowsKind};
use super::events::EventBody;
use super::events::table_map::TableMap;
use super::value::column_type::{ColumnMeta, ColumnType};
use crate::codec::hex;

/// What an event says, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Description {
    pub fields: Vec<(&'static str, String)>,
    /// mysqlbinlog-style row lines, without the `### ` prefix.
    pub rows: Vec<String>,
    /// Events inside a transaction payload.
    pub inner: Vec<Description>,
    pub offset: u64,
    pub event_type: String,
}

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Escapes control characters so that a value stays on one line.
pub fn one_line(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn column_type_text(tm: &TableMap) -> String {
    let cols: Vec<String> = tm
        .columns
        .iter()
        .map(|c| {
            let t = c.meta.real_type(c.column_type);
            let mut d = match c.meta {
                ColumnMeta::VarLength(n) => format!("{}({n})", t.name()),
                ColumnMeta::String { length, .. } if t == ColumnType::STRING => format!("{}({length})", t.name()),
                ColumnMeta::Decimal { precision, scale } => format!("{}({precision},{scale})", t.name()),
                ColumnMeta::Fsp(f) if f > 0 => format!("{}({f})", t.name()),
                ColumnMeta::Bit { bits, bytes } => format!("{}({})", t.name(), u16::from(bytes) * 8 + u16::from(bits)),
                _ => t.name().to_string(),
            };
            if c.unsigned == Some(true) {
                d.push_str(" UNSIGNED");
            }
            if let Some(n) = &c.name {
                d = format!("{n} {d}");
            }
            if let Some(m) = &c.members {
                let ms: Vec<String> = m.iter().map(|x| format!("'{}'", s(x))).collect();
                d.push_str(&format!("[{}]", ms.join(",")));
            }
            if c.primary_key_prefix.is_some() {
                d.push_str(" PK");
            }
            if c.visible == Some(false) {
                d.push_str(" INVISIBLE");
            }
            if !c.nullable {
                d.push_str(" NOT NULL");
            }
            d
        })
        .collect();
    cols.join(", ")
}

fn rows_lines(kind: RowsKind, table: &str, rows: &[RowChange], out: &mut Vec<String>) {
    let image = |img: &[(usize, super::value::Value)], out: &mut Vec<String>| {
        for (i, v) in img {
            out.push(format!("  @{}={}", i + 1, one_line(&v.to_string())));
        }
    };
    for r in rows {
        match kind {
            RowsKind::Write => {
                out.push(format!("INSERT INTO {table}"));
                out.push("SET".into());
                image(r.after.as_deref().unwrap_or_default(), out);
            }
            RowsKind::Delete => {
                out.push(format!("DELETE FROM {table}"));
                out.push("WHERE".into());
                image(r.before.as_deref().unwrap_or_default(), out);
            }
            RowsKind::Update | RowsKind::PartialUpdate => {
                out.push(format!("UPDATE {table}"));
                out.push("WHERE".into());
                image(r.before.as_deref().unwrap_or_default(), out);
                out.push("SET".into());
                image(r.after.as_deref().unwrap_or_default(), out);
            }
        }
    }
}

/// Describes an event. `table` looks up table maps for rows events' names.
pub fn describe(ev: &Event, table: &dyn Fn(u64) -> Option<String>) -> Description {
    let h = &ev.header;
    let mut d = Description { offset: ev.offset, event_type: ev.kind.name().to_string(), ..Default::default() };
    let f = &mut d.fields;
    f.push(("timestamp", h.timestamp.to_string()));
    f.push(("server_id", h.server_id.to_string()));
    f.push(("end_log_pos", h.log_pos.to_string()));
    f.push(("size", h.event_size.to_string()));
    if h.flags != 0 {
        f.push(("flags", format!("0x{:x}", h.flags)));
    }
    if let Some(c) = ev.checksum {
        f.push(("crc32", format!("0x{c:08x}")));
    }
    match &ev.body {
        EventBody::StartV3(fd) | EventBody::FormatDescription(fd) => {
            f.push(("binlog_version", fd.binlog_version.to_string()));
            f.push(("server_version", fd.server_version()));
            f.push(("created", fd.create_timestamp.to_string()));
            f.push(("header_len", fd.header_len.to_string()));
            f.push(("checksum", match fd.checksum() {
                Ok(a) => a.name().to_string(),
                Err(b) => format!("unknown({b})"),
            }));
        }
        EventBody::Query(q) => {
            f.push(("thread_id", q.thread_id.to_string()));
            f.push(("exec_time", q.exec_time.to_string()));
            f.push(("error_code", q.error_code.to_string()));
            if let Some(sv) = &q.status_vars {
                let t: Vec<String> = sv.iter().map(|v| v.text()).collect();
                f.push(("status", t.join(" ")));
            }
            if let Some(l) = &q.load {
                f.push(("file_id", l.file_id.to_string()));
            }
            f.push(("db", s(&q.db)));
            f.push(("query", one_line(&s(q.sql()))));
        }
        EventBody::Stop => {}
        EventBody::Rotate(r) => {
            if let Some(p) = r.position {
                f.push(("position", p.to_string()));
            }
            f.push(("next_file", s(&r.next_file)));
        }
        EventBody::IntVar(v) => {
            f.push(("type", v.kind_name().into()));
            f.push(("value", v.value.to_string()));
        }
        EventBody::Load(l) => {
            f.push(("db", s(&l.db)));
            f.push(("table", s(&l.table)));
            f.push(("file", s(&l.file_name)));
            f.push(("fields", l.field_names.iter().map(|x| s(x)).collect::<Vec<_>>().join(",")));
        }
        EventBody::AppendBlock(b) | EventBody::BeginLoadQuery(b) => {
            f.push(("file_id", b.file_id.to_string()));
            f.push(("block_len", b.data.len().to_string()));
        }
        EventBody::ExecLoad(x) | EventBody::DeleteFile(x) => f.push(("file_id", x.file_id.to_string())),
        EventBody::Rand(r) => {
            f.push(("seed1", r.seed1.to_string()));
            f.push(("seed2", r.seed2.to_string()));
        }
        EventBody::UserVar(u) => {
            f.push(("name", s(&u.name)));
            f.push(("value", one_line(&u.value_text())));
        }
        EventBody::Xid(x) => f.push(("xid", x.xid.to_string())),
        EventBody::TableMap(tm) => {
            f.push(("table_id", tm.table_id.to_string()));
            f.push(("table", tm.qualified_name()));
            f.push(("columns", column_type_text(tm)));
        }
        EventBody::Rows(r) => {
            f.push(("table_id", r.table_id.to_string()));
            let name = table(r.table_id).unwrap_or_else(|| format!("table#{}", r.table_id));
            f.push(("table", name.clone()));
            f.push(("flags", format!("0x{:x}", r.flags)));
            match r.undecodable {
                Some(why) => f.push(("rows", format!("undecodable ({why})"))),
                None => f.push(("rows", r.rows.len().to_string())),
            }
            if r.compressed {
                f.push(("compressed", "zlib".into()));
            }
            rows_lines(r.kind, &name, &r.rows, &mut d.rows);
        }
        EventBody::Incident(i) => {
            f.push(("incident", i.incident.to_string()));
            f.push(("message", one_line(&s(i.message.as_deref().unwrap_or_default()))));
        }
        EventBody::Heartbeat(hb) => f.push(("log_file", s(&hb.log_file))),
        EventBody::HeartbeatV2(hb) => {
            f.push(("log_file", hb.log_file().map(s).unwrap_or_default()));
            f.push(("log_position", hb.log_position().map(|p| p.to_string()).unwrap_or_default()));
        }
        EventBody::RowsQuery(q) => f.push(("query", one_line(&s(&q.query)))),
        EventBody::AnnotateRows(q) => f.push(("query", one_line(&s(&q.query)))),
        EventBody::Gtid(g) => {
            if ev.kind == super::event_type::EventType::ANONYMOUS_GTID {
                f.push(("gtid", "ANONYMOUS".into()));
            } else {
                f.push(("gtid", format!("{}:{}", g.uuid, g.gno)));
            }
            if let Some(lc) = &g.logical_clock {
                f.push(("last_committed", lc.last_committed.to_string()));
                f.push(("sequence_number", lc.sequence_number.to_string()));
            }
            if let Some(ts) = &g.commit_ts {
                f.push(("immediate_commit_ts", ts.immediate.to_string()));
                if let Some(o) = ts.original {
                    f.push(("original_commit_ts", o.to_string()));
                }
            }
            if let Some(l) = g.transaction_length {
                f.push(("transaction_length", l.to_string()));
            }
            if let Some(v) = &g.server_versions {
                f.push(("immediate_server_version", v.immediate.to_string()));
            }
        }
        EventBody::TaggedGtid(g) => {
            let uuid = g.uuid.unwrap_or_default();
            let tag = g.tag.as_ref().map(|t| format!(":{}", t.as_str())).unwrap_or_default();
            f.push(("gtid", format!("{uuid}{tag}:{}", g.gno.unwrap_or(0))));
            f.push(("last_committed", g.last_committed.unwrap_or(0).to_string()));
            f.push(("sequence_number", g.sequence_number.unwrap_or(0).to_string()));
            if let Some(t) = g.immediate_commit_timestamp {
                f.push(("immediate_commit_ts", t.to_string()));
            }
            if let Some(l) = g.transaction_length {
                f.push(("transaction_length", l.to_string()));
            }
            if let Some(v) = g.immediate_server_version {
                f.push(("immediate_server_version", v.to_string()));
            }
        }
        EventBody::PreviousGtids(p) => f.push(("gtid_set", p.set.to_string())),
        EventBody::TransactionContext(c) => {
            f.push(("server_uuid", s(&c.server_uuid)));
            f.push(("write_set", c.write_set.len().to_string()));
            f.push(("read_set", c.read_set.len().to_string()));
        }
        EventBody::ViewChange(v) => {
            f.push(("view_id", s(&v.view_id).trim_end_matches('\0').to_string()));
            f.push(("seq_number", v.seq_number.to_string()));
        }
        EventBody::XaPrepare(x) => {
            f.push(("one_phase", x.one_phase.to_string()));
            f.push(("xid", format!("X'{}',X'{}',{}", hex(&x.gtrid), hex(&x.bqual), x.format_id)));
        }
        EventBody::TransactionPayload(p) => {
            f.push(("compression", if p.compression == 0 { "ZSTD".into() } else { "NONE".into() }));
            f.push(("payload_size", p.payload_size.to_string()));
            f.push(("uncompressed_size", p.uncompressed_size.to_string()));
            f.push(("events", p.events.len().to_string()));
            d.inner = p.events.iter().map(|e| describe(e, table)).collect();
        }
        EventBody::BinlogCheckpoint(c) => f.push(("file", s(&c.file))),
        EventBody::MariaGtid(g) => {
            f.push(("gtid", format!("{}-{}-{}", g.domain, h.server_id, g.seq)));
            f.push(("gtid_flags", format!("0x{:x}", g.flags)));
            if let Some(c) = g.commit_id {
                f.push(("commit_id", c.to_string()));
            }
            if let Some(x) = &g.xid {
                f.push(("xid", format!("X'{}',X'{}',{}", hex(&x.gtrid), hex(&x.bqual), x.format_id)));
            }
            if let Some(fx) = g.flags_extra {
                f.push(("flags_extra", format!("0x{fx:x}")));
            }
        }
        EventBody::GtidList(l) => {
            let g: Vec<String> = l.gtids.iter().map(|g| g.to_string()).collect();
            f.push(("gtids", format!("[{}]", g.join(","))));
        }
        EventBody::StartEncryption(e) => {
            f.push(("scheme", e.scheme.to_string()));
            f.push(("key_version", e.key_version.to_string()));
        }
        EventBody::Unknown(b) => {
            f.push(("type_code", ev.kind.0.to_string()));
            f.push(("body_len", b.len().to_string()));
            f.push(("body_head", hex(&b[..b.len().min(32)])));
        }
    }
    d
}

/// `#<offset> <Type> k=v ...`, then row lines and inner events indented.
pub fn text_line(d: &Description) -> String {
    let mut out = String::new();
    write_text(d, "", &mut out);
    out
}

fn write_text(d: &Description, indent: &str, out: &mut String) {
    out.push_str(&format!("{indent}#{} {}", d.offset, d.event_type));
    for (k, v) in &d.fields {
        out.push(' ');
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out.push('\n');
    for r in &d.rows {
        out.push_str(&format!("{indent}### {r}\n"));
    }
    let deeper = format!("{indent}    ");
    for i in &d.inner {
        write_text(i, &deeper, out);
    }
}
