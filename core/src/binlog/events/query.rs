//! QUERY (2), QUERY_COMPRESSED (165, MariaDB) and EXECUTE_LOAD_QUERY (18): a statement, the
//! default database, and the session state it ran under as status variables.

use super::simple::finish;
use crate::binlog::compress::mariadb_inflate;
use crate::binlog::error::BodyError;
use crate::codec::Reader;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub thread_id: u32,
    pub exec_time: u32,
    pub error_code: u16,
    /// `None` in v1/v3 files, whose post-header has no status variable block.
    pub status_vars: Option<Vec<StatusVar>>,
    /// EXECUTE_LOAD_QUERY's extra post-header fields.
    pub load: Option<LoadQueryFields>,
    /// Post-header bytes beyond the ones this codec knows (a newer server's), kept as they are.
    pub extra_post_header: Vec<u8>,
    pub db: Vec<u8>,
    /// The statement as stored: a MariaDB compressed block in QUERY_COMPRESSED.
    pub query: Vec<u8>,
    /// QUERY_COMPRESSED's statement inflated.
    pub inflated: Option<Vec<u8>>,
}

/// The fields EXECUTE_LOAD_QUERY adds after QUERY's post-header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadQueryFields {
    pub file_id: u32,
    pub fn_pos_start: u32,
    pub fn_pos_end: u32,
    pub dup_handling: u8,
}

/// One status variable: a code byte and a value whose layout the code fixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusVar {
    Flags2(u32),
    SqlMode(u64),
    /// Code 2 of MySQL 5.0.0 to 5.0.3: length, name and a zero byte.
    Catalog(Vec<u8>),
    AutoIncrement { increment: u16, offset: u16 },
    Charset { client: u16, connection: u16, server: u16 },
    TimeZone(Vec<u8>),
    CatalogNz(Vec<u8>),
    LcTimeNames(u16),
    CharsetDatabase(u16),
    TableMapForUpdate(u64),
    MasterDataWritten(u32),
    Invoker { user: Vec<u8>, host: Vec<u8> },
    /// `None` when the statement touched more databases than the event lists (code 254).
    UpdatedDbNames(Option<Vec<Vec<u8>>>),
    Microseconds(u32),
    CommitTs(u64),
    CommitTs2(u64),
    ExplicitDefaultsForTimestamp(u8),
    DdlLoggedWithXid(u64),
    DefaultCollationForUtf8mb4(u16),
    SqlRequirePrimaryKey(u8),
    DefaultTableEncryption(u8),
    /// MariaDB: sub-second part of the statement's start time.
    Hrnow(u32),
    /// MariaDB: the XID of a DDL statement.
    MariaXid(u64),
    /// MariaDB: more flags.
    GtidFlags3(u8),
    /// MariaDB 11: character set to collation mapping in force.
    CharacterSetCollations(Vec<u8>),
    /// A code this codec does not know: servers stop reading there too, so it takes the rest.
    Unknown { code: u8, rest: Vec<u8> },
}

const OVER_MAX_DBS: u8 = 254;

impl StatusVar {
    fn read_all(block: &[u8]) -> Result<Vec<StatusVar>, BodyError> {
        let mut r = Reader::new(block);
        let mut out = Vec::new();
        while !r.is_empty() {
            let code = r.u8("status_var_code")?;
            let v = match code {
                0 => StatusVar::Flags2(r.u32("flags2")?),
                1 => StatusVar::SqlMode(r.u64("sql_mode")?),
                2 => {
                    let n = r.u8("catalog_len")?;
                    let name = r.take(usize::from(n), "catalog")?.to_vec();
                    r.u8("catalog_nul")?;
                    StatusVar::Catalog(name)
                }
                3 => StatusVar::AutoIncrement { increment: r.u16("auto_increment_increment")?, offset: r.u16("auto_increment_offset")? },
                4 => StatusVar::Charset {
                    client: r.u16("character_set_client")?,
                    connection: r.u16("collation_connection")?,
                    server: r.u16("collation_server")?,
                },
                5 => StatusVar::TimeZone(short_str(&mut r, "time_zone")?),
                6 => StatusVar::CatalogNz(short_str(&mut r, "catalog")?),
                7 => StatusVar::LcTimeNames(r.u16("lc_time_names")?),
                8 => StatusVar::CharsetDatabase(r.u16("collation_database")?),
                9 => StatusVar::TableMapForUpdate(r.u64("table_map_for_update")?),
                10 => StatusVar::MasterDataWritten(r.u32("master_data_written")?),
                11 => StatusVar::Invoker { user: short_str(&mut r, "invoker_user")?, host: short_str(&mut r, "invoker_host")? },
                12 => {
                    let n = r.u8("updated_db_count")?;
                    if n == OVER_MAX_DBS {
                        StatusVar::UpdatedDbNames(None)
                    } else {
                        let mut names = Vec::with_capacity(usize::from(n));
                        for _ in 0..n {
                            names.push(r.cstr("updated_db_name")?.to_vec());
                        }
                        StatusVar::UpdatedDbNames(Some(names))
                    }
                }
                13 => StatusVar::Microseconds(r.u24("microseconds")?),
                14 => StatusVar::CommitTs(r.u64("commit_ts")?),
                15 => StatusVar::CommitTs2(r.u64("commit_ts2")?),
                16 => StatusVar::ExplicitDefaultsForTimestamp(r.u8("explicit_defaults_for_timestamp")?),
                17 => StatusVar::DdlLoggedWithXid(r.u64("ddl_xid")?),
                18 => StatusVar::DefaultCollationForUtf8mb4(r.u16("default_collation_for_utf8mb4")?),
                19 => StatusVar::SqlRequirePrimaryKey(r.u8("sql_require_primary_key")?),
                20 => StatusVar::DefaultTableEncryption(r.u8("default_table_encryption")?),
                128 => StatusVar::Hrnow(r.u24("hrnow")?),
                129 => StatusVar::MariaXid(r.u64("xid")?),
                130 => StatusVar::GtidFlags3(r.u8("gtid_flags3")?),
                131 => {
                    let n = r.u8("collation_count")?;
                    let body = r.take(usize::from(n) * 4, "collations")?;
                    let mut v = vec![n];
                    v.extend_from_slice(body);
                    StatusVar::CharacterSetCollations(v)
                }
                code => StatusVar::Unknown { code, rest: r.rest().to_vec() },
            };
            out.push(v);
        }
        Ok(out)
    }

