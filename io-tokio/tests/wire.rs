//! The stream binraft sends each kind of binlog client, against the one MariaDB 10.11 sends it
//! for the same request, byte for byte: MariaDB is the oracle. binraft pulls a primary's binlog
//! (its files the primary's), then the same requests go to both: from the first file by every
//! `@mariadb_slave_capability` (none, 0 to 4) with and without ANNOTATE_ROWS, from the middle
//! of a file, by GTID positions in the middle of the stream in two domains, without
//! `@master_binlog_checksum`, and a waiting dump until its first heartbeat.
//!
//! The one difference allowed: the events a dump makes up (artificial ROTATE and GTID_LIST,
//! HEARTBEAT) carry the sender's server id, MariaDB's its own and binraft's its own, the one
//! each answers for `@@server_id`.

mod common;

use binraft_core::mysql::client::{ClientConfig, ClientConn, ClientError, ClientOutput};
use binraft_core::mysql::command::{dump_flags, BinlogDump, Command};
use common::*;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// binraft's server id in these tests (common::Binraft's).
const BINRAFT_ID: u32 = 100;
const PRIMARY_ID: u32 = 1;

/// What one request got: its events (without the 0x00 packet prefix), and how it ended.
#[derive(Debug)]
struct Got {
    events: Vec<Vec<u8>>,
    /// `None`: end of stream (a non-blocking dump), or the wanted event came.
    error: Option<(u16, String)>,
}

/// One request, sent to either server.
#[derive(Debug, Clone)]
struct Request {
    name: String,
    vars: Vec<(&'static str, String)>,
    file: String,
    pos: u32,
    flags: u16,
    /// A waiting dump: read until an event of this type comes.
    until_type: Option<u8>,
}

fn dump(port: u16, r: &Request) -> Got {
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut c = ClientConn::new(ClientConfig { user: "repl".into(), password: "s3cret".into(), max_packet: 1 << 30, tls: false });
    let mut buf = vec![0u8; 1 << 16];
    let mut events = Vec::new();
    let mut setup: Vec<String> = r.vars.iter().map(|(k, v)| format!("SET @{k}={v}")).collect();
    setup.reverse();
    let mut dumping = false;
    let t = Instant::now();
    loop {
        while let Some(o) = c.poll_output() {
            match o {
                ClientOutput::Send(b) => sock.write_all(&b).unwrap(),
                ClientOutput::Ready(_) | ClientOutput::Done(_) => match setup.pop() {
                    Some(q) => c.query(&q),
                    None if !dumping => {
                        dumping = true;
                        c.send_command(&Command::BinlogDump(BinlogDump { position: r.pos, flags: r.flags, server_id: 77, file: r.file.clone() }));
                    }
                    None => panic!("{}: an answer while dumping", r.name),
                },
                ClientOutput::Event(e) => {
                    let wanted = r.until_type.is_some_and(|t| e.get(4) == Some(&t));
                    events.push(e);
                    if wanted {
                        return Got { events, error: None };
                    }
                }
                ClientOutput::EndOfStream => return Got { events, error: None },
                ClientOutput::Refused(e) | ClientOutput::Fatal(ClientError::StreamError(e)) if dumping => return Got { events, error: Some((e.code, e.message)) },
                other => panic!("{}: {other:?}", r.name),
            }
        }
        assert!(t.elapsed() < Duration::from_secs(30), "{}: no end after 30 s", r.name);
        let n = sock.read(&mut buf).unwrap_or_else(|e| panic!("{}: {e}", r.name));
        assert!(n > 0, "{}: the server closed the connection", r.name);
        c.handle_bytes(&buf[..n]);
    }
}

/// An event a dump makes up (timestamp 0; flagged artificial, or a HEARTBEAT): its server id
/// set to 0, its checksum (if it had a right one) made again.
fn normalized(e: &[u8], sender: u32) -> Vec<u8> {
    let made_up = e.len() >= 19 && e[..4] == [0; 4] && (u16::from_le_bytes([e[17], e[18]]) & 0x20 != 0 || e[4] == 27);
    if !made_up {
        return e.to_vec();
    }
    assert_eq!(u32::from_le_bytes([e[5], e[6], e[7], e[8]]), sender, "a made-up event with another server id than its sender's: {e:02x?}");
    let n = e.len() - 4;
    let had_crc = crc32fast::hash(&e[..n]) == u32::from_le_bytes([e[n], e[n + 1], e[n + 2], e[n + 3]]);
    let mut out = e.to_vec();
    out[5..9].copy_from_slice(&[0; 4]);
    if had_crc {
        let c = crc32fast::hash(&out[..n]);
        out[n..].copy_from_slice(&c.to_le_bytes());
    }
    out
}

fn describe(e: &[u8]) -> String {
    if e.len() < 19 {
        return format!("{} bytes: {e:02x?}", e.len());
    }
    let flags = u16::from_le_bytes([e[17], e[18]]);
    let pos = u32::from_le_bytes([e[13], e[14], e[15], e[16]]);
    format!("type {} flags {flags:#06x} end {pos} ({} bytes): {:02x?}", e[4], e.len(), &e[..e.len().min(96)])
}

fn assert_same(r: &Request, ours: &Got, theirs: &Got) {
    let a: Vec<Vec<u8>> = ours.events.iter().map(|e| normalized(e, BINRAFT_ID)).collect();
    let b: Vec<Vec<u8>> = theirs.events.iter().map(|e| normalized(e, PRIMARY_ID)).collect();
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(x == y, "{}: event {i} differs\n binraft: {}\n MariaDB: {}", r.name, describe(x), describe(y));
    }
    assert_eq!(a.len(), b.len(), "{}: binraft sent {} events, MariaDB {}; the first extra: {}", r.name, a.len(), b.len(), describe(a.get(b.len()).or(b.get(a.len())).unwrap()));
    assert_eq!(ours.error.as_ref().map(|e| e.0), theirs.error.as_ref().map(|e| e.0), "{}: binraft ended with {:?}, MariaDB with {:?}", r.name, ours.error, theirs.error);
}

