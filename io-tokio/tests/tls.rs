//! TLS on binraft's MySQL port: with --require-tls a client without TLS is refused, the
//! mariadb client gets an encrypted session, and a MariaDB replica with MASTER_SSL=1 replicates.

mod common;

use common::*;
use std::process::Command;

/// `cert.pem` and `key.pem` for 127.0.0.1 in `dir`.
fn self_signed(dir: &std::path::Path) {
    let ok = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1", "-keyout"])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("openssl (apt-get install openssl; .ci/run does)");
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

#[test]
fn tls_clients_and_replicas() {
    let work = work_dir("tls");
    self_signed(&work);
    store_of_captures(&work);
    let node = Binraft::start(
        &work.join("store"),
        &work.join("binraft.log"),
        &[
            "--tls-cert".into(),
            work.join("cert.pem").display().to_string(),
            "--tls-key".into(),
            work.join("key.pem").display().to_string(),
            "--require-tls".into(),
        ],
    );
    let client = |ssl: &str| {
        Command::new("mariadb")
            .args(["--no-defaults", "-h127.0.0.1", "-urepl", "-ps3cret", ssl, "-e", "status"])
            .arg(format!("-P{}", node.port))
            .output()
            .unwrap()
    };
    let plain = client("--skip-ssl");
    assert!(!plain.status.success());
    assert!(String::from_utf8_lossy(&plain.stderr).contains("insecure transport"), "{}", String::from_utf8_lossy(&plain.stderr));
    let tls = client("--ssl");
    assert!(tls.status.success(), "{}", String::from_utf8_lossy(&tls.stderr));
    assert!(String::from_utf8_lossy(&tls.stdout).contains("Cipher in use is TLS"), "{}", String::from_utf8_lossy(&tls.stdout));

    let r = replica("tls-replica", 2);
    change_master(&r, node.port, "MASTER_USE_GTID=slave_pos, MASTER_SSL=1, MASTER_SSL_VERIFY_SERVER_CERT=0");
    wait_for(&r, "the imported GTIDs", |db| db.sql("SELECT @@gtid_slave_pos").contains("0-1-43"));
    assert_eq!(r.sql("SELECT COUNT(*) FROM rigtest.stmt"), "10");
    assert_eq!(field(&r.slave_status(), "Master_SSL_Allowed"), "Yes");
}

/// binraft pulling over TLS from a MariaDB primary whose replication user requires it.
#[test]
fn pulling_over_tls_from_a_primary_that_requires_it() {
    let work = work_dir("tls-pull");
    self_signed(&work);
    let p = binraft_fixtures::mariadb::MariaDb::start(
        "tls-primary",
        &[
            "--log-bin=primary-bin".into(),
            "--server-id=1".into(),
            "--binlog-format=ROW".into(),
            format!("--ssl-cert={}", work.join("cert.pem").display()),
            format!("--ssl-key={}", work.join("key.pem").display()),
        ],
    );
    p.sql("CREATE USER repl@'%' IDENTIFIED BY 's3cret' REQUIRE SSL; GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO repl@'%'");
    p.sql("CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY); INSERT INTO d.t VALUES (1), (2)");
    let node = Binraft::start(
        &work.join("store"),
        &work.join("binraft.log"),
        &["--primary".into(), format!("127.0.0.1:{}", p.port), "--primary-user".into(), "repl".into(), "--primary-password".into(), "s3cret".into(), "--primary-ssl".into()],
    );
    let theirs = p.data_dir().join("primary-bin.000001");
    let t = std::time::Instant::now();
    loop {
        // The active file differs only in its in-use flag (byte 21).
        let ours = std::fs::read(work.join("store").join("primary-bin.000001")).unwrap_or_default();
        let mut primary = std::fs::read(&theirs).unwrap();
        primary[21] &= !1;
        if ours == primary {
            break;
        }
        assert!(t.elapsed() < std::time::Duration::from_secs(20), "not replicated over TLS:\n{}", node.log());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
