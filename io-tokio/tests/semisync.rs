//! binraft as a semi-sync replica: with rpl_semi_sync_master_enabled on the primary, every
//! commit waits for binraft's ACK, which binraft sends only after the transaction is fsynced.
//! (The primary's shutdown waits out its ACK timeout once binraft is gone, hence a short one.)

mod common;

use common::*;
use std::time::{Duration, Instant};

#[test]
fn every_commit_is_acknowledged_after_binraft_stored_it() {
    let work = work_dir("semisync");
    let p = binraft_fixtures::mariadb::MariaDb::start(
        "semisync-primary",
        &[
            "--log-bin=primary-bin".into(),
            "--server-id=1".into(),
            "--binlog-format=ROW".into(),
            "--gtid-strict-mode=1".into(),
            "--rpl-semi-sync-master-enabled=ON".into(),
            "--rpl-semi-sync-master-timeout=5000".into(),
        ],
    );
    p.sql("CREATE USER repl@'%' IDENTIFIED BY 's3cret'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO repl@'%'");
    let node = Binraft::start(
        &work.join("store"),
        &work.join("binraft.log"),
        &["--primary".into(), format!("127.0.0.1:{}", p.port), "--primary-user".into(), "repl".into(), "--primary-password".into(), "s3cret".into()],
    );
    let t = Instant::now();
    while p.sql("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'").split('\t').nth(1) != Some("1") {
        assert!(t.elapsed() < Duration::from_secs(20), "binraft never became a semi-sync client: {}", node.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    p.sql("FLUSH STATUS; CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY)");
    let inserts: String = (0..50).map(|i| format!("INSERT INTO d.t VALUES ({i});")).collect();
    let t = Instant::now();
    p.sql(&inserts);
    // A missing ACK stalls a commit for the 5 s timeout, then counts as no_tx with status OFF.
    assert!(t.elapsed() < Duration::from_secs(5), "commits waited {:?}", t.elapsed());
    let stat = |name: &str| p.sql(&format!("SHOW GLOBAL STATUS LIKE '{name}'")).split('\t').nth(1).unwrap_or("").to_string();
    assert_eq!(stat("Rpl_semi_sync_master_no_tx"), "0");
    assert!(stat("Rpl_semi_sync_master_yes_tx").parse::<u32>().unwrap() >= 52);
    assert_eq!(stat("Rpl_semi_sync_master_status"), "ON");
    // One session throughout: a semi-sync primary restarts its sequence ids after each event
    // that asks for an ACK, and a reader that checked them ended two sessions in three with
    // "packets out of order" and a reconnect.
    let log = node.log();
    assert_eq!(log.matches("logged in to the primary").count(), 1, "binraft reconnected:\n{log}");
    assert!(!log.contains("out of order"), "{log}");
}

/// A MariaDB replica that enables semi-sync replicates from binraft with semi-sync on: every
/// event carries the semi-sync header and each transaction's last one asks for an ACK. The
/// heartbeats of the idle stream too: a replica stops on one without it ("Missing magic number
/// for semi-sync packet").
#[test]
fn semi_sync_replicas_of_binraft() {
    let work = work_dir("semisync-serve");
    store_of_captures(&work);
    let node = Binraft::start(&work.join("store"), &work.join("binraft.log"), &[]);
    let r = binraft_fixtures::mariadb::MariaDb::start(
        "semisync-replica",
        &["--server-id=2".into(), "--gtid-strict-mode=1".into(), "--max-allowed-packet=1G".into(), "--rpl-semi-sync-slave-enabled=ON".into()],
    );
    change_master(&r, node.port, "MASTER_USE_GTID=slave_pos, MASTER_HEARTBEAT_PERIOD=0.2");
    wait_for(&r, "the imported GTIDs", |db| db.sql("SELECT @@gtid_slave_pos").contains("0-1-43"));
    assert_eq!(r.sql("SHOW STATUS LIKE 'Rpl_semi_sync_slave_status'"), "Rpl_semi_sync_slave_status\tON");
    assert_eq!(r.sql("SELECT COUNT(*) FROM rigtest.stmt"), "10");
    let heartbeats = |db: &binraft_fixtures::mariadb::MariaDb| db.sql("SHOW GLOBAL STATUS LIKE 'Slave_received_heartbeats'").split('\t').nth(1).and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
    wait_for(&r, "three heartbeats", |db| heartbeats(db) >= 3);
    let st = r.slave_status();
    assert_eq!((field(&st, "Slave_IO_Running"), field(&st, "Last_IO_Error")), ("Yes", ""), "{st:?}");
    assert_eq!(node.log().matches("binlog dump starts").count(), 1, "the replica reconnected:\n{}", node.log());
}