/// The workload: two domains, DDL (standalone GTIDs), transactional and MyISAM DML, ANNOTATE
/// rows, three files; an XA transaction last (a GTID no client without GTID capability can
/// take: MariaDB ends such a dump there).
const WORKLOAD: &[&str] = &[
    "SET SESSION gtid_domain_id=0; CREATE DATABASE w; CREATE TABLE w.t (id INT PRIMARY KEY, v VARCHAR(100)) ENGINE=InnoDB",
    "SET SESSION gtid_domain_id=0; INSERT INTO w.t VALUES (1,'one'),(2,'two')",
    "SET SESSION gtid_domain_id=1; INSERT INTO w.t VALUES (3,'three')",
    "FLUSH BINARY LOGS",
    "SET SESSION gtid_domain_id=0; UPDATE w.t SET v='uno' WHERE id=1",
    "SET SESSION gtid_domain_id=1; DELETE FROM w.t WHERE id=3",
    "SET SESSION gtid_domain_id=1; CREATE TABLE w.m (id INT) ENGINE=MyISAM",
    "SET SESSION gtid_domain_id=1; INSERT INTO w.m VALUES (1),(2)",
    "SET SESSION gtid_domain_id=0; INSERT INTO w.t VALUES (4,'four')",
    "FLUSH BINARY LOGS",
    "SET SESSION gtid_domain_id=0; BEGIN; INSERT INTO w.t VALUES (5,'five'); INSERT INTO w.t VALUES (6,'six'); COMMIT",
    "SET SESSION gtid_domain_id=0; XA START 'x1'; INSERT INTO w.t VALUES (7,'seven'); XA END 'x1'; XA PREPARE 'x1'; XA COMMIT 'x1'",
];

