//! What a replica's binlog request asks for, read once for every driver.
//!
//! In: the dump command (COM_BINLOG_DUMP or COM_BINLOG_DUMP_GTID), the user variables the
//! replica set on its session before it (`@slave_connect_state`, `@master_binlog_checksum`,
//! `@master_heartbeat_period`, `@rpl_semi_sync_slave`, `@mariadb_slave_capability`,
//! `@slave_gtid_strict_mode`) and the node's server id. Out: a
//! [`DumpRequest`]: where the dump starts, the [`DumpConfig`] to plan it with (heartbeat period
//! included) and whether the events go out with the semi-sync header; or the error MariaDB
//! answers to a malformed connect state.

use crate::binlog::ChecksumAlg;
use crate::gtid::MariaGtidPos;
use crate::mysql::command::{dump_flags, BinlogDump, BinlogDumpGtid};
use crate::mysql::errors::ServerError;
use crate::primary::compat::Capability;
use crate::primary::dump::{DumpConfig, DumpStart};
use std::collections::BTreeMap;

/// The heartbeat period of a replica that set no (readable) `@master_heartbeat_period`: 30 s,
/// MariaDB's default (half its `slave_net_timeout`).
pub const HEARTBEAT_PERIOD_MS_DEFAULT: u64 = 30_000;

