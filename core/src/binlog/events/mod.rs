//! Event bodies, one file per event type (or family), and [`EventBody`], the sum of them.
//!
//! Each body type has `decode(body bytes, ..) -> Result<Self, BodyError>` and
//! `encode(&self, &mut Vec<u8>)`, and `encode(decode(b)) == b` for every body a server wrote.

pub mod format_description;
pub mod gtid;
pub mod gtid_list;
pub mod gtid_tagged;
pub mod mariadb_gtid;
pub mod misc;
pub mod previous_gtids;
pub mod query;
pub mod rotate;
pub mod rows;
pub mod simple;
pub mod table_map;
pub mod transaction_payload;
pub mod user_var;

use super::error::BodyError;
use super::event_type::EventType;
use format_description::FormatDescription;
use query::{Query, QueryKind};

/// The typed body of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum EventBody {
    /// START_EVENT_V3 (1): the first event of a v1/v3 file.
    StartV3(FormatDescription),
    FormatDescription(FormatDescription),
    Query(query::Query),
    Stop,
    Rotate(rotate::Rotate),
    IntVar(simple::IntVar),
    Load(misc::Load),
    AppendBlock(misc::AppendBlock),
    ExecLoad(misc::FileId),
    DeleteFile(misc::FileId),
    Rand(simple::Rand),
    UserVar(user_var::UserVar),
    Xid(simple::Xid),
    BeginLoadQuery(misc::AppendBlock),
    /// Shared with the decoder, which keeps the table maps in force.
    TableMap(std::sync::Arc<table_map::TableMap>),
    Rows(Box<rows::RowsEvent>),
    Incident(simple::Incident),
    Heartbeat(misc::Heartbeat),
    HeartbeatV2(misc::HeartbeatV2),
    RowsQuery(simple::RowsQuery),
    Gtid(gtid::Gtid),
    TaggedGtid(Box<gtid_tagged::TaggedGtid>),
    PreviousGtids(previous_gtids::PreviousGtids),
    TransactionContext(misc::TransactionContext),
    ViewChange(Box<misc::ViewChange>),
    XaPrepare(simple::XaPrepare),
    TransactionPayload(Box<transaction_payload::TransactionPayload>),
    AnnotateRows(simple::AnnotateRows),
    BinlogCheckpoint(simple::BinlogCheckpoint),
    MariaGtid(mariadb_gtid::MariaGtidEvent),
    GtidList(gtid_list::GtidList),
    StartEncryption(simple::StartEncryption),
    /// A type this codec does not decode (Aurora's padding, SLAVE, IGNORABLE, a future type):
    /// the bytes as they are. Never an error by itself.
    Unknown(Vec<u8>),
}

impl EventBody {
    /// Decodes a body of type `t` under the format description `fde`. The transaction payload's
    /// inner events are not decoded here: the decoder does that with its table state.
    pub fn decode(t: EventType, body: &[u8], fde: &FormatDescription) -> Result<EventBody, BodyError> {
        let phl = |t: EventType, default: u8| fde.post_header_len(t).unwrap_or(default);
        Ok(match t {
            EventType::START_V3 => {
                let mut r = crate::codec::Reader::new(body);
                let v = r.u16("binlog_version")?;
                let sv = r.array::<50>("server_version")?;
                let ts = r.u32("create_timestamp")?;
                simple::finish(&r)?;
                EventBody::StartV3(FormatDescription::for_old_version(v, sv, ts))
            }
            EventType::FORMAT_DESCRIPTION => {
                let aware = FormatDescription::body_is_checksum_aware(body);
                EventBody::FormatDescription(FormatDescription::decode(body, aware)?)
            }
            EventType::QUERY => EventBody::Query(Query::decode(body, phl(t, 13), QueryKind::Plain)?),
            EventType::QUERY_COMPRESSED => EventBody::Query(Query::decode(body, phl(t, 13), QueryKind::Compressed)?),
            EventType::EXECUTE_LOAD_QUERY => {
                // The post-header length covers QUERY's 13 bytes and the 13 LOAD fields.
                let p = phl(t, 26).saturating_sub(13);
                EventBody::Query(Query::decode(body, p, QueryKind::ExecuteLoad)?)
            }
            EventType::STOP => {
                simple::Stop::decode(body)?;
                EventBody::Stop
            }
            EventType::ROTATE => EventBody::Rotate(rotate::Rotate::decode(body, phl(t, 8))?),
            EventType::INTVAR => EventBody::IntVar(simple::IntVar::decode(body)?),
            EventType::LOAD => EventBody::Load(misc::Load::decode(body, false)?),
            EventType::NEW_LOAD => EventBody::Load(misc::Load::decode(body, true)?),
            EventType::APPEND_BLOCK => EventBody::AppendBlock(misc::AppendBlock::decode(body)?),
            EventType::BEGIN_LOAD_QUERY => EventBody::BeginLoadQuery(misc::AppendBlock::decode(body)?),
            EventType::EXEC_LOAD => EventBody::ExecLoad(misc::FileId::decode(body)?),
            EventType::DELETE_FILE => EventBody::DeleteFile(misc::FileId::decode(body)?),
            EventType::RAND => EventBody::Rand(simple::Rand::decode(body)?),
            EventType::USER_VAR => EventBody::UserVar(user_var::UserVar::decode(body)?),
            EventType::XID => EventBody::Xid(simple::Xid::decode(body)?),
            EventType::TABLE_MAP => EventBody::TableMap(std::sync::Arc::new(table_map::TableMap::decode(body, phl(t, 8))?)),
            EventType::INCIDENT => EventBody::Incident(simple::Incident::decode(body)?),
            EventType::HEARTBEAT => EventBody::Heartbeat(misc::Heartbeat { log_file: body.to_vec() }),
            EventType::HEARTBEAT_V2 => EventBody::HeartbeatV2(misc::HeartbeatV2::decode(body)?),
            EventType::ROWS_QUERY => EventBody::RowsQuery(simple::RowsQuery::decode(body)?),
            EventType::GTID | EventType::ANONYMOUS_GTID => EventBody::Gtid(gtid::Gtid::decode(body)?),
            EventType::GTID_TAGGED => EventBody::TaggedGtid(Box::new(gtid_tagged::TaggedGtid::decode(body)?)),
            EventType::PREVIOUS_GTIDS => EventBody::PreviousGtids(previous_gtids::PreviousGtids::decode(body)?),
            EventType::TRANSACTION_CONTEXT => EventBody::TransactionContext(misc::TransactionContext::decode(body)?),
            EventType::VIEW_CHANGE => EventBody::ViewChange(Box::new(misc::ViewChange::decode(body)?)),
            EventType::XA_PREPARE => EventBody::XaPrepare(simple::XaPrepare::decode(body)?),
            EventType::TRANSACTION_PAYLOAD => {
                EventBody::TransactionPayload(Box::new(transaction_payload::TransactionPayload::decode(body)?))
            }
            EventType::ANNOTATE_ROWS => EventBody::AnnotateRows(simple::AnnotateRows { query: body.to_vec() }),
            EventType::BINLOG_CHECKPOINT => EventBody::BinlogCheckpoint(simple::BinlogCheckpoint::decode(body)?),
            EventType::MARIADB_GTID => EventBody::MariaGtid(mariadb_gtid::MariaGtidEvent::decode(body)?),
            EventType::GTID_LIST => EventBody::GtidList(gtid_list::GtidList::decode(body)?),
            EventType::START_ENCRYPTION => EventBody::StartEncryption(simple::StartEncryption::decode(body)?),
            t if rows::RowsKind::of(t).is_some() => EventBody::Rows(Box::new(rows::RowsEvent::decode(body, t, rows_post_header_len(t, fde))?)),
            _ => EventBody::Unknown(body.to_vec()),
        })
    }