#[test]
fn every_kind_of_dump_gets_what_mariadb_sends() {
    let work = work_dir("wire");
    let p = primary(&work);
    // The GTID state after each statement, and where the binlog stood.
    let mut states = Vec::new();
    for sql in WORKLOAD {
        p.sql(sql);
        let st = p.sql("SELECT @@gtid_binlog_pos");
        let master = p.sql("SHOW MASTER STATUS");
        let mut f = master.split('\t');
        states.push((st.trim().to_string(), f.next().unwrap().to_string(), f.next().unwrap().trim().parse::<u32>().unwrap()));
    }
    let node = Binraft::start(
        &work.join("store"),
        &work.join("binraft.log"),
        &["--primary".into(), format!("127.0.0.1:{}", p.port), "--primary-user".into(), "repl".into(), "--primary-password".into(), "s3cret".into()],
    );
    // binraft holds every file, as long as the primary's.
    let logs: Vec<(String, u64)> = p.sql("SHOW BINARY LOGS").lines().map(|l| {
        let mut f = l.split('\t');
        (f.next().unwrap().to_string(), f.next().unwrap().trim().parse().unwrap())
    }).collect();
    assert_eq!(logs.len(), 3, "{logs:?}");
    let t = Instant::now();
    while !logs.iter().all(|(n, size)| std::fs::metadata(work.join("store").join(n)).is_ok_and(|m| m.len() == *size)) {
        assert!(t.elapsed() < Duration::from_secs(30), "binraft did not get the primary's files: {}", node.log());
        std::thread::sleep(Duration::from_millis(100));
    }

    let crc = ("master_binlog_checksum", "'CRC32'".to_string());
    let first = logs[0].0.clone();
    let mut requests = Vec::new();
    for cap in [None, Some(0), Some(1), Some(2), Some(3), Some(4)] {
        for annotate in [false, true] {
            let mut vars = vec![crc.clone()];
            if let Some(c) = cap {
                vars.push(("mariadb_slave_capability", c.to_string()));
            }
            let flags = dump_flags::NON_BLOCK | if annotate { dump_flags::SEND_ANNOTATE_ROWS } else { 0 };
            requests.push(Request { name: format!("from the start, capability {cap:?}, annotate {annotate}"), vars, file: first.clone(), pos: 4, flags, until_type: None });
        }
    }
    let cap4 = || vec![crc.clone(), ("mariadb_slave_capability", "4".to_string())];
    // From the middle of the second file (after the UPDATE).
    let (_, mid_file, mid_pos) = states[4].clone();
    requests.push(Request { name: format!("from {mid_file}:{mid_pos}"), vars: cap4(), file: mid_file, pos: mid_pos, flags: dump_flags::NON_BLOCK, until_type: None });
    // By GTID: each state of the workload, and two that mix a domain at a file's start with
    // one in the middle of it.
    let mut gtid_states: Vec<String> = states.iter().map(|(s, _, _)| s.clone()).collect();
    let domain = |s: &str, d: &str| s.split(',').find(|g| g.starts_with(&format!("{d}-"))).unwrap_or_default().to_string();
    gtid_states.push(format!("{},{}", domain(&states[3].0, "0"), domain(&states[7].0, "1")));
    gtid_states.push(format!("{},{}", domain(&states[8].0, "0"), domain(&states[5].0, "1")));
    gtid_states.dedup();
    for s in gtid_states {
        let mut vars = cap4();
        vars.push(("slave_connect_state", format!("'{s}'")));
        requests.push(Request { name: format!("by GTID from '{s}'"), vars, file: String::new(), pos: 4, flags: dump_flags::NON_BLOCK, until_type: None });
    }
    // A client that does not declare checksums.
    requests.push(Request { name: "without @master_binlog_checksum".into(), vars: vec![], file: first.clone(), pos: 4, flags: dump_flags::NON_BLOCK, until_type: None });
    // Waiting at the end: the first heartbeat (100 ms).
    let (last, size) = logs[2].clone();
    let mut vars = cap4();
    vars.push(("master_heartbeat_period", "100000000".into()));
    requests.push(Request { name: "waiting at the end, until a heartbeat".into(), vars, file: last, pos: size as u32, flags: 0, until_type: Some(27) });

    for r in &requests {
        let theirs = dump(p.port, r);
        let ours = dump(node.port, r);
        assert_same(r, &ours, &theirs);
        eprintln!("{}: {} events alike{}", r.name, ours.events.len(), ours.error.as_ref().map(|e| format!(", then error {}: binraft '{}', MariaDB '{}'", e.0, e.1, theirs.error.as_ref().unwrap().1)).unwrap_or_default());
    }
}
