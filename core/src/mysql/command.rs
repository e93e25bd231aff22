//! Commands of the command phase that binraft serves or sends, decoded and encoded.

use crate::codec::{Reader, Short};
use crate::gtid::mysql::{BinaryFormat, GtidSet};

pub const COM_QUIT: u8 = 0x01;
pub const COM_INIT_DB: u8 = 0x02;
pub const COM_QUERY: u8 = 0x03;
pub const COM_PING: u8 = 0x0e;
pub const COM_BINLOG_DUMP: u8 = 0x12;
pub const COM_REGISTER_SLAVE: u8 = 0x15;
pub const COM_BINLOG_DUMP_GTID: u8 = 0x1e;

/// Flags of COM_BINLOG_DUMP and COM_BINLOG_DUMP_GTID.
pub mod dump_flags {
    /// Return EOF at the end instead of waiting for more.
    pub const NON_BLOCK: u16 = 0x01;
    /// MariaDB: send ANNOTATE_ROWS events.
    pub const SEND_ANNOTATE_ROWS: u16 = 0x02;
    /// MySQL COM_BINLOG_DUMP_GTID: the GTID set is present.
    pub const THROUGH_GTID: u16 = 0x04;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Quit,
    InitDb(String),
    Query(String),
    Ping,
    RegisterSlave(RegisterSlave),
    BinlogDump(BinlogDump),
    BinlogDumpGtid(BinlogDumpGtid),
    /// A command byte binraft does not serve.
    Other(u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterSlave {
    pub server_id: u32,
    pub host: String,
    pub user: String,
    pub password: Vec<u8>,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogDump {
    pub position: u32,
    pub flags: u16,
    pub server_id: u32,
    /// Empty for "the first file" (MariaDB GTID mode, python-mysql-replication, zongji).
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogDumpGtid {
    pub flags: u16,
    pub server_id: u32,
    pub file: String,
    pub position: u64,
    pub gtids: GtidSet,
    pub gtid_format: BinaryFormat,
}

/// Why a command packet could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    Empty,
    Short(Short),
    BadGtidSet(String),
}

impl From<Short> for CommandError {
    fn from(s: Short) -> Self {
        CommandError::Short(s)
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Empty => f.write_str("empty command packet"),
            CommandError::Short(s) => write!(f, "command truncated at {}", s.field),
            CommandError::BadGtidSet(e) => write!(f, "bad GTID set: {e}"),
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl Command {
    pub fn decode(payload: &[u8]) -> Result<Command, CommandError> {
        let (&cmd, body) = payload.split_first().ok_or(CommandError::Empty)?;
        let mut r = Reader::new(body);
        Ok(match cmd {
            COM_QUIT => Command::Quit,
            COM_INIT_DB => Command::InitDb(text(body)),
            COM_QUERY => Command::Query(text(body)),
            COM_PING => Command::Ping,
            COM_REGISTER_SLAVE => {
                let server_id = r.u32("server_id")?;
                let mut short = |field| -> Result<Vec<u8>, Short> {
                    let n = r.u8(field)?;
                    Ok(r.take(usize::from(n), field)?.to_vec())
                };
                let host = text(&short("host")?);
                let user = text(&short("user")?);
                let password = short("password")?;
                let port = r.u16("port")?;
                Command::RegisterSlave(RegisterSlave { server_id, host, user, password, port })
            }
            COM_BINLOG_DUMP => {
                let position = r.u32("position")?;
                let flags = r.u16("flags")?;
                let server_id = r.u32("server_id")?;
                // The name runs to the end, or to a zero byte (python-mysql-replication sends
                // three zero bytes, one of them past the packet's stated length).
                let rest = r.rest();
                let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
                Command::BinlogDump(BinlogDump { position, flags, server_id, file: text(&rest[..end]) })
            }
            COM_BINLOG_DUMP_GTID => {
                let flags = r.u16("flags")?;
                let server_id = r.u32("server_id")?;
                let n = r.u32("file_len")?;
                let file = text(r.take(n as usize, "file")?);
                let position = r.u64("position")?;
                // The set is read whatever the flags say, as MySQL 5.6 to 9.x read it: a client
                // that sends it without BINLOG_THROUGH_GTID still means it.
                let (gtids, gtid_format) = if r.remaining() > 0 || flags & dump_flags::THROUGH_GTID != 0 {
                    let n = r.u32("gtid_data_len")?;
                    let data = r.take(n as usize, "gtid_data")?;
                    GtidSet::decode(data).map_err(|e| CommandError::BadGtidSet(e.to_string()))?
                } else {
                    (GtidSet::new(), BinaryFormat::Untagged)
                };
                Command::BinlogDumpGtid(BinlogDumpGtid { flags, server_id, file, position, gtids, gtid_format })
            }
            other => Command::Other(other),
        })
    }

    /// The command's packet payload (client side).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Command::Quit => out.push(COM_QUIT),
            Command::Ping => out.push(COM_PING),
            Command::InitDb(db) => {
                out.push(COM_INIT_DB);
                out.extend_from_slice(db.as_bytes());
            }
            Command::Query(q) => {
                out.push(COM_QUERY);
                out.extend_from_slice(q.as_bytes());
            }
            Command::RegisterSlave(r) => {
                out.push(COM_REGISTER_SLAVE);
                out.extend_from_slice(&r.server_id.to_le_bytes());
                for s in [r.host.as_bytes(), r.user.as_bytes(), &r.password] {
                    out.push(s.len() as u8);
                    out.extend_from_slice(s);
                }
                out.extend_from_slice(&r.port.to_le_bytes());
                out.extend_from_slice(&0u32.to_le_bytes());
                out.extend_from_slice(&0u32.to_le_bytes());
            }
            Command::BinlogDump(d) => {
                out.push(COM_BINLOG_DUMP);
                out.extend_from_slice(&d.position.to_le_bytes());
                out.extend_from_slice(&d.flags.to_le_bytes());
                out.extend_from_slice(&d.server_id.to_le_bytes());
                out.extend_from_slice(d.file.as_bytes());
            }
            Command::BinlogDumpGtid(d) => {
                out.push(COM_BINLOG_DUMP_GTID);
                out.extend_from_slice(&d.flags.to_le_bytes());
                out.extend_from_slice(&d.server_id.to_le_bytes());
                out.extend_from_slice(&(d.file.len() as u32).to_le_bytes());
                out.extend_from_slice(d.file.as_bytes());
                out.extend_from_slice(&d.position.to_le_bytes());
                if d.flags & dump_flags::THROUGH_GTID != 0 {
                    let mut set = Vec::new();
                    d.gtids.encode(d.gtid_format, &mut set);
                    out.extend_from_slice(&(set.len() as u32).to_le_bytes());
                    out.extend_from_slice(&set);
                }
            }
            Command::Other(c) => out.push(*c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gtid_set_without_through_gtid_is_read_as_mysql_reads_it() {
        let gtids = GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5").unwrap();
        let mut payload = vec![COM_BINLOG_DUMP_GTID];
        payload.extend_from_slice(&0u16.to_le_bytes());
        payload.extend_from_slice(&7u32.to_le_bytes());
        payload.extend_from_slice(&0u32.to_le_bytes());
        payload.extend_from_slice(&4u64.to_le_bytes());
        let mut set = Vec::new();
        gtids.encode(BinaryFormat::Untagged, &mut set);
        payload.extend_from_slice(&(set.len() as u32).to_le_bytes());
        payload.extend_from_slice(&set);
        let Ok(Command::BinlogDumpGtid(d)) = Command::decode(&payload) else { panic!() };
        assert_eq!((d.flags, d.gtids), (0, gtids));
        // Nothing after the position: no set.
        let Ok(Command::BinlogDumpGtid(d)) = Command::decode(&payload[..payload.len() - set.len() - 4]) else { panic!() };
        assert!(d.gtids.is_empty());
    }

    #[test]
    fn commands_round_trip() {
        let gtids = GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5").unwrap();
        for c in [
            Command::Query("SELECT 1".into()),
            Command::Ping,
            Command::RegisterSlave(RegisterSlave { server_id: 2, host: "h".into(), user: "".into(), password: vec![], port: 3307 }),
            Command::BinlogDump(BinlogDump { position: 4, flags: 2, server_id: 2, file: "binlog.000007".into() }),
            Command::BinlogDumpGtid(BinlogDumpGtid {
                flags: dump_flags::THROUGH_GTID,
                server_id: 9,
                file: String::new(),
                position: 4,
                gtids,
                gtid_format: BinaryFormat::Untagged,
            }),
        ] {
            let mut out = Vec::new();
            c.encode(&mut out);
            assert_eq!(Command::decode(&out), Ok(c));
        }
    }

    #[test]
    fn python_mysql_replication_dump_with_zero_name() {
        // pos 4, flags 0, server id 3, name of three zero bytes.
        let p = [COM_BINLOG_DUMP, 4, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0];
        let Ok(Command::BinlogDump(d)) = Command::decode(&p) else { panic!() };
        assert_eq!((d.position, d.server_id, d.file.as_str()), (4, 3, ""));
        assert!(matches!(Command::decode(&[COM_BINLOG_DUMP, 1]), Err(CommandError::Short(_))));
    }
}
