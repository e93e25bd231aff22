//! CDC clients against binraft: python-mysql-replication in MySQL mode (GTID auto-position and
//! file/position) over an imported MySQL 8.0.45 store, and in MariaDB mode over the project's
//! MariaDB captures. What each receives is checked against binraft's own decode of the files.

mod common;

use binraft_core::binlog::{EventBody, EventType};
use binraft_fixtures::{captured_files, corpus_dir, decode_all, read_binlog};
use common::*;
use std::path::PathBuf;
use std::process::Command;

fn pmr(port: u16, mode: &str, position: Option<&str>) -> Vec<String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/clients/pymysqlreplication_dump.py");
    let mut c = Command::new("python3");
    c.arg(&script).arg(port.to_string()).arg(mode).env("PMR_PASSWORD", "s3cret");
    if let Some(p) = position {
        c.arg(p);
    }
    let out = c.output().expect("python3");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "python-mysql-replication failed (pip install mysql-replication; .ci/run does): {err}");
    String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect()
}

fn store_of(name: &str, files: &[PathBuf]) -> (PathBuf, Binraft) {
    let work = work_dir(name);
    let store = work.join("store");
    let mut args = vec!["import".to_string(), "--data-dir".into(), store.display().to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let out = binraft(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let node = Binraft::start(&store, &work.join("binraft.log"), &[]);
    (work, node)
}

/// Rows events and GTIDs in `files`, as binraft decodes them.
fn expected(files: &[PathBuf]) -> (usize, Vec<String>) {
    let mut rows = 0;
    let mut gtids = Vec::new();
    for f in files {
        for d in decode_all(&read_binlog(f)).0 {
            match &d.event.body {
                // python-mysql-replication drops MariaDB's compressed rows events (166-171)
                // without a word: they are sent, but this client cannot count them.
                EventBody::Rows(r) if !r.compressed => rows += 1,
                EventBody::Gtid(g) if d.event.kind == EventType::GTID => gtids.push(format!("{}:{}", g.uuid, g.gno)),
                EventBody::MariaGtid(g) => gtids.push(format!("{}-{}-{}", g.domain, d.event.header.server_id, g.seq)),
                _ => {}
            }
        }
    }
    (rows, gtids)
}

#[test]
fn python_mysql_replication_mysql_mode_gtid_and_file_position() {
    let dir = corpus_dir().join("Percona-Lab-percona-binlog-server/data_80045_gtid");
    let files = vec![dir.join("binlog.000001"), dir.join("binlog.000002")];
    let (_work, node) = store_of("pmr-mysql", &files);
    let (rows, gtids) = expected(&files);
    assert_eq!(gtids.len(), 6);
    let uuid = gtids[0].split(':').next().unwrap().to_string();

    // Auto-position with 1-2 already applied: exactly 3..6 arrive, with their rows.
    let lines = pmr(node.port, "mysql-gtid", Some(&format!("{uuid}:1-2")));
    let got: Vec<&str> = lines.iter().filter(|l| l.contains(" GtidEvent ")).map(|l| l.rsplit(' ').next().unwrap()).collect();
    assert_eq!(got, gtids[2..].iter().map(String::as_str).collect::<Vec<_>>(), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("UpdateRowsEvent test.t1 rows=3")), "{lines:#?}");

    // File and position from the first file: every rows event of both files.
    let lines = pmr(node.port, "mysql-file", None);
    assert_eq!(lines.iter().filter(|l| l.contains("RowsEvent")).count(), rows, "{lines:#?}");
}

/// The project's MariaDB captures under their primary names, as plain files.
fn plain_captures(tag: &str) -> Vec<PathBuf> {
    let dir = std::env::temp_dir().join(format!("binraft-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    captured_files()
        .iter()
        .map(|f| {
            let name = f.file_name().unwrap().to_string_lossy().trim_end_matches(".gz").to_string();
            let dest = dir.join(name);
            std::fs::write(&dest, read_binlog(f)).unwrap();
            dest
        })
        .collect()
}

#[test]
fn zongji_streams_every_row() {
    // zongji declares no `@mariadb_slave_capability`: it gets each GTID as a BEGIN query, as
    // from MariaDB, and, as from MariaDB (`tests/wire.rs`), an error at the first XA
    // transaction, whose GTID cannot be: the first capture is cut before it.
    let mut files = plain_captures("zongji-src");
    files.truncate(1);
    let bytes = read_binlog(&files[0]);
    let xa = decode_all(&bytes).0.into_iter().find(|d| matches!(&d.event.body, EventBody::MariaGtid(g) if g.xid.is_some())).expect("an XA transaction");
    std::fs::write(&files[0], &bytes[..xa.event.offset as usize]).unwrap();
    let (_work, node) = store_of("zongji", &files);
    let (rows, _) = expected(&files);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/clients/zongji/dump.js");
    let out = Command::new("node").arg(&script).arg(node.port.to_string()).arg("s3cret").output().expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "zongji failed (npm install in fixtures/clients/zongji; .ci/run does): {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    let got = stdout.lines().filter(|l| l.contains(" writerows ") || l.contains(" updaterows ") || l.contains(" deleterows ")).count();
    assert_eq!(got, rows, "{stdout}");
    // Column names came from binraft's catalog (INFORMATION_SCHEMA.COLUMNS from TABLE_MAPs).
    assert!(stdout.contains("writerows rigtest.strs rows=2"), "{stdout}");
    let _ = std::fs::remove_dir_all(files[0].parent().unwrap());
}

#[test]
fn python_mysql_replication_mariadb_mode() {
    let renamed = plain_captures("pmr-src");
    let (_work, node) = store_of("pmr-mariadb", &renamed);
    let (rows, gtids) = expected(&renamed);
    let lines = pmr(node.port, "mariadb", None);
    assert_eq!(lines.iter().filter(|l| l.contains("RowsEvent")).count(), rows, "{lines:#?}");
    let got: Vec<&str> = lines.iter().filter(|l| l.contains(" MariadbGtidEvent ")).map(|l| l.rsplit(' ').next().unwrap()).collect();
    assert_eq!(got, gtids, "every GTID, in order");
    // From a GTID in the middle: only what follows it.
    let from = &gtids[gtids.len() / 2];
    let lines = pmr(node.port, "mariadb", Some(from));
    let got: Vec<&str> = lines.iter().filter(|l| l.contains(" MariadbGtidEvent ")).map(|l| l.rsplit(' ').next().unwrap()).collect();
    let want: Vec<&str> = gtids.iter().skip_while(|g| *g != from).skip(1).filter(|g| g.starts_with("0-") || !from.starts_with("0-")).map(String::as_str).collect();
    assert!(!got.is_empty() && got.iter().all(|g| want.contains(g) || !g.starts_with(&from[..2])), "{got:?} vs {want:?}");
    let _ = std::fs::remove_dir_all(renamed[0].parent().unwrap());
}

#[test]
fn mysql_async_binlog_stream_with_gtid_auto_position() {
    use futures_util::StreamExt;
    use mysql_async::binlog::events::EventData;
    let dir = corpus_dir().join("Percona-Lab-percona-binlog-server/data_80045_gtid");
    let files = vec![dir.join("binlog.000001"), dir.join("binlog.000002")];
    let (_work, node) = store_of("mysql-async", &files);
    let (_, gtids) = expected(&files);
    let uuid = binraft_core::gtid::Uuid::parse(gtids[0].split(':').next().unwrap()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let got: Vec<String> = rt.block_on(async {
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(node.port)
            .user(Some("repl"))
            .pass(Some("s3cret"))
            .prefer_socket(false);
        let conn = mysql_async::Conn::new(opts).await.expect("mysql_async connects to binraft");
        let sid = mysql_async::Sid::new(uuid.0).with_interval(mysql_async::GnoInterval::new(1, 4));
        let req = mysql_async::BinlogStreamRequest::new(4242).with_gtid().with_gtid_set(vec![sid]);
        let mut stream = conn.get_binlog_stream(req).await.expect("binlog stream");
        let mut got = Vec::new();
        while let Ok(Some(ev)) = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next()).await {
            let ev = ev.expect("event");
            if let Ok(Some(EventData::GtidEvent(g))) = ev.read_data() {
                got.push(format!("{}:{}", binraft_core::gtid::Uuid(g.sid()), g.gno()));
                if got.len() == 3 {
                    break;
                }
            }
        }
        got
    });
    assert_eq!(got, gtids[3..], "GTIDs after 1-3");
}

/// The MySQL 8.0.45 corpus files, and a binraft source serving them.
fn mysql_source(tag: &str) -> (Vec<PathBuf>, PathBuf, Binraft) {
    let dir = corpus_dir().join("Percona-Lab-percona-binlog-server/data_80045_gtid");
    let files = vec![dir.join("binlog.000001"), dir.join("binlog.000002")];
    let (work, source) = store_of(tag, &files);
    (files, work, source)
}

/// The flags that make a node pull from `source`.
fn pull_from(source: &Binraft) -> Vec<String> {
    ["--primary", &format!("127.0.0.1:{}", source.port), "--primary-user", "repl", "--primary-password", "s3cret"].iter().map(|s| s.to_string()).collect()
}

/// Waits until `store` holds `file` byte for byte.
fn wait_identical(store: &std::path::Path, file: &std::path::Path, node: &Binraft) {
    let t = std::time::Instant::now();
    let name = file.file_name().unwrap();
    while std::fs::read(store.join(name)).ok().as_deref() != Some(&read_binlog(file)[..]) {
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "{name:?} never matched the source:\n{}", node.log());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// binraft pulling from a MySQL-flavour source (another binraft serving an imported MySQL 8.0.45
/// store: no MySQL server can run here): the same files, byte for byte, then served on.
#[test]
fn pulling_from_a_mysql_flavour_source() {
    let (files, _source_work, source) = mysql_source("mysql-source");
    let work = work_dir("mysql-pull");
    let node = Binraft::start(&work.join("store"), &work.join("binraft.log"), &pull_from(&source));
    for f in &files {
        wait_identical(&work.join("store"), f, &node);
    }
    // And python-mysql-replication reads it from the pulling node by GTID.
    let (_, gtids) = expected(&files);
    let lines = pmr(node.port, "mysql-gtid", Some(&format!("{}:1-4", gtids[0].split(':').next().unwrap())));
    let got: Vec<&str> = lines.iter().filter(|l| l.contains(" GtidEvent ")).map(|l| l.rsplit(' ').next().unwrap()).collect();
    assert_eq!(got, gtids[4..].iter().map(String::as_str).collect::<Vec<_>>());
}

/// MySQL auto-position upstream: a store holding binlog.000001 and the first transaction of
/// binlog.000002 asks the MySQL-flavour source by COM_BINLOG_DUMP_GTID with its GTID set, gets
/// the rest of binlog.000002 where the source has it, and ends byte-identical.
#[test]
fn pulling_by_mysql_gtid_auto_position() {
    let (files, _source_work, source) = mysql_source("mysql-gtid-source");
    let work = work_dir("mysql-gtid-pull");
    // The first transaction of binlog.000002 (GTID :5) ends at 529.
    let cut = work.join("seed");
    std::fs::create_dir_all(&cut).unwrap();
    std::fs::write(cut.join("binlog.000002"), &read_binlog(&files[1])[..529]).unwrap();
    let store = work.join("store");
    let out = binraft(&["import", "--data-dir", store.to_str().unwrap(), files[0].to_str().unwrap(), cut.join("binlog.000002").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Configured as a DBA configures a MySQL replica.
    let node = Binraft::start(&store, &work.join("binraft.log"), &["--admin".into(), "admin:chief".into()]);
    let admin = |sql: &str| {
        let out = Command::new("mariadb")
            .args(["--no-defaults", "-h127.0.0.1", "-uadmin", "-pchief", "-E", "-e", sql])
            .arg(format!("-P{}", node.port))
            .output()
            .unwrap();
        assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    admin(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', MASTER_PASSWORD='s3cret', MASTER_AUTO_POSITION=1; START SLAVE",
        source.port
    ));
    wait_identical(&store, &files[1], &node);
    let uuid = "396e294c-1ca4-11f1-9ae7-00155da79c6b";
    assert!(source.log().contains(&format!("start=MySQL GTID set '{uuid}:1-5'")), "the source saw no auto-position dump from :1-5:\n{}", source.log());
    assert_eq!(std::fs::read(store.join("binlog.000001")).unwrap(), read_binlog(&files[0]));
    let st = admin("SHOW SLAVE STATUS");
    for want in [format!("Retrieved_Gtid_Set: {uuid}:1-6"), "Auto_Position: 1".into(), "Slave_IO_Running: Yes".into()] {
        assert!(st.lines().any(|l| l.trim() == want), "{want} not in:\n{st}");
    }
}

/// A store whose last file ends with a ROTATE to a file it never created (binraft was killed
/// between the two) resumes by file and position into that file: created, then filled.
#[test]
fn resuming_into_a_file_the_store_never_created() {
    let (files, _source_work, source) = mysql_source("rotate-source");
    let work = work_dir("rotate-pull");
    let store = work.join("store");
    let out = binraft(&["import", "--data-dir", store.to_str().unwrap(), files[0].to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let node = Binraft::start(&store, &work.join("binraft.log"), &pull_from(&source));
    wait_identical(&store, &files[1], &node);
}
