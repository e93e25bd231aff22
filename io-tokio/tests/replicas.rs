//! End to end with real MariaDB 10.11: a primary runs the capture workload (every column type,
//! DDL, XA, two GTID domains, a 17.6 MB row, STATEMENT/MIXED, compression); its binlogs are
//! imported into binraft; two MariaDB replicas attach to binraft (one by GTID, one by file and
//! position) and must end with the primary's GTID position and identical tables. Bad clients
//! (wrong password, garbage packets, unknown SQL, a GTID binraft never had) get precise errors
//! while the replicas carry on.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn mariadb_replicas_converge_through_binraft_and_bad_clients_do_not_disturb_them() {
    let work = work_dir("e2e");
    let primary = common::primary(&work);
    run_workload(&primary, &work);
    let logs: Vec<String> = primary.sql("SHOW BINARY LOGS").lines().map(|l| l.split('\t').next().unwrap().to_string()).collect();
    let files = logs[..logs.len() - 1].to_vec();
    assert!(files.len() >= 4, "{files:?}");
    let store = work.join("store");
    let mut import = vec!["import".to_string(), "--data-dir".into(), store.display().to_string()];
    import.extend(files.iter().map(|f| primary.data_dir().join(f).display().to_string()));
    let out = binraft(&import.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
    let node = Binraft::start(&store, &work.join("binraft.log"), &[]);
    let port = node.port;

    let by_gtid = replica("replica-gtid", 2);
    change_master(&by_gtid, port, "MASTER_USE_GTID=slave_pos");
    let by_pos = replica("replica-pos", 3);
    change_master(&by_pos, port, &format!("MASTER_LOG_FILE='{}', MASTER_LOG_POS=4, MASTER_USE_GTID=no", files[0]));

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
    client.stdin.take().unwrap().write_all(format!("SELECT nonsense FROM nowhere;\nSHOW BINLOG EVENTS LIMIT 2;\nSELECT binlog_gtid_pos('{}', 4);\nSHOW BINARY LOGS;\nSELECT @@server_id;\n", files[1]).as_bytes()).unwrap();
    let mixed = client.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&mixed.stderr);
    let stdout = String::from_utf8_lossy(&mixed.stdout);
    assert!(stderr.contains("ERROR 1064 (42000)"), "{stderr}");
    assert!(stdout.contains(&files[0]) && stdout.lines().last() == Some("100"), "{stdout}");
    assert!(stdout.contains(&format!("{}\t4\tFormat_desc\t1\t", files[0])), "SHOW BINLOG EVENTS: {stdout}");
    // binlog_gtid_pos at the start of the second file: where the first one ended, per domain.
    let second_start: Vec<String> = primary.sql(&format!("SHOW BINLOG EVENTS IN '{}' LIMIT 1,1", files[1])).split('\t').nth(5).unwrap_or("").trim_matches(|c| c == '[' || c == ']').split(',').map(String::from).collect();
    let pos_line = stdout.lines().find(|l| l.starts_with("0-") || l.contains(",0-") || l.starts_with("1-")).unwrap_or("");
    let mut got: Vec<&str> = pos_line.split(',').collect();
    got.sort();
    let mut want: Vec<&str> = second_start.iter().map(String::as_str).collect();
    want.sort();
    assert_eq!(got, want, "binlog_gtid_pos: {stdout}");

    // Both replicas reach the primary's position, with identical tables.
    for r in [&by_gtid, &by_pos] {
        assert_converged(&primary, r);
        assert_eq!(field(&r.slave_status(), "Slave_IO_Running"), "Yes");
    }

    // A replica that has GTIDs binraft never had gets 1236, and says so.
    let ahead = replica("replica-ahead", 4);
    ahead.sql("SET GLOBAL gtid_slave_pos='0-1-99999'");
    change_master(&ahead, port, "MASTER_USE_GTID=slave_pos");
    wait_for(&ahead, "error 1236", |db| field(&db.slave_status(), "Last_IO_Errno") == "1236");
    let st = ahead.slave_status();
    assert!(field(&st, "Last_IO_Error").contains("0-1-99999, which is not in the master's binlog"), "{st:?}");

    // KILL ends a replica's dump connection (it reconnects, as replicas do); an unknown id is 1094.
    let killed = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", "-urepl", "-ps3cret", "-e", "KILL 999999"])
        .arg(format!("-P{port}"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&killed.stderr).contains("ERROR 1094 (HY000)"), "{}", String::from_utf8_lossy(&killed.stderr));
    let log = std::fs::read_to_string(work.join("binraft.log")).unwrap();
    let dump_conn: String = log
        .lines()
        .rev()
        .filter(|l| l.contains("binlog dump starts") && l.contains("replica_server_id=2"))
        .find_map(|l| l.split("conn=").nth(1)?.split(|c: char| !c.is_ascii_digit()).next().map(String::from))
        .expect("the GTID replica's dump in the log");
    let out = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", "-urepl", "-ps3cret", "-e"])
        .arg(format!("KILL {dump_conn}"))
        .arg(format!("-P{port}"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    wait_for(&by_gtid, "a reconnect after KILL", |_| {
        std::fs::read_to_string(work.join("binraft.log")).unwrap().matches("replica_server_id=2").count() >= 2
    });

    // The first replicas are still connected and idle, not broken.
    for r in [&by_gtid, &by_pos] {
        assert_eq!(field(&r.slave_status(), "Slave_IO_Running"), "Yes");
    }
    drop(node);
    let _ = std::fs::remove_dir_all(&work);
}