    fn write(&self, out: &mut Vec<u8>) {
        fn short(out: &mut Vec<u8>, s: &[u8]) {
            out.push(s.len() as u8);
            out.extend_from_slice(s);
        }
        match self {
            StatusVar::Flags2(v) => {
                out.push(0);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::SqlMode(v) => {
                out.push(1);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::Catalog(s) => {
                out.push(2);
                short(out, s);
                out.push(0);
            }
            StatusVar::AutoIncrement { increment, offset } => {
                out.push(3);
                out.extend_from_slice(&increment.to_le_bytes());
                out.extend_from_slice(&offset.to_le_bytes());
            }
            StatusVar::Charset { client, connection, server } => {
                out.push(4);
                for v in [client, connection, server] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
            StatusVar::TimeZone(s) => {
                out.push(5);
                short(out, s);
            }
            StatusVar::CatalogNz(s) => {
                out.push(6);
                short(out, s);
            }
            StatusVar::LcTimeNames(v) => {
                out.push(7);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::CharsetDatabase(v) => {
                out.push(8);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::TableMapForUpdate(v) => {
                out.push(9);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::MasterDataWritten(v) => {
                out.push(10);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::Invoker { user, host } => {
                out.push(11);
                short(out, user);
                short(out, host);
            }
            StatusVar::UpdatedDbNames(names) => {
                out.push(12);
                match names {
                    None => out.push(OVER_MAX_DBS),
                    Some(names) => {
                        out.push(names.len() as u8);
                        for n in names {
                            out.extend_from_slice(n);
                            out.push(0);
                        }
                    }
                }
            }
            StatusVar::Microseconds(v) => {
                out.push(13);
                out.extend_from_slice(&v.to_le_bytes()[..3]);
            }
            StatusVar::CommitTs(v) => {
                out.push(14);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::CommitTs2(v) => {
                out.push(15);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::ExplicitDefaultsForTimestamp(v) => out.extend_from_slice(&[16, *v]),
            StatusVar::DdlLoggedWithXid(v) => {
                out.push(17);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::DefaultCollationForUtf8mb4(v) => {
                out.push(18);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::SqlRequirePrimaryKey(v) => out.extend_from_slice(&[19, *v]),
            StatusVar::DefaultTableEncryption(v) => out.extend_from_slice(&[20, *v]),
            StatusVar::Hrnow(v) => {
                out.push(128);
                out.extend_from_slice(&v.to_le_bytes()[..3]);
            }
            StatusVar::MariaXid(v) => {
                out.push(129);
                out.extend_from_slice(&v.to_le_bytes());
            }
            StatusVar::GtidFlags3(v) => out.extend_from_slice(&[130, *v]),
            StatusVar::CharacterSetCollations(v) => {
                out.push(131);
                out.extend_from_slice(v);
            }
            StatusVar::Unknown { code, rest } => {
                out.push(*code);
                out.extend_from_slice(rest);
            }
        }
    }

    /// `name=value` as binraft shows it.
    pub fn text(&self) -> String {
        let s = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match self {
            StatusVar::Flags2(v) => format!("flags2=0x{v:x}"),
            StatusVar::SqlMode(v) => format!("sql_mode=0x{v:x}"),
            StatusVar::Catalog(c) => format!("catalog={}", s(c)),
            StatusVar::AutoIncrement { increment, offset } => {
                format!("auto_increment_increment={increment} auto_increment_offset={offset}")
            }
            StatusVar::Charset { client, connection, server } => {
                format!("character_set_client={client} collation_connection={connection} collation_server={server}")
            }
            StatusVar::TimeZone(t) => format!("time_zone={}", s(t)),
            StatusVar::CatalogNz(c) => format!("catalog={}", s(c)),
            StatusVar::LcTimeNames(v) => format!("lc_time_names={v}"),
            StatusVar::CharsetDatabase(v) => format!("collation_database={v}"),
            StatusVar::TableMapForUpdate(v) => format!("table_map_for_update=0x{v:x}"),
            StatusVar::MasterDataWritten(v) => format!("master_data_written={v}"),
            StatusVar::Invoker { user, host } => format!("invoker={}@{}", s(user), s(host)),
            StatusVar::UpdatedDbNames(None) => "updated_dbs=OVER_MAX".into(),
            StatusVar::UpdatedDbNames(Some(n)) => {
                format!("updated_dbs=[{}]", n.iter().map(|x| s(x)).collect::<Vec<_>>().join(","))
            }
            StatusVar::Microseconds(v) => format!("microseconds={v}"),
            StatusVar::CommitTs(v) => format!("commit_ts={v}"),
            StatusVar::CommitTs2(v) => format!("commit_ts2={v}"),
            StatusVar::ExplicitDefaultsForTimestamp(v) => format!("explicit_defaults_for_timestamp={v}"),
            StatusVar::DdlLoggedWithXid(v) => format!("ddl_xid={v}"),
            StatusVar::DefaultCollationForUtf8mb4(v) => format!("default_collation_for_utf8mb4={v}"),
            StatusVar::SqlRequirePrimaryKey(v) => format!("sql_require_primary_key={v}"),
            StatusVar::DefaultTableEncryption(v) => format!("default_table_encryption={v}"),
            StatusVar::Hrnow(v) => format!("hrnow={v}"),
            StatusVar::MariaXid(v) => format!("xid={v}"),
            StatusVar::GtidFlags3(v) => format!("gtid_flags3=0x{v:x}"),
            StatusVar::CharacterSetCollations(v) => format!("character_set_collations=0x{}", crate::codec::hex(v)),
            StatusVar::Unknown { code, rest } => format!("unknown_{code}=0x{}", crate::codec::hex(rest)),
        }
    }
}

fn short_str(r: &mut Reader<'_>, field: &'static str) -> Result<Vec<u8>, BodyError> {
    let n = r.u8(field)?;
    Ok(r.take(usize::from(n), field)?.to_vec())
}

/// How the body of a query-like event is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Plain,
    Compressed,
    ExecuteLoad,
}

impl Query {
    pub fn decode(body: &[u8], post_header_len: u8, kind: QueryKind) -> Result<Self, BodyError> {
        let mut r = Reader::new(body);
        let phl = usize::from(post_header_len);
        let thread_id = r.u32("thread_id")?;
        let exec_time = r.u32("exec_time")?;
        let db_len = r.u8("db_len")?;
        let error_code = r.u16("error_code")?;
        let mut known = 11;
        let status_len = if phl >= 13 {
            known = 13;
            Some(r.u16("status_vars_len")?)
        } else {
            None
        };
        let load = if kind == QueryKind::ExecuteLoad {
            known += 13;
            Some(LoadQueryFields {
                file_id: r.u32("file_id")?,
                fn_pos_start: r.u32("fn_pos_start")?,
                fn_pos_end: r.u32("fn_pos_end")?,
                dup_handling: r.u8("dup_handling")?,
            })
        } else {
            None
        };
        let extra_post_header = r.take(phl.saturating_sub(known), "post_header")?.to_vec();
        let status_vars = match status_len {
            Some(n) => Some(StatusVar::read_all(r.take(usize::from(n), "status_vars")?)?),
            None => None,
        };
        let db = r.take(usize::from(db_len), "db")?.to_vec();
        if r.u8("db_nul")? != 0 {
            return Err(BodyError::invalid("db", "database name is not zero-terminated"));
        }
        let query = r.rest().to_vec();
        let inflated = match kind {
            QueryKind::Compressed => Some(mariadb_inflate(&query)?),
            _ => None,
        };
        finish(&r)?;
        Ok(Query { thread_id, exec_time, error_code, status_vars, load, extra_post_header, db, query, inflated })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.thread_id.to_le_bytes());
        out.extend_from_slice(&self.exec_time.to_le_bytes());
        out.push(self.db.len() as u8);
        out.extend_from_slice(&self.error_code.to_le_bytes());
        let mut vars = Vec::new();
        if let Some(sv) = &self.status_vars {
            for v in sv {
                v.write(&mut vars);
            }
            out.extend_from_slice(&(vars.len() as u16).to_le_bytes());
        }
        if let Some(l) = &self.load {
            out.extend_from_slice(&l.file_id.to_le_bytes());
            out.extend_from_slice(&l.fn_pos_start.to_le_bytes());
            out.extend_from_slice(&l.fn_pos_end.to_le_bytes());
            out.push(l.dup_handling);
        }
        out.extend_from_slice(&self.extra_post_header);
        out.extend_from_slice(&vars);
        out.extend_from_slice(&self.db);
        out.push(0);
        out.extend_from_slice(&self.query);
    }

    /// The statement text, inflated when it was compressed.
    pub fn sql(&self) -> &[u8] {
        self.inflated.as_deref().unwrap_or(&self.query)
    }
}
