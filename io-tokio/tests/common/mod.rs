//! Helpers shared by the end-to-end tests: binraft as a child process, a primary with the
//! capture workload, replicas, and waiting on replication.

#![allow(dead_code)]

use binraft_fixtures::mariadb::{free_port, MariaDb};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Binraft {
    child: Child,
    pub port: u16,
    store: PathBuf,
    log: PathBuf,
    extra: Vec<String>,
    server_id: u32,
}

impl Binraft {
    pub fn start(store: &Path, log: &Path, extra: &[String]) -> Binraft {
        Self::start_as(100, store, log, extra)
    }

    /// A node with its own server id (the members of a cluster each have one).
    pub fn start_as(server_id: u32, store: &Path, log: &Path, extra: &[String]) -> Binraft {
        let port = free_port();
        let child = Self::spawn(server_id, store, log, port, extra);
        let b = Binraft { child, port, store: store.to_path_buf(), log: log.to_path_buf(), extra: extra.to_vec(), server_id };
        b.wait_listening();
        b
    }

    pub fn store(&self) -> &Path {
        &self.store
    }

    /// Sends `signal` (STOP, CONT...) to the process.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill").arg(format!("-{signal}")).arg(self.child.id().to_string()).status().map(|s| s.success()).unwrap_or(false);
        assert!(ok, "kill -{signal} {}", self.child.id());
    }

    /// SIGKILL, and nothing else.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts again on the same store and port (after [`Binraft::kill9`]).
    pub fn restart(&mut self) {
        self.child = Self::spawn(self.server_id, &self.store, &self.log, self.port, &self.extra);
        self.wait_listening();
    }

    fn spawn(server_id: u32, store: &Path, log: &Path, port: u16, extra: &[String]) -> Child {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        Command::new(env!("CARGO_BIN_EXE_binraft"))
            .args(["run", "--server-id", &server_id.to_string(), "--user", "repl:s3cret"])
            .arg("--data-dir")
            .arg(store)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start binraft")
    }

    fn wait_listening(&self) {
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(10), "binraft did not listen: {}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGKILL, then start again on the same store and port.
    pub fn kill9_and_restart(&mut self) {
        self.kill9();
        self.restart();
    }
}

impl Drop for Binraft {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn binraft(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_binraft")).args(args).output().expect("run binraft")
}

pub fn work_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("binraft-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A primary with binlogs, GTIDs and a replication user `repl`/`s3cret`.
pub fn primary(load_dir: &Path) -> MariaDb {
    let p = MariaDb::start(
        "primary",
        &[
            "--log-bin=primary-bin".into(),
            "--server-id=1".into(),
            "--binlog-format=ROW".into(),
            "--binlog-row-metadata=FULL".into(),
            "--gtid-strict-mode=1".into(),
            "--max-allowed-packet=1G".into(),
            format!("--secure-file-priv={}", load_dir.display()),
        ],
    );
    p.sql("CREATE USER repl@'%' IDENTIFIED BY 's3cret'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO repl@'%'");
    p
}

/// Runs the capture workload (every column type, DDL, XA, two domains, a 17.6 MB row...).
pub fn run_workload(p: &MariaDb, load_dir: &Path) {
    let csv = load_dir.join("load.csv");
    std::fs::write(&csv, "1001,loaded one\n1002,loaded two\n1003,\"loaded, quoted\"\n").unwrap();
    let workload = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/capture/workload.sql")).unwrap();
    let sql = load_dir.join("workload.sql");
    std::fs::write(&sql, workload.replace("@@LOADFILE@@", &csv.display().to_string())).unwrap();
    p.source(&sql);
}

pub fn replica(name: &str, server_id: u32) -> MariaDb {
    MariaDb::start(name, &[format!("--server-id={server_id}"), "--gtid-strict-mode=1".into(), "--max-allowed-packet=1G".into()])
}

pub fn wait_for(db: &MariaDb, what: &str, mut ok: impl FnMut(&MariaDb) -> bool) {
    let t = Instant::now();
    while !ok(db) {
        assert!(t.elapsed() < Duration::from_secs(120), "{}: {what} not reached; slave status: {:?}", db.name, db.slave_status());
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn field<'a>(st: &'a [(String, String)], k: &str) -> &'a str {
    st.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str()).unwrap_or("")
}

fn sorted(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect();
    v.sort();
    v
}

/// Waits until `r` has applied everything the primary has, then compares every table.
pub fn assert_converged(primary: &MariaDb, r: &MariaDb) {
    let expected = primary.sql("SELECT @@gtid_binlog_pos");
    wait_for(r, &format!("gtid_slave_pos {expected}"), |db| sorted(&db.sql("SELECT @@gtid_slave_pos")) == sorted(&expected));
    let st = r.slave_status();
    assert_eq!(field(&st, "Slave_SQL_Running"), "Yes", "{st:?}");
    assert_eq!(field(&st, "Last_SQL_Error"), "", "{st:?}");
    let tables: Vec<String> = primary
        .sql("SELECT CONCAT(table_schema, '.', table_name) FROM information_schema.tables WHERE table_schema NOT IN ('mysql','information_schema','performance_schema','sys') ORDER BY 1")
        .lines()
        .map(String::from)
        .collect();
    assert!(!tables.is_empty());
    for t in &tables {
        let q = format!("CHECKSUM TABLE {t}");
        assert_eq!(r.sql(&q), primary.sql(&q), "{t} differs on {}", r.name);
    }
}

pub fn change_master(r: &MariaDb, port: u16, how: &str) {
    r.sql(&format!(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={port}, MASTER_USER='repl', MASTER_PASSWORD='s3cret', MASTER_CONNECT_RETRY=1, {how}; START SLAVE"
    ));
}

/// A store in `work/store` seeded with `binraft import` from the project's MariaDB captures.
pub fn store_of_captures(work: &Path) -> PathBuf {
    let store = work.join("store");
    let mut import = vec!["import".to_string(), "--data-dir".into(), store.display().to_string()];
    for f in binraft_fixtures::captured_files() {
        let plain = work.join(f.file_name().unwrap().to_string_lossy().trim_end_matches(".gz"));
        std::fs::write(&plain, binraft_fixtures::read_binlog(&f)).unwrap();
        import.push(plain.display().to_string());
    }
    let out = binraft(&import.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "import: {}", String::from_utf8_lossy(&out.stderr));
    store
}

/// Runs `sql` on binraft's MySQL port as `user`: its rows (tab-separated), or the error.
pub fn sql_as(port: u16, user: &str, password: &str, sql: &str) -> Result<String, String> {
    let out = Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", "-N", "-B"])
        .arg(format!("-P{port}"))
        .arg(format!("-u{user}"))
        .arg(format!("-p{password}"))
        .arg("-e")
        .arg(sql)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}
