//! The server's limits, each from the outside over raw TCP: a huge handshake is refused, slow
//! logins and idle sessions are closed, connections beyond the maximum get 1040, a replica that
//! stops reading is cut off (and no longer holds back PURGE), the accept loop backs off when it
//! runs out of file descriptors, and only admins KILL other users' sessions. A dump's
//! heartbeats keep their period whatever a client pipelined with its request.
//!
//! Deadlines are tested with small configured values and generous upper bounds, never speed.

mod common;

use binraft_core::mysql::client::{ClientConfig, ClientConn, ClientOutput, Rows};
use binraft_core::mysql::command::{BinlogDump, Command as Cmd};
use binraft_core::mysql::errors::ServerError;
use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Longer than any deadline configured here, by far.
const PATIENCE: Duration = Duration::from_secs(15);

/// A client session over a blocking socket.
struct Session {
    sock: TcpStream,
    conn: ClientConn,
    /// The connection id the server's greeting gave.
    id: u32,
}

impl Session {
    fn login(port: u16, user: &str, password: &str) -> Session {
        Self::try_login(port, user, password).unwrap_or_else(|e| panic!("login as {user}: {e}"))
    }

    fn try_login(port: u16, user: &str, password: &str) -> Result<Session, String> {
        let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
        sock.set_read_timeout(Some(PATIENCE)).unwrap();
        let conn = ClientConn::new(ClientConfig { user: user.into(), password: password.into(), max_packet: 1 << 30, tls: false });
        let mut s = Session { sock, conn, id: 0 };
        s.id = match s.drive() {
            ClientOutput::Ready(g) => g.connection_id,
            other => return Err(format!("{other:?}")),
        };
        Ok(s)
    }

    /// Writes what the client has to send, then reads until it has something else to say.
    fn drive(&mut self) -> ClientOutput {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            while let Some(o) = self.conn.poll_output() {
                match o {
                    ClientOutput::Send(b) => self.sock.write_all(&b).unwrap(),
                    other => return other,
                }
            }
            let n = self.sock.read(&mut buf).unwrap();
            assert!(n > 0, "the server closed the connection");
            self.conn.handle_bytes(&buf[..n]);
        }
    }

    fn query(&mut self, sql: &str) -> Result<Option<Rows>, ServerError> {
        self.conn.query(sql);
        match self.drive() {
            ClientOutput::Done(rows) => Ok(rows),
            ClientOutput::Refused(e) => Err(e),
            other => panic!("{sql}: {other:?}"),
        }
    }

    fn scalar(&mut self, sql: &str) -> String {
        self.query(sql).unwrap().and_then(|r| r.scalar()).unwrap_or_default()
    }
}

/// Reads the greeting (or whatever the server sends first) of a fresh connection.
fn connect(port: u16) -> (TcpStream, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut first = vec![0u8; 1024];
    let n = s.read(&mut first).unwrap();
    first.truncate(n);
    (s, first)
}

/// Waits until the server closes `s`, returning what it sent before; panics after `PATIENCE`.
fn closed_by_server(s: &mut TcpStream, what: &str) -> Vec<u8> {
    let t = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("{what}: not closed after {:?} ({e})", t.elapsed()),
        }
    }
}

/// The ERR packet in `bytes`, if they hold one.
fn err_of(bytes: &[u8]) -> Option<ServerError> {
    (bytes.len() > 4 && bytes[4] == 0xff).then(|| binraft_core::mysql::response::decode_err(&bytes[4..]).unwrap())
}

