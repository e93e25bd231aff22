//! binraft pulling from a live MariaDB primary while serving replicas: killed with SIGKILL in
//! the middle of the stream and restarted, the primary restarted too; replicas must end with
//! every transaction exactly once (same GTID position, identical tables), and binraft's closed
//! files must be byte-identical to the primary's.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn live_pull_by_file_position_survives_kill9_and_primary_restart() {
    live(&work_dir("live-pos"), &[]);
}

#[test]
fn live_pull_by_gtid_survives_kill9_and_primary_restart() {
    live(&work_dir("live-gtid"), &["--primary-use-gtid".to_string()]);
}

fn live(work: &std::path::Path, extra: &[String]) {
    let work = work.to_path_buf();
    let mut p = primary(&work);
    let mut args = vec!["--primary".into(), format!("127.0.0.1:{}", p.port), "--primary-user".into(), "repl".into(), "--primary-password".into(), "s3cret".into(), "--primary-heartbeat-ms".into(), "500".into()];
    args.extend_from_slice(extra);
    let mut node = Binraft::start(&work.join("store"), &work.join("binraft.log"), &args);
    let tag = if extra.is_empty() { "pos" } else { "gtid" };
    let by_gtid = replica(&format!("live-{tag}-r1"), 2);
    change_master(&by_gtid, node.port, "MASTER_USE_GTID=slave_pos");
    let by_pos = replica(&format!("live-{tag}-r2"), 3);
    change_master(&by_pos, node.port, "MASTER_LOG_FILE='primary-bin.000001', MASTER_LOG_POS=4, MASTER_USE_GTID=no");

    run_workload(&p, &work);
    // A steady stream of small transactions, with binraft killed in the middle of it.
    p.sql("CREATE TABLE rigtest.stream (id INT PRIMARY KEY, v VARCHAR(20))");
    let sock = p.dir.join("sock");
    let writer = std::thread::spawn(move || {
        for batch in 0..40 {
            let sql: String = (0..50).map(|i| format!("INSERT INTO rigtest.stream VALUES ({}, 'row {}');", batch * 50 + i, i)).collect();
            let out = std::process::Command::new("mariadb")
                .args(["--no-defaults", "-uroot"])
                .arg(format!("--socket={}", sock.display()))
                .arg("-e")
                .arg(sql)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    node.kill9_and_restart();
    writer.join().unwrap();

    // The primary goes away and comes back: binraft reconnects by itself.
    p.restart();
    p.sql("INSERT INTO rigtest.stream VALUES (100000, 'after restart')");

    assert_converged(&p, &by_gtid);
    assert_converged(&p, &by_pos);
    assert_eq!(by_gtid.sql("SELECT COUNT(*) FROM rigtest.stream"), "2001");

    // Closed files are the primary's, byte for byte.
    let logs: Vec<String> = p.sql("SHOW BINARY LOGS").lines().map(|l| l.split('\t').next().unwrap().to_string()).collect();
    for name in &logs[..logs.len() - 1] {
        let ours = std::fs::read(work.join("store").join(name)).unwrap_or_else(|e| panic!("{name}: {e}\n{}", node.log()));
        let theirs = std::fs::read(p.data_dir().join(name)).unwrap();
        // A GTID dump does not carry the STOP the primary wrote at its shutdown (MariaDB 10.11,
        // observed): binraft fetches it by file and position (UpstreamError::TailMissing).
        assert!(ours == theirs, "{name} differs from the primary's ({} vs {} bytes)", ours.len(), theirs.len());
    }
    assert!(node.log().contains("reconnecting"), "binraft never had to reconnect:\n{}", node.log());
}

/// Moved to a primary whose history differs, binraft refuses it with the reason, and stores
/// nothing of it.
#[test]
fn a_primary_with_another_history_is_refused() {
    let work = work_dir("diverge");
    let a = primary(&work);
    a.sql("CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY); INSERT INTO d.t VALUES (1)");
    let node = Binraft::start(
        &work.join("store"),
        &work.join("binraft.log"),
        &["--primary".into(), format!("127.0.0.1:{}", a.port), "--primary-user".into(), "repl".into(), "--primary-password".into(), "s3cret".into(), "--primary-use-gtid".into(), "--admin".into(), "admin:chief".into()],
    );
    let expected = a.sql("SELECT @@gtid_binlog_pos");
    let ask = |sql: &str| {
        std::process::Command::new("mariadb")
            .args(["--no-defaults", "-h127.0.0.1", "-uadmin", "-pchief", "-N", "-B", "-e", sql])
            .arg(format!("-P{}", node.port))
            .output()
            .unwrap()
    };
    let t = std::time::Instant::now();
    while String::from_utf8_lossy(&ask("SELECT @@gtid_binlog_pos").stdout).trim() != expected {
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "{}", node.log());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let size = |dir: &std::path::Path| std::fs::metadata(dir.join("primary-bin.000001")).map(|m| m.len()).unwrap_or(0);
    let before = size(&work.join("store"));
    // Another primary: same server id and file names, other transactions, more of them.
    let b_dir = work.join("b");
    std::fs::create_dir_all(&b_dir).unwrap();
    let b = primary(&b_dir);
    b.sql("CREATE DATABASE other; CREATE TABLE other.x (v VARCHAR(10)); INSERT INTO other.x VALUES ('a'), ('b'); INSERT INTO other.x VALUES ('c'); INSERT INTO other.x VALUES ('d')");
    assert!(ask(&format!("STOP SLAVE; CHANGE MASTER TO MASTER_PORT={}; START SLAVE", b.port)).status.success());
    let t = std::time::Instant::now();
    loop {
        let st = String::from_utf8_lossy(&ask("SHOW SLAVE STATUS").stdout).to_string();
        if st.contains("does not match") || st.contains("does not follow") || st.contains("1236") {
            break;
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "no refusal: {st}\n{}", node.log());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(size(&work.join("store")), before, "something of the other history was stored");
}

/// Pulling by GTID from an empty store, binraft's first session is by file and position, in
/// which MariaDB sends the first file's FORMAT_DESCRIPTION with its creation time; a GTID
/// session sends the same event with none (and so another checksum). Killed in the first file,
/// then again in the same file, then after a rotation, binraft resumes every time, and its
/// closed files are the primary's.
#[test]
fn a_gtid_pull_resumes_after_kill9_in_the_first_file_and_after_rotations() {
    let work = work_dir("live-gtid-first-file");
    let p = primary(&work);
    let args = ["--primary".into(), format!("127.0.0.1:{}", p.port), "--primary-user".into(), "repl".into(), "--primary-password".into(), "s3cret".into(), "--primary-use-gtid".into(), "--primary-connect-retry-s".into(), "1".into()];
    let mut node = Binraft::start(&work.join("store"), &work.join("binraft.log"), &args);
    let stored = |node: &Binraft| sql_as(node.port, "repl", "s3cret", "SELECT @@gtid_binlog_pos").unwrap_or_default().trim().to_string();
    let caught_up = |node: &Binraft, step: &str| {
        let want = p.sql("SELECT @@gtid_binlog_pos");
        let t = std::time::Instant::now();
        while stored(node) != want {
            assert!(t.elapsed() < Duration::from_secs(30), "{step}: binraft did not resume to {want} (it has {})\n{}", stored(node), node.log());
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    p.sql("CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY); INSERT INTO d.t VALUES (1)");
    caught_up(&node, "the first session");
    for (step, sql) in [
        ("file and position, then GTID, in the first file", "INSERT INTO d.t VALUES (2)"),
        ("GTID then GTID, in the first file", "INSERT INTO d.t VALUES (3)"),
        ("GTID then GTID, after a rotation", "FLUSH BINARY LOGS; INSERT INTO d.t VALUES (4)"),
        ("GTID then GTID, in a new file", "FLUSH BINARY LOGS; FLUSH BINARY LOGS; INSERT INTO d.t VALUES (5)"),
    ] {
        node.kill9_and_restart();
        p.sql(sql);
        caught_up(&node, step);
    }
    assert!(!node.log().contains("differs"), "{}", node.log());
    let logs: Vec<String> = p.sql("SHOW BINARY LOGS").lines().map(|l| l.split('\t').next().unwrap().to_string()).collect();
    for name in &logs[..logs.len() - 1] {
        let ours = std::fs::read(work.join("store").join(name)).unwrap();
        let theirs = std::fs::read(p.data_dir().join(name)).unwrap();
        let first = ours.iter().zip(&theirs).position(|(a, b)| a != b);
        assert!(ours == theirs, "{name} differs from the primary's: {} and {} bytes, first at {first:?}", ours.len(), theirs.len());
    }
}