    /// Only the head of a rows event (see [`rows::RowsEvent::decode_head`]); `None` for any
    /// other type.
    pub fn decode_rows_head(t: EventType, body: &[u8], fde: &FormatDescription) -> Option<Result<EventBody, BodyError>> {
        rows::RowsKind::of(t)?;
        Some(rows::RowsEvent::decode_head(body, t, rows_post_header_len(t, fde)).map(|r| EventBody::Rows(Box::new(r))))
    }

    /// Writes the body bytes (no header, no checksum).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            EventBody::StartV3(f) => {
                out.extend_from_slice(&f.binlog_version.to_le_bytes());
                out.extend_from_slice(&f.server_version);
                out.extend_from_slice(&f.create_timestamp.to_le_bytes());
            }
            EventBody::FormatDescription(f) => f.encode(out),
            EventBody::Query(q) => q.encode(out),
            EventBody::Stop => {}
            EventBody::Rotate(r) => r.encode(out),
            EventBody::IntVar(v) => v.encode(out),
            EventBody::Load(l) => l.encode(out),
            EventBody::AppendBlock(b) | EventBody::BeginLoadQuery(b) => b.encode(out),
            EventBody::ExecLoad(f) | EventBody::DeleteFile(f) => out.extend_from_slice(&f.file_id.to_le_bytes()),
            EventBody::Rand(r) => r.encode(out),
            EventBody::UserVar(u) => u.encode(out),
            EventBody::Xid(x) => x.encode(out),
            EventBody::TableMap(t) => t.encode(out),
            EventBody::Rows(r) => r.encode(out),
            EventBody::Incident(i) => i.encode(out),
            EventBody::Heartbeat(h) => out.extend_from_slice(&h.log_file),
            EventBody::HeartbeatV2(h) => h.encode(out),
            EventBody::RowsQuery(q) => q.encode(out),
            EventBody::Gtid(g) => g.encode(out),
            EventBody::TaggedGtid(g) => g.encode(out),
            EventBody::PreviousGtids(p) => p.encode(out),
            EventBody::TransactionContext(c) => c.encode(out),
            EventBody::ViewChange(v) => v.encode(out),
            EventBody::XaPrepare(x) => x.encode(out),
            EventBody::TransactionPayload(p) => p.encode(out),
            EventBody::AnnotateRows(a) => out.extend_from_slice(&a.query),
            EventBody::BinlogCheckpoint(c) => c.encode(out),
            EventBody::MariaGtid(g) => g.encode(out),
            EventBody::GtidList(g) => g.encode(out),
            EventBody::StartEncryption(s) => s.encode(out),
            EventBody::Unknown(b) => out.extend_from_slice(b),
        }
    }
}

/// The post-header length of a rows event type: the format's, or the v4 default (10 for v2
/// rows events, else 8).
fn rows_post_header_len(t: EventType, fde: &FormatDescription) -> u8 {
    let default = if rows::RowsKind::of(t).is_some_and(|(_, v, _)| v == 2) { 10 } else { 8 };
    fde.post_header_len(t).unwrap_or(default)
}
