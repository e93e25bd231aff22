//! End to end with real MariaDB 10.11: a primary runs the capture workload (every column type,
//! DDL, XA, two GTID domains, a 17.6 MB row, STATEMENT/MIXED, compression); its binlogs are
//! imported into binraft; two MariaDB replicas attach to binraft (one by GTID, one by file and
//! position) and must end with the primary's GTID position and identical tables. Bad clients
//! (wrong password, garbage packets, unknown SQL, a GTID binraft never had) get precise errors
//! while the replicas carry on.

use binraft_fixtures::mariadb::{free_port, MariaDb};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Binraft {
    child: Child,
    port: u16,
}

impl Drop for Binraft {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binraft(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_binraft")).args(args).output().expect("run binraft")
}

fn start_binraft(store: &Path, log: &Path) -> Binraft {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_binraft"))
        .args(["run", "--server-id", "100", "--user", "repl:s3cret"])
        .arg("--data-dir")
        .arg(store)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("start binraft");
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10), "binraft did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Binraft { child, port }
}

/// The primary's binlogs after the workload: closed files only.
fn primary_with_workload() -> (MariaDb, Vec<String>) {
    let tmp = std::env::temp_dir().join(format!("binraft-load-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let p = MariaDb::start(
        "primary",
        &[
            "--log-bin=primary-bin".into(),
            "--server-id=1".into(),
            "--binlog-format=ROW".into(),
            "--binlog-row-metadata=FULL".into(),
            "--gtid-strict-mode=1".into(),
            "--max-allowed-packet=1G".into(),
            format!("--secure-file-priv={}", tmp.display()),
        ],
    );
    let csv = tmp.join("load.csv");
    std::fs::write(&csv, "1001,loaded one\n1002,loaded two\n1003,\"loaded, quoted\"\n").unwrap();
    let workload = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/capture/workload.sql")).unwrap();
    let sql = tmp.join("workload.sql");
    std::fs::write(&sql, workload.replace("@@LOADFILE@@", &csv.display().to_string())).unwrap();
    p.source(&sql);
    let logs: Vec<String> = p.sql("SHOW BINARY LOGS").lines().map(|l| l.split('\t').next().unwrap().to_string()).collect();
    let closed = logs[..logs.len() - 1].to_vec();
    (p, closed)
}

fn replica(name: &str, server_id: u32) -> MariaDb {
    MariaDb::start(name, &[format!("--server-id={server_id}"), "--gtid-strict-mode=1".into(), "--max-allowed-packet=1G".into()])
}

fn wait_for(db: &MariaDb, what: &str, mut ok: impl FnMut(&MariaDb) -> bool) {
    let t = Instant::now();
    while !ok(db) {
        let st = db.slave_status();
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "{}: {what} not reached; slave status: {st:?}",
            db.name
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn field<'a>(st: &'a [(String, String)], k: &str) -> &'a str {
    st.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

#[test]
fn mariadb_replicas_converge_through_binraft_and_bad_clients_do_not_disturb_them() {
    let (primary, files) = primary_with_workload();
    assert!(files.len() >= 4, "{files:?}");
    let work = std::env::temp_dir().join(format!("binraft-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let store = work.join("store");
    let mut import = vec!["import".to_string(), "--data-dir".into(), store.display().to_string()];
    import.extend(files.iter().map(|f| primary.data_dir().join(f).display().to_string()));
    let out = binraft(&import.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
    let node = start_binraft(&store, &work.join("binraft.log"));
    let port = node.port;

    let by_gtid = replica("replica-gtid", 2);
    by_gtid.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='repl', MASTER_PASSWORD='s3cret', MASTER_USE_GTID=slave_pos; START SLAVE"
    ));
    let by_pos = replica("replica-pos", 3);
    by_pos.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='repl', MASTER_PASSWORD='s3cret', MASTER_LOG_FILE='{}', MASTER_LOG_POS=4, MASTER_USE_GTID=no; START SLAVE",
        files[0]
    ));

    // Bad clients while the replicas work.
    let bad = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", "-urepl", "-pwrong", "-e", "SELECT 1"])
        .arg(format!("-P{port}"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("ERROR 1045 (28000): Access denied for user 'repl'@'127.0.0.1' (using password: YES)"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    for garbage in [&b"\x05\x00\x00\x01hello"[..], &[0xff; 64][..], &b"\x01"[..]] {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut greeting = [0u8; 256];
        let _ = s.read(&mut greeting).unwrap();
        s.write_all(garbage).unwrap();
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
    }
    // In batch mode --force goes on after an error: the session survives the bad statement.
    let mut client = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", "-urepl", "-ps3cret", "--force", "-N", "-B"])
        .arg(format!("-P{port}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    client.stdin.take().unwrap().write_all(b"SELECT nonsense FROM nowhere;\nSHOW BINARY LOGS;\nSELECT @@server_id;\n").unwrap();
    let mixed = client.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&mixed.stderr);
    let stdout = String::from_utf8_lossy(&mixed.stdout);
    assert!(stderr.contains("ERROR 1064 (42000)"), "{stderr}");
    assert!(stdout.contains(&files[0]) && stdout.lines().last() == Some("100"), "{stdout}");

    // Both replicas reach the primary's position, with identical tables.
    let expected = primary.sql("SELECT @@gtid_binlog_pos");
    let sorted = |s: String| {
        let mut v: Vec<String> = s.split(',').map(|x| x.trim().to_string()).collect();
        v.sort();
        v
    };
    for r in [&by_gtid, &by_pos] {
        wait_for(r, &format!("gtid_slave_pos {expected}"), |db| sorted(db.sql("SELECT @@gtid_slave_pos")) == sorted(expected.clone()));
        let st = r.slave_status();
        assert_eq!(field(&st, "Slave_IO_Running"), "Yes", "{st:?}");
        assert_eq!(field(&st, "Slave_SQL_Running"), "Yes", "{st:?}");
        assert_eq!(field(&st, "Last_IO_Error"), "", "{st:?}");
    }
    let tables: Vec<String> = primary.sql("SELECT table_name FROM information_schema.tables WHERE table_schema='rigtest' ORDER BY 1").lines().map(String::from).collect();
    assert!(tables.len() >= 8, "{tables:?}");
    for t in &tables {
        let q = format!("CHECKSUM TABLE rigtest.`{t}`");
        let want = primary.sql(&q);
        assert_eq!(by_gtid.sql(&q), want, "{t} differs on the GTID replica");
        assert_eq!(by_pos.sql(&q), want, "{t} differs on the file/position replica");
    }

    // A replica that has GTIDs binraft never had gets 1236, and says so.
    let ahead = replica("replica-ahead", 4);
    ahead.sql(&format!(
        "SET GLOBAL gtid_slave_pos='0-1-99999'; CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='repl', MASTER_PASSWORD='s3cret', MASTER_USE_GTID=slave_pos; START SLAVE"
    ));
    wait_for(&ahead, "error 1236", |db| field(&db.slave_status(), "Last_IO_Errno") == "1236");
    let st = ahead.slave_status();
    assert!(field(&st, "Last_IO_Error").contains("0-1-99999, which is not in the master's binlog"), "{st:?}");

    // The first replicas are still connected and idle, not broken.
    for r in [&by_gtid, &by_pos] {
        assert_eq!(field(&r.slave_status(), "Slave_IO_Running"), "Yes");
    }
    drop(node);
    let _ = std::fs::remove_dir_all(&work);
}