/// Waits until binraft's log has a line containing `needle` (it is written after the close).
fn wait_for_log(node: &Binraft, needle: &str) {
    let t = Instant::now();
    while !node.log().contains(needle) {
        assert!(t.elapsed() < PATIENCE, "no {needle:?} in the log:\n{}", node.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn node(name: &str, extra: &[&str]) -> (Binraft, std::path::PathBuf) {
    let work = work_dir(name);
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    (Binraft::start(&work.join("store"), &work.join("binraft.log"), &extra), work)
}

#[test]
fn a_handshake_larger_than_a_handshake_needs_is_refused_at_once() {
    let (node, _work) = node("limits-handshake", &[]);
    // The mariadb client, which sends connection attributes, still logs in.
    let out = std::process::Command::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", "-urepl", "-ps3cret", "-N", "-e", "SELECT 1"])
        .arg(format!("-P{}", node.port))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "{}", String::from_utf8_lossy(&out.stderr));
    // A header announcing a 16 MiB handshake response, and its first bytes.
    let (mut s, greeting) = connect(node.port);
    assert_ne!(greeting.get(4), Some(&0xff));
    let mut packet = vec![0xff, 0xff, 0xff, 1];
    packet.extend_from_slice(&[0x41; 1000]);
    s.write_all(&packet).unwrap();
    let got = closed_by_server(&mut s, "a 16 MiB handshake");
    let e = err_of(&got).expect("an ERR before the close");
    assert_eq!((e.code, e.message.as_str()), (1043, "Bad handshake"));
    wait_for_log(&node, "handshake packet of 16777215 bytes exceeds handshake_bytes_max 16384");
}

#[test]
fn a_login_that_takes_too_long_is_closed() {
    let (node, _work) = node("limits-login", &["--login-timeout-ms", "300"]);
    // Twenty clients announce a 4 KiB handshake response and trickle it, a byte every 100 ms.
    let mut slow: Vec<TcpStream> = (0..20).map(|_| connect(node.port).0).collect();
    for s in &mut slow {
        s.write_all(&[0x00, 0x10, 0x00, 1]).unwrap();
    }
    let t = Instant::now();
    let mut open = slow.len();
    while open > 0 {
        assert!(t.elapsed() < PATIENCE, "{open} slow logins still open after {:?}", t.elapsed());
        open = 0;
        for s in &mut slow {
            s.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 64];
            let closed = match s.read(&mut buf) {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) => e.kind() != ErrorKind::WouldBlock,
            };
            if !closed {
                let _ = s.write_all(b"x");
                open += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_for_log(&node, "login took longer than login_timeout_ms 300");
    // An authenticated session is not held to the login deadline.
    let mut s = Session::login(node.port, "repl", "s3cret");
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(s.scalar("SELECT @@connect_timeout"), "1");
}

#[test]
fn connections_beyond_the_maximum_get_1040() {
    let (node, _work) = node("limits-connections", &["--connections-max", "5"]);
    // Five greeted at once (the probe that saw binraft listen may take a slot a moment longer).
    let greeted = || loop {
        let (s, first) = connect(node.port);
        if err_of(&first).is_none() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut held: Vec<TcpStream> = (0..5).map(|_| greeted()).collect();
    let (mut sixth, first) = connect(node.port);
    let e = err_of(&first).expect("1040 instead of a greeting");
    assert_eq!((e.code, e.message.as_str()), (1040, "Too many connections"));
    closed_by_server(&mut sixth, "the refused connection");
    // Once one leaves, a new one is served.
    drop(held.pop());
    let t = Instant::now();
    let mut s = loop {
        match Session::try_login(node.port, "repl", "s3cret") {
            Ok(s) => break s,
            Err(e) => assert!(e.contains("Too many connections") && t.elapsed() < PATIENCE, "after a connection left: {e}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(s.scalar("SELECT @@max_connections"), "5");
}

#[test]
fn an_idle_session_is_closed_after_what_wait_timeout_says() {
    let (node, _work) = node("limits-idle", &["--idle-timeout-ms", "1000"]);
    let mut s = Session::login(node.port, "repl", "s3cret");
    s.scalar("SELECT 1");
    let t = Instant::now();
    closed_by_server(&mut s.sock, "an idle session");
    assert!(t.elapsed() >= Duration::from_millis(900), "closed before it was idle for 1 s: {:?}", t.elapsed());
    wait_for_log(&node, "idle for longer than idle_timeout_ms 1000");
    let mut s = Session::login(node.port, "repl", "s3cret");
    assert_eq!(s.scalar("SELECT @@wait_timeout"), "1");
    assert_eq!(s.scalar("SELECT @@interactive_timeout"), "1");
}

fn as_admin(port: u16, sql: &str) -> Result<Option<Rows>, ServerError> {
    Session::login(port, "admin", "chief").query(sql)
}

#[test]
fn a_replica_that_stops_reading_is_cut_off_and_no_longer_holds_back_purge() {
    let work = work_dir("limits-stalled");
    store_of_captures(&work);
    let extra = ["--admin", "admin:chief", "--dump-write-timeout-ms", "500"].map(String::from);
    let node = Binraft::start(&work.join("store"), &work.join("binraft.log"), &extra);
    let mut replica = Session::login(node.port, "repl", "s3cret");
    replica.query("SET @master_binlog_checksum='CRC32'").unwrap();
    // It asks for the 35 MB file and never reads a byte of it.
    replica.conn.send_command(&Cmd::BinlogDump(BinlogDump { position: 4, flags: 0, server_id: 99, file: "primary-bin.000002".into() }));
    while let Some(ClientOutput::Send(b)) = replica.conn.poll_output() {
        replica.sock.write_all(&b).unwrap();
    }
    let t = Instant::now();
    while let Err(e) = as_admin(node.port, "PURGE BINARY LOGS TO 'primary-bin.000003'") {
        assert_eq!(e.code, 1378, "{e:?}");
        assert!(t.elapsed() < PATIENCE, "PURGE still refused after {:?}: {}", t.elapsed(), e.message);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!work.join("store/primary-bin.000002").exists());
    wait_for_log(&node, "dump_write_timeout_ms 500");
    drop(replica);
    assert_eq!(Session::login(node.port, "repl", "s3cret").scalar("SELECT @@net_write_timeout"), "1");
}

/// Commands sent in the same write as COM_BINLOG_DUMP go unanswered, as a dump thread reads no
/// commands, and do not hold back the heartbeats: with a 0.3 s period the first one comes about
/// 0.3 s after the dump reaches the end. (They used to be taken one per period, and each one
/// swallowed that period's heartbeat: 40 of them, no heartbeat for 12 s.)
#[test]
fn commands_pipelined_with_a_dump_do_not_delay_its_heartbeats() {
    let work = work_dir("limits-pipelined");
    store_of_captures(&work);
    let node = Binraft::start(&work.join("store"), &work.join("binraft.log"), &[]);
    let mut replica = Session::login(node.port, "repl", "s3cret");
    replica.query("SET @master_heartbeat_period= 300000000").unwrap();
    replica.query("SET @master_binlog_checksum='CRC32'").unwrap();
    let status = replica.query("SHOW MASTER STATUS").unwrap().unwrap();
    let cell = |i: usize| String::from_utf8(status.rows[0][i].clone().unwrap()).unwrap();
    let (file, position) = (cell(0), cell(1).parse::<u32>().unwrap());
    // The dump starts at the end of the last file: it waits at once.
    let mut bytes = Vec::new();
    let mut payload = Vec::new();
    Cmd::BinlogDump(BinlogDump { position, flags: 0, server_id: 99, file }).encode(&mut payload);
    binraft_core::mysql::packet::write_message(&mut bytes, &mut 0, &payload);
    for _ in 0..40 {
        binraft_core::mysql::packet::write_message(&mut bytes, &mut 0, &[0x0e]);
    }
    replica.sock.write_all(&bytes).unwrap();
    let sent = Instant::now();
    let mut reader = binraft_core::mysql::packet::PacketReader::new(1 << 24);
    reader.ignore_seq();
    let mut buf = vec![0u8; 64 * 1024];
    let mut kinds = Vec::new();
    while !kinds.contains(&27) {
        assert!(sent.elapsed() < Duration::from_secs(3), "no heartbeat {:?} after the dump started; events of types {kinds:?}", sent.elapsed());
        let n = replica.sock.read(&mut buf).unwrap();
        assert!(n > 0, "the server closed the dump");
        reader.handle_bytes(&buf[..n]);
        while let Some(m) = reader.poll_message() {
            let p = m.unwrap().payload;
            assert_eq!(p[0], 0, "not an event: {p:?} (a command's answer?)");
            kinds.push(p[5]);
        }
    }
    // The artificial ROTATE, the file's FORMAT_DESCRIPTION, then the heartbeat.
    assert_eq!(kinds, [4, 15, 27]);
}

/// The process listening on `port` (found by the `--listen` of its command line).
fn pid_of(port: u16) -> u32 {
    let listen = format!("127.0.0.1:{port}");
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let cmdline = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        if cmdline.split(|&b| b == 0).any(|a| a == listen.as_bytes()) {
            return pid;
        }
    }
    panic!("no process listens on {listen}");
}

/// CPU time (user + system) of process `pid` so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest.split(' ').skip(11).take(2).map(|x| x.parse().unwrap()).collect();
    // Clock ticks are 1/100 s on Linux.
    Duration::from_millis((f[0] + f[1]) * 10)
}

#[test]
fn the_accept_loop_backs_off_when_out_of_file_descriptors() {
    let (node, _work) = node("limits-emfile", &[]);
    let pid = pid_of(node.port);
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap().count();
    let limit = fds + 4;
    let out = std::process::Command::new("prlimit").arg(format!("--pid={pid}")).arg(format!("--nofile={limit}:{limit}")).output().unwrap();
    assert!(out.status.success(), "prlimit: {}", String::from_utf8_lossy(&out.stderr));
    // More connections than descriptors: the kernel completes them, accept fails with EMFILE.
    let held: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(("127.0.0.1", node.port)).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_time(pid);
    std::thread::sleep(Duration::from_secs(3));
    let spent = cpu_time(pid) - before;
    eprintln!("binraft's CPU time in 3 s out of descriptors: {spent:?}");
    let log = node.log();
    let warnings = log.lines().filter(|l| l.contains("accept")).count();
    assert!((1..=5).contains(&warnings), "{warnings} accept warnings:\n{}", &log[log.len().saturating_sub(2000)..]);
    assert!(spent < Duration::from_millis(500), "binraft spent {spent:?} of CPU in 3 s unable to accept");
    // Descriptors back: it serves again.
    drop(held);
    let t = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", node.port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            let mut b = [0u8; 64];
            s.read(&mut b)
        }) {
            Ok(n) if n > 0 => break,
            _ => assert!(t.elapsed() < PATIENCE, "binraft does not serve again"),
        }
    }
}

#[test]
fn only_admins_kill_other_users_sessions() {
    let (node, _work) = node("limits-kill", &["--admin", "admin:chief"]);
    let mut admin = Session::login(node.port, "admin", "chief");
    let mut repl = Session::login(node.port, "repl", "s3cret");
    let e = repl.query(&format!("KILL {}", admin.id)).unwrap_err();
    assert_eq!((e.code, e.message), (1095, format!("You are not owner of thread {}", admin.id)));
    assert_eq!(admin.scalar("SELECT 1"), "1", "the admin's session survives");
    // A user may kill their own sessions; an admin anyone's.
    let mut other = Session::login(node.port, "repl", "s3cret");
    repl.query(&format!("KILL {}", other.id)).unwrap();
    closed_by_server(&mut other.sock, "the killed session");
    admin.query(&format!("KILL {}", repl.id)).unwrap();
    closed_by_server(&mut repl.sock, "the session the admin killed");
    assert_eq!(admin.query("KILL 999999").unwrap_err().code, 1094);
}