/// One of the two binlog requests.
#[derive(Debug, Clone, Copy)]
pub enum DumpCommand<'a> {
    /// COM_BINLOG_DUMP: a file and position, or MariaDB GTIDs through `@slave_connect_state`.
    FilePos(&'a BinlogDump),
    /// COM_BINLOG_DUMP_GTID (MySQL).
    Gtid(&'a BinlogDumpGtid),
}

/// A binlog request as the node serves it.
#[derive(Debug, Clone)]
pub struct DumpRequest {
    pub start: DumpStart,
    pub config: DumpConfig,
    /// The replica asked for semi-sync (`@rpl_semi_sync_slave= 1`): every event carries the
    /// semi-sync header, asking for an ACK at each transaction's end.
    pub semi_sync: bool,
    /// The server id the replica gave in its command, for the logs.
    pub replica_server_id: u32,
}

impl DumpRequest {
    /// Reads `command` with the session's `user_vars`, for a node of `server_id`.
    pub fn read(command: DumpCommand<'_>, user_vars: &BTreeMap<String, Option<String>>, server_id: u32) -> Result<DumpRequest, ServerError> {
        let var = |name: &str| user_vars.get(name).and_then(|v| v.as_deref());
        let (start, flags, replica_server_id) = match command {
            DumpCommand::FilePos(d) => {
                let start = match var("slave_connect_state") {
                    Some(s) => DumpStart::MariaGtid(
                        MariaGtidPos::parse(s).map_err(|e| ServerError::binlog(format!("Malformed @slave_connect_state: {e}")))?,
                    ),
                    None => DumpStart::FilePos { file: d.file.clone(), pos: u64::from(d.position) },
                };
                (start, d.flags, d.server_id)
            }
            // By its GTID set whenever it has one (MySQL reads the set whatever the flags say).
            DumpCommand::Gtid(d) if d.flags & dump_flags::THROUGH_GTID != 0 || !d.gtids.is_empty() => (DumpStart::MySqlGtid(d.gtids.clone()), d.flags, d.server_id),
            DumpCommand::Gtid(d) => (DumpStart::FilePos { file: d.file.clone(), pos: d.position }, d.flags, d.server_id),
        };
        let replica_checksum = match var("master_binlog_checksum") {
            Some(v) if v.eq_ignore_ascii_case("CRC32") => ChecksumAlg::Crc32,
            _ => ChecksumAlg::None,
        };
        let config = DumpConfig {
            server_id,
            send_annotate_rows: flags & dump_flags::SEND_ANNOTATE_ROWS != 0,
            non_blocking: flags & dump_flags::NON_BLOCK != 0,
            replica_checksum,
            heartbeat_period_ms: heartbeat_period_ms(var("master_heartbeat_period")),
            capability: Capability::from_var(var("mariadb_slave_capability")),
            checksum_aware: user_vars.contains_key("master_binlog_checksum"),
            gtid_strict: var("slave_gtid_strict_mode") == Some("1"),
        };
        Ok(DumpRequest { start, config, semi_sync: var("rpl_semi_sync_slave") == Some("1"), replica_server_id })
    }
}

/// `@master_heartbeat_period` is in nanoseconds: rounded up to whole milliseconds (the node's
/// clock), at least 1 ms; the default when unset or not a number.
fn heartbeat_period_ms(ns: Option<&str>) -> u64 {
    ns.and_then(|v| v.parse::<u64>().ok()).map_or(HEARTBEAT_PERIOD_MS_DEFAULT, |ns| ns.div_ceil(1_000_000).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gtid::mysql::GtidSet;
    use crate::mysql::errors::ER_MASTER_FATAL_ERROR_READING_BINLOG;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, Option<String>> {
        pairs.iter().map(|(k, v)| (k.to_string(), Some(v.to_string()))).collect()
    }

    fn file_pos(flags: u16) -> BinlogDump {
        BinlogDump { position: 1234, flags, server_id: 5, file: "mariadb-bin.000002".into() }
    }

    fn gtid(flags: u16) -> BinlogDumpGtid {
        let gtids = GtidSet::parse("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5").unwrap();
        BinlogDumpGtid { flags, server_id: 6, file: "mysql-bin.000003".into(), position: 567, gtids, gtid_format: Default::default() }
    }

    #[test]
    fn a_bare_file_pos_dump_has_mariadbs_defaults() {
        let r = DumpRequest::read(DumpCommand::FilePos(&file_pos(0)), &BTreeMap::new(), 9).unwrap();
        assert_eq!(r.start, DumpStart::FilePos { file: "mariadb-bin.000002".into(), pos: 1234 });
        let c = r.config;
        assert_eq!((c.server_id, c.send_annotate_rows, c.non_blocking, c.replica_checksum, c.heartbeat_period_ms), (9, false, false, ChecksumAlg::None, 30_000));
        assert!(!r.semi_sync);
        assert_eq!(r.replica_server_id, 5);
    }

    #[test]
    fn the_flags_and_the_session_variables_make_the_config() {
        let v = vars(&[("master_binlog_checksum", "crc32"), ("master_heartbeat_period", "30000001024"), ("rpl_semi_sync_slave", "1")]);
        let r = DumpRequest::read(DumpCommand::FilePos(&file_pos(dump_flags::NON_BLOCK | dump_flags::SEND_ANNOTATE_ROWS)), &v, 1).unwrap();
        let c = r.config;
        // 30.000001024 s rounds up: a heartbeat never comes sooner than the replica asked.
        assert_eq!((c.send_annotate_rows, c.non_blocking, c.replica_checksum, c.heartbeat_period_ms), (true, true, ChecksumAlg::Crc32, 30_001));
        assert!(r.semi_sync);
        let other = vars(&[("master_binlog_checksum", "NONE"), ("rpl_semi_sync_slave", "0")]);
        let r = DumpRequest::read(DumpCommand::FilePos(&file_pos(0)), &other, 1).unwrap();
        assert_eq!(r.config.replica_checksum, ChecksumAlg::None);
        assert!(!r.semi_sync);
    }

    #[test]
    fn heartbeat_periods_in_nanoseconds() {
        assert_eq!(heartbeat_period_ms(Some("300000000")), 300);
        assert_eq!(heartbeat_period_ms(Some("1")), 1);
        assert_eq!(heartbeat_period_ms(Some("0")), 1);
        assert_eq!(heartbeat_period_ms(Some("ten")), HEARTBEAT_PERIOD_MS_DEFAULT);
        assert_eq!(heartbeat_period_ms(None), HEARTBEAT_PERIOD_MS_DEFAULT);
    }

    #[test]
    fn a_connect_state_makes_a_mariadb_gtid_dump_whatever_the_file() {
        let v = vars(&[("slave_connect_state", "0-1-16,2-1-2")]);
        let r = DumpRequest::read(DumpCommand::FilePos(&file_pos(0)), &v, 1).unwrap();
        assert_eq!(r.start, DumpStart::MariaGtid(MariaGtidPos::parse("0-1-16,2-1-2").unwrap()));
        let empty = vars(&[("slave_connect_state", "")]);
        assert_eq!(DumpRequest::read(DumpCommand::FilePos(&file_pos(0)), &empty, 1).unwrap().start, DumpStart::MariaGtid(MariaGtidPos::default()));
    }

    #[test]
    fn a_malformed_connect_state_is_1236() {
        let v = vars(&[("slave_connect_state", "0-1")]);
        let e = DumpRequest::read(DumpCommand::FilePos(&file_pos(0)), &v, 1).unwrap_err();
        assert_eq!(e.code, ER_MASTER_FATAL_ERROR_READING_BINLOG);
        assert!(e.message.starts_with("Malformed @slave_connect_state: "), "{}", e.message);
    }

    #[test]
    fn a_gtid_dump_goes_by_its_set_whatever_its_flags() {
        let through = DumpRequest::read(DumpCommand::Gtid(&gtid(dump_flags::THROUGH_GTID)), &BTreeMap::new(), 1).unwrap();
        assert_eq!(through.start, DumpStart::MySqlGtid(gtid(0).gtids));
        assert_eq!(through.replica_server_id, 6);
        // Flags 0 with a set: by the set, as MySQL does.
        let flags_zero = DumpRequest::read(DumpCommand::Gtid(&gtid(0)), &BTreeMap::new(), 1).unwrap();
        assert_eq!(flags_zero.start, DumpStart::MySqlGtid(gtid(0).gtids));
        // No set: by file and position.
        let no_set = BinlogDumpGtid { gtids: GtidSet::new(), ..gtid(0) };
        let plain = DumpRequest::read(DumpCommand::Gtid(&no_set), &BTreeMap::new(), 1).unwrap();
        assert_eq!(plain.start, DumpStart::FilePos { file: "mysql-bin.000003".into(), pos: 567 });
        // A MariaDB connect state is for COM_BINLOG_DUMP only.
        let v = vars(&[("slave_connect_state", "0-1-16")]);
        assert_eq!(DumpRequest::read(DumpCommand::Gtid(&no_set), &v, 1).unwrap().start, plain.start);
    }
}
