//! binraft pulling from a live MariaDB primary while serving replicas: killed with SIGKILL in
//! the middle of the stream and restarted, the primary restarted too; replicas must end with
//! every transaction exactly once (same GTID position, identical tables), and binraft's closed
//! files must be byte-identical to the primary's.

mod common;

use common::*;
use std::time::Duration;

#[test]
fn live_pull_survives_kill9_and_primary_restart() {
    let work = work_dir("live");
    let mut p = primary(&work);
    let mut node = Binraft::start(
        &work.join("store"),
        &work.join("binraft.log"),
        &["--primary".into(), format!("127.0.0.1:{}", p.port), "--primary-user".into(), "repl".into(), "--primary-password".into(), "s3cret".into(), "--primary-heartbeat-ms".into(), "500".into()],
    );
    let by_gtid = replica("live-gtid", 2);
    change_master(&by_gtid, node.port, "MASTER_USE_GTID=slave_pos");
    let by_pos = replica("live-pos", 3);
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
        assert!(ours == theirs, "{name} differs from the primary's ({} vs {} bytes)", ours.len(), theirs.len());
    }
    assert!(node.log().contains("reconnecting"), "binraft never had to reconnect:\n{}", node.log());
}
