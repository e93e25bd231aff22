//! A DBA drives binraft with the SQL they drive a replica with: CHANGE MASTER TO, START and
//! STOP SLAVE, SHOW SLAVE STATUS, PURGE BINARY LOGS. Settings survive a restart; replication
//! users may not run these; PURGE spares files a connected replica still reads.

mod common;

use common::*;
use std::process::Command;

fn as_user(port: u16, user: &str, password: &str, sql: &str) -> Result<String, String> {
    sql_as(port, user, password, sql)
}

fn status(port: u16) -> Vec<(String, String)> {
    let out = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", "-uadmin", "-pchief", "-E", "-e", "SHOW SLAVE STATUS"])
        .arg(format!("-P{port}"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().filter_map(|l| l.split_once(": ").map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect()
}

#[test]
fn replication_is_driven_with_sql_and_survives_restart() {
    let work = work_dir("admin");
    let p = primary(&work);
    p.sql("CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY); INSERT INTO d.t VALUES (1), (2)");
    let extra = ["--admin".to_string(), "admin:chief".into()];
    let mut node = Binraft::start(&work.join("store"), &work.join("binraft.log"), &extra);
    let port = node.port;
    assert_eq!(as_user(port, "admin", "chief", "SHOW SLAVE STATUS").unwrap(), "", "no row before configuration");
    assert!(as_user(port, "admin", "chief", "START SLAVE").unwrap_err().contains("ERROR 1200"));
    as_user(port, "admin", "chief", &format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', MASTER_PASSWORD='s3cret', MASTER_HEARTBEAT_PERIOD=0.5",
        p.port
    ))
    .unwrap();
    // A wrong password: the primary's 1045, in binraft's own slave status.
    as_user(port, "admin", "chief", "CHANGE MASTER TO MASTER_PASSWORD='wrong'; START SLAVE").unwrap();
    let t = std::time::Instant::now();
    while field(&status(port), "Last_IO_Errno") != "1045" {
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "{:?}", status(port));
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(field(&status(port), "Last_IO_Error").contains("Access denied for user 'repl'"));
    // MASTER_CONNECT_RETRY bounds the reconnect backoff, and shows as Connect_Retry.
    as_user(port, "admin", "chief", "STOP SLAVE; CHANGE MASTER TO MASTER_PASSWORD='s3cret', MASTER_CONNECT_RETRY=7").unwrap();
    as_user(port, "admin", "chief", "START SLAVE").unwrap();
    let r = replica("admin-replica", 2);
    change_master(&r, port, "MASTER_USE_GTID=slave_pos");
    assert_converged(&p, &r);
    let st = status(port);
    assert_eq!(field(&st, "Slave_IO_Running"), "Yes", "{st:?}");
    assert_eq!(field(&st, "Master_Host"), "127.0.0.1");
    assert_eq!(field(&st, "Connect_Retry"), "7", "{st:?}");
    assert_eq!(field(&st, "Master_Server_Id"), "1");
    assert_eq!(field(&st, "Gtid_IO_Pos"), p.sql("SELECT @@gtid_binlog_pos"));
    assert!(!st.iter().any(|(_, v)| v.contains("s3cret")), "the password is shown");

    // Replication users cannot; a running replica refuses CHANGE MASTER.
    assert!(as_user(port, "repl", "s3cret", "STOP SLAVE").unwrap_err().contains("ERROR 1227"));
    assert!(as_user(port, "admin", "chief", "CHANGE MASTER TO MASTER_PORT=1").unwrap_err().contains("ERROR 1198"));

    // Restarted, binraft goes on replicating with the saved settings.
    node.kill9_and_restart();
    p.sql("FLUSH BINARY LOGS; INSERT INTO d.t VALUES (3)");
    assert_converged(&p, &r);
    assert_eq!(field(&status(port), "Connect_Retry"), "7", "MASTER_CONNECT_RETRY is saved");

    // PURGE spares what the replica reads, and removes what nobody needs.
    let logs = as_user(port, "admin", "chief", "SHOW BINARY LOGS").unwrap();
    let names: Vec<&str> = logs.lines().map(|l| l.split('\t').next().unwrap()).collect();
    assert!(names.len() >= 2, "{logs}");
    r.sql("STOP SLAVE");
    as_user(port, "admin", "chief", &format!("PURGE BINARY LOGS TO '{}'", names[names.len() - 1])).unwrap();
    let after = as_user(port, "admin", "chief", "SHOW BINARY LOGS").unwrap();
    assert_eq!(after.lines().count(), 1, "{after}");
    assert!(!work.join("store").join(names[0]).exists());
    let st = status(port);
    assert_eq!(field(&st, "Slave_IO_Running"), "Yes", "{st:?}");
    as_user(port, "admin", "chief", "STOP SLAVE").unwrap();
    assert_eq!(field(&status(port), "Slave_IO_Running"), "No");
    // Mistyped, with the password: refused with a 1064 that does not quote it, nor logs it.
    for bad in [
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1' MASTER_PASSWORD='s3cret'",
        "CHANGE MASTER 'name' TO MASTER_PASSWORD='s3cret'",
        "CHANGE MASTER TO MASTER_PASSWORD=s3cret",
        "CHANGE MASTER TO MASTER_PASSWORD='s3cret', MASTER_PORT='3306'",
    ] {
        // The client echoes the statement; the server's error is the ERROR line.
        let err = as_user(port, "admin", "chief", bad).unwrap_err();
        let line = err.lines().find(|l| l.starts_with("ERROR")).unwrap_or("");
        assert!(line.starts_with("ERROR 1064") && !line.contains("s3cret"), "{bad}: {err}");
    }
    assert_eq!(field(&status(port), "Master_Host"), "127.0.0.1");
    assert!(!std::fs::read_to_string(work.join("binraft.log")).unwrap().contains("s3cret"), "the password is logged");
}

/// PURGE refuses a file a connected replica is still reading: a reader dumps the 35 MB capture
/// file and stops reading, so binraft is held in the middle of it.
#[test]
fn purge_spares_a_file_being_read() {
    use binraft_core::mysql::client::{ClientConfig, ClientConn, ClientOutput};
    use binraft_core::mysql::command::{BinlogDump, Command as Cmd};
    use std::io::{Read, Write};
    let work = work_dir("purge");
    store_of_captures(&work);
    let node = Binraft::start(&work.join("store"), &work.join("binraft.log"), &["--admin".into(), "admin:chief".into()]);
    // A reader that asks for primary-bin.000002 and then reads nothing.
    let mut sock = std::net::TcpStream::connect(("127.0.0.1", node.port)).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let mut c = ClientConn::new(ClientConfig { user: "repl".into(), password: "s3cret".into(), max_packet: 1 << 30, tls: false });
    let mut buf = vec![0u8; 65536];
    // Sends what the client has to send, reads until `done` says the answer came.
    let mut until = |c: &mut ClientConn, done: fn(&ClientOutput) -> bool| loop {
        while let Some(o) = c.poll_output() {
            match o {
                ClientOutput::Send(b) => sock.write_all(&b).unwrap(),
                o if done(&o) => return,
                other => panic!("{other:?}"),
            }
        }
        let n = sock.read(&mut buf).unwrap();
        c.handle_bytes(&buf[..n]);
    };
    until(&mut c, |o| matches!(o, ClientOutput::Ready(_)));
    // As every replica does: it takes events with checksums (else binraft, as MariaDB, refuses
    // files that have them).
    c.query("SET @master_binlog_checksum='CRC32'");
    until(&mut c, |o| matches!(o, ClientOutput::Done(_)));
    c.send_command(&Cmd::BinlogDump(BinlogDump { position: 4, flags: 0, server_id: 99, file: "primary-bin.000002".into() }));
    while let Some(ClientOutput::Send(b)) = c.poll_output() {
        sock.write_all(&b).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let err = as_user(node.port, "admin", "chief", "PURGE BINARY LOGS TO 'primary-bin.000003'").unwrap_err();
    assert!(err.contains("ERROR 1378") && err.contains("primary-bin.000002"), "{err}");
    assert!(work.join("store/primary-bin.000002").exists());
    // Once the reader is gone, the same PURGE goes through.
    drop(sock);
    let t = std::time::Instant::now();
    while as_user(node.port, "admin", "chief", "PURGE BINARY LOGS TO 'primary-bin.000003'").is_err() {
        assert!(t.elapsed() < std::time::Duration::from_secs(10), "PURGE still refused after the reader left");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(!work.join("store/primary-bin.000002").exists());
}

/// SHOW BINLOG EVENTS builds its result in memory: at most SHOW_EVENTS_ROWS_MAX rows, LIMIT or
/// not, and LIMIT offset, count reads the rest page by page.
#[test]
fn show_binlog_events_is_capped() {
    use binraft_core::primary::show_events::SHOW_EVENTS_ROWS_MAX;
    let work = work_dir("show-events");
    let p = primary(&work);
    // One transaction per row, four events or more each: more events than the cap.
    let script = work.join("many.sql");
    std::fs::write(
        &script,
        format!(
            "SET GLOBAL innodb_flush_log_at_trx_commit = 0;\nCREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY);\nDELIMITER //\nBEGIN NOT ATOMIC FOR i IN 1..{} DO INSERT INTO d.t VALUES (i); END FOR; END//\nDELIMITER ;\nFLUSH BINARY LOGS;\n",
            SHOW_EVENTS_ROWS_MAX / 3
        ),
    )
    .unwrap();
    p.source(&script);
    let file = p.sql("SHOW BINARY LOGS").lines().next().unwrap().split('\t').next().unwrap().to_string();
    let total = p.sql(&format!("SHOW BINLOG EVENTS IN '{file}'")).lines().count() as u64;
    assert!(total > SHOW_EVENTS_ROWS_MAX, "{total} events");
    let store = work.join("store");
    let out = binraft(&["import", "--data-dir", store.to_str().unwrap(), p.data_dir().join(&file).to_str().unwrap()]);
    assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
    let node = Binraft::start(&store, &work.join("binraft.log"), &[]);
    let rows = |sql: &str| as_user(node.port, "repl", "s3cret", sql).unwrap().lines().map(String::from).collect::<Vec<_>>();
    assert_eq!(rows(&format!("SHOW BINLOG EVENTS IN '{file}'")).len() as u64, SHOW_EVENTS_ROWS_MAX);
    assert_eq!(rows(&format!("SHOW BINLOG EVENTS IN '{file}' LIMIT {}", SHOW_EVENTS_ROWS_MAX + 1)).len() as u64, SHOW_EVENTS_ROWS_MAX);
    let page = rows(&format!("SHOW BINLOG EVENTS IN '{file}' LIMIT {SHOW_EVENTS_ROWS_MAX}, {SHOW_EVENTS_ROWS_MAX}"));
    assert_eq!(page.len() as u64, total - SHOW_EVENTS_ROWS_MAX);
    // The same events as the primary lists there (file, position, type, server id, end).
    let head = |l: &str| l.split('\t').take(5).collect::<Vec<_>>().join("\t");
    let theirs = p.sql(&format!("SHOW BINLOG EVENTS IN '{file}' LIMIT {SHOW_EVENTS_ROWS_MAX}, 3"));
    assert_eq!(page[..3].iter().map(|l| head(l)).collect::<Vec<_>>(), theirs.lines().map(head).collect::<Vec<_>>());
    assert_eq!(rows(&format!("SHOW BINLOG EVENTS IN '{file}' LIMIT 2")).len(), 2);
}
