//! The replication benchmark, in one go: `cargo bench -p binraft --bench replication`.
//!
//! 1. Latency and throughput on the same workload, each path measured by a binlog reader
//!    ("replica") attached at its end: primary → replica; primary → MariaDB relay
//!    (log_slave_updates) → replica; primary → binraft → replica. Latency is commit on the
//!    primary to receipt of the transaction's GTID at the reader; the added latency of the relay
//!    and of binraft is their receipt minus the direct one, and the two are compared as a ratio.
//! 2. binraft's ingest ceiling: a binraft serving a synthetic store at full speed over loopback
//!    feeds a second binraft, which stores it (fsync per transaction).
//! 3. Fan-out: 1 and then 50 readers attached to binraft at once, each reading the whole store
//!    (1b: 1 and then 50 readers following the live workload through binraft).
//! 4. Start-up on a store of many closed files: from the persisted index, and reading every file.
//! 5. Serving cost: 16 mariadb-binlog readers at once of the same files, from MariaDB and from
//!    binraft; each server's CPU time.
//! 6. The cluster: the same synthetic feed stored by 1 node and by a 3-node cluster (committed
//!    on a majority, durably), as a ratio; then failover time over 10 leader kills (the leader
//!    SIGKILLed until another pulls again), p50 and p99.
//!
//! Needs MariaDB 10.11 (Debian's mariadb-server). Figures are ratios measured in the same run.
//! Parts can be chosen: `cargo bench -p binraft --bench replication -- 1 5` (2 and 3 run together).

use binraft_core::binlog::decoder::Decoder;
use binraft_core::binlog::{ChecksumAlg, EventBody};
use binraft_core::mysql::client::{ClientConfig, ClientConn, ClientOutput};
use binraft_core::mysql::command::{dump_flags, BinlogDump, Command};
use binraft_fixtures::mariadb::{free_port, MariaDb};
use std::collections::BTreeMap;
use std::net::TcpStream as StdTcp;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Proc, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A MySQL connection driven by the core's client machine.
struct Conn {
    stream: TcpStream,
    client: ClientConn,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(port: u16, user: &str, password: &str) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        let client = ClientConn::new(ClientConfig { user: user.into(), password: password.into(), max_packet: 1 << 30, tls: false });
        let mut c = Conn { stream, client, buf: vec![0; 1 << 20] };
        match c.next().await {
            ClientOutput::Ready(_) => c,
            other => panic!("login to {port}: {other:?}"),
        }
    }

    /// The next output other than bytes to send (which it sends).
    async fn next(&mut self) -> ClientOutput {
        loop {
            while let Some(o) = self.client.poll_output() {
                match o {
                    ClientOutput::Send(b) => self.stream.write_all(&b).await.expect("write"),
                    other => return other,
                }
            }
            let n = self.stream.read(&mut self.buf).await.expect("read");
            assert!(n > 0, "server closed the connection");
            self.client.handle_bytes(&self.buf[..n]);
        }
    }

    async fn query(&mut self, sql: &str) -> Option<String> {
        self.client.query(sql);
        match self.next().await {
            ClientOutput::Done(rows) => rows.and_then(|r| r.scalar()),
            other => panic!("{sql}: {other:?}"),
        }
    }
}

/// Receipt times of MariaDB GTID sequence numbers (domain 0) at a reader, and bytes received.
#[derive(Default)]
struct Receipts {
    at: BTreeMap<u64, Instant>,
    bytes: u64,
}

/// A reader attached to `port` from GTID state `state`, until it has `upto`.
async fn probe(port: u16, user: &str, password: &str, state: String, upto: u64, out: Arc<Mutex<Receipts>>) {
    let mut c = Conn::open(port, user, password).await;
    for q in ["SET @master_binlog_checksum= @@global.binlog_checksum", "SET @mariadb_slave_capability=4", "SET @master_heartbeat_period=1000000000"] {
        c.query(q).await;
    }
    c.query(&format!("SET @slave_connect_state='{state}'")).await;
    c.client.send_command(&Command::BinlogDump(BinlogDump { position: 4, flags: dump_flags::SEND_ANNOTATE_ROWS, server_id: 7000 + u32::from(port % 1000), file: String::new() }));
    let mut dec = Decoder::for_stream(ChecksumAlg::Crc32).decode_rows(false);
    loop {
        match c.next().await {
            ClientOutput::Event(e) => {
                let now = Instant::now();
                let mut r = out.lock().unwrap();
                r.bytes += e.len() as u64;
                if let Ok(Some(ev)) = dec.decode_next(&e, 0) {
                    if let EventBody::MariaGtid(g) = &ev.body {
                        if g.domain == 0 {
                            r.at.entry(g.seq).or_insert(now);
                            if g.seq >= upto {
                                return;
                            }
                        }
                    }
                }
            }
            other => panic!("probe on {port}: {other:?}"),
        }
    }
}

struct Binraft(Child);

impl Drop for Binraft {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binraft(store: &Path, port: u16, extra: &[String]) -> Binraft {
    binraft_as(store, port, &[&["--server-id".to_string(), "100".to_string()][..], extra].concat())
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn work_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("binraft-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const USER: &str = "bench";
const PASSWORD: &str = "bench";

fn gtid_seq(pos: &str) -> u64 {
    pos.split(',').find(|g| g.starts_with("0-")).and_then(|g| g.rsplit('-').next()).and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Attaches one reader to each port, then commits `n` single-row transactions on the primary;
/// returns each transaction's commit time by GTID sequence number.
fn run_workload(rt: &tokio::runtime::Runtime, primary_port: u16, ports: &[u16], start_pos: &str, n: u64, receipts: &[Arc<Mutex<Receipts>>]) -> BTreeMap<u64, Instant> {
    let base = gtid_seq(start_pos);
    let upto = base + n;
    rt.block_on(async {
        let mut probes = Vec::new();
        for (port, r) in ports.iter().zip(receipts) {
            probes.push(tokio::spawn(probe(*port, USER, PASSWORD, start_pos.to_string(), upto, Arc::clone(r))));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut w = Conn::open(primary_port, USER, PASSWORD).await;
        let mut commits = BTreeMap::new();
        for i in 1..=n {
            w.query("INSERT INTO b.t (payload) VALUES (REPEAT('x', 200))").await;
            commits.insert(base + i, Instant::now());
        }
        for pr in probes {
            tokio::time::timeout(Duration::from_secs(120), pr).await.expect("a reader did not get every transaction").unwrap();
        }
        commits
    })
}

/// Waits until the binraft on `port` has stored up to the primary's GTID position `pos`.
fn wait_caught_up(port: u16, pos: &str) {
    let t = Instant::now();
    while Proc::new("mariadb")
        .args(["--no-defaults", "-h127.0.0.1", "-N", "-ubench", "-pbench", "-e", "SELECT @@gtid_binlog_pos"])
        .arg(format!("-P{port}"))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() != pos)
        .unwrap_or(true)
    {
        assert!(t.elapsed() < Duration::from_secs(120), "binraft did not catch up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the MariaDB relay has applied up to `pos`.
fn wait_relay(relay: &MariaDb, pos: &str) {
    let t = Instant::now();
    while relay.sql("SELECT @@gtid_slave_pos") != pos {
        assert!(t.elapsed() < Duration::from_secs(30), "relay did not catch up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Part 1b: `k` readers following binraft while a writer commits `n` transactions on the
/// primary; the primary's commit rate, and each reader's transactions/s and p99 latency.
fn follow(rt: &tokio::runtime::Runtime, p: &MariaDb, bport: u16, n: u64, k: usize) -> (f64, Vec<(f64, Duration)>) {
    let start_pos = p.sql("SELECT @@gtid_binlog_pos");
    wait_caught_up(bport, &start_pos);
    let base = gtid_seq(&start_pos);
    let upto = base + n;
    let receipts: Vec<Arc<Mutex<Receipts>>> = (0..k).map(|_| Arc::default()).collect();
    let commits = run_workload(rt, p.port, &vec![bport; k], &start_pos, n, &receipts);
    let first = commits[&(base + 1)];
    let committed = (n - 1) as f64 / commits[&upto].duration_since(first).as_secs_f64();
    let readers = receipts
        .iter()
        .map(|r| {
            let r = r.lock().unwrap();
            let mut lat: Vec<Duration> = (base + 1..=upto).map(|s| r.at[&s].saturating_duration_since(commits[&s])).collect();
            ((n - 1) as f64 / r.at[&upto].duration_since(r.at[&(base + 1)]).as_secs_f64(), percentile(&mut lat, 0.99))
        })
        .collect();
    (committed, readers)
}

/// Part 1: the same workload through three paths.
fn latency(rt: &tokio::runtime::Runtime, n: u64) {
    let w = work_dir("latency");
    let p = MariaDb::start("bench-primary", &["--log-bin=primary-bin".into(), "--server-id=1".into(), "--binlog-format=ROW".into(), "--gtid-strict-mode=1".into()]);
    p.sql(&format!(
        "CREATE USER {USER}@'%' IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON *.* TO {USER}@'%'; CREATE DATABASE b; CREATE TABLE b.t (id INT PRIMARY KEY AUTO_INCREMENT, payload VARCHAR(255))"
    ));
    let relay = MariaDb::start("bench-relay", &["--server-id=2".into(), "--log-bin=relay-bin".into(), "--log-slave-updates".into(), "--gtid-strict-mode=1".into()]);
    relay.sql(&format!("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='{USER}', MASTER_PASSWORD='{PASSWORD}', MASTER_USE_GTID=slave_pos; START SLAVE", p.port));
    let (bport, bhttp) = (free_port(), free_port());
    let _b = binraft(
        &w.join("store"),
        bport,
        &["--primary".into(), format!("127.0.0.1:{}", p.port), "--primary-user".into(), USER.into(), "--primary-password".into(), PASSWORD.into(), "--http-listen".into(), format!("127.0.0.1:{bhttp}")],
    );
    // And a 3-node cluster, its reader on a follower.
    let members = cluster(&w.join("cluster"), p.port);
    let leader = cluster_leader(&members, None);
    let follower_port = members[(leader + 1) % 3].port;
    let start_pos = p.sql("SELECT @@gtid_binlog_pos");
    // binraft too, or its reader may ask before binraft has its first file (error 1236).
    wait_caught_up(bport, &start_pos);
    wait_caught_up(follower_port, &start_pos);
    wait_relay(&relay, &start_pos);
    let base = gtid_seq(&start_pos);
    let upto = base + n;
    let paths = [
        ("primary -> replica", p.port),
        ("primary -> MariaDB relay -> replica", relay.port),
        ("primary -> binraft -> replica", bport),
        ("primary -> 3 binraft nodes -> replica", follower_port),
    ];
    let receipts: Vec<Arc<Mutex<Receipts>>> = paths.iter().map(|_| Arc::default()).collect();
    let ports: Vec<u16> = paths.iter().map(|(_, port)| *port).collect();
    let commits = run_workload(rt, p.port, &ports, &start_pos, n, &receipts);
    let first = *commits.values().next().unwrap();
    let direct: Vec<Duration> = {
        let r = receipts[0].lock().unwrap();
        (base + 1..=upto).map(|s| r.at[&s].saturating_duration_since(commits[&s])).collect()
    };
    println!("\n1. {n} single-row transactions (200-byte rows), one writer, readers attached at each path's end");
    println!("{:<38} {:>9} {:>8} {:>9} {:>9} {:>14} {:>14}", "path", "tx/s", "MB/s", "p50 ms", "p99 ms", "added p50 ms", "added p99 ms");
    let mut added_p99 = Vec::new();
    for (i, (name, _)) in paths.iter().enumerate() {
        let r = receipts[i].lock().unwrap();
        let mut lat: Vec<Duration> = (base + 1..=upto).map(|s| r.at[&s].saturating_duration_since(commits[&s])).collect();
        let mut added: Vec<Duration> = lat.iter().zip(&direct).map(|(a, d)| a.saturating_sub(*d)).collect();
        let span = r.at[&upto].duration_since(first).as_secs_f64();
        let (p50, p99) = (percentile(&mut lat, 0.5), percentile(&mut lat, 0.99));
        let (a50, a99) = (percentile(&mut added, 0.5), percentile(&mut added, 0.99));
        println!(
            "{name:<38} {:>9.0} {:>8.2} {:>9.3} {:>9.3} {:>14.3} {:>14.3}",
            n as f64 / span,
            r.bytes as f64 / span / 1e6,
            ms(p50),
            ms(p99),
            ms(a50),
            ms(a99)
        );
        added_p99.push((ms(a50), ms(a99)));
    }
    let (relay_added, binraft_added, cluster_added) = (added_p99[1], added_p99[2], added_p99[3]);
    println!(
        "binraft's added latency / the relay's: p50 {:.2}, p99 {:.2}",
        binraft_added.0 / relay_added.0.max(1e-9),
        binraft_added.1 / relay_added.1.max(1e-9)
    );
    println!(
        "a 3-node cluster's added latency (committed on a majority, the replica on a follower) / the relay's: p50 {:.2}, p99 {:.2}",
        cluster_added.0 / relay_added.0.max(1e-9),
        cluster_added.1 / relay_added.1.max(1e-9)
    );
    // Commit latency on this paced workload (each transaction about a batch of its own).
    let one = commit_quantiles(bhttp);
    let three = commit_quantiles(members[cluster_leader(&members, None)].http);
    let fsync = fsync_latency(&w, 1000);
    println!(
        "commit latency, receipt from the primary to committed (bucket upper bounds, buckets a quarter apart): 1 node p50 {:.3} ms, p99 {:.3} ms ({} batches); 3 nodes (on a majority) p50 {:.3} ms, p99 {:.3} ms ({} batches)",
        ms(one.0),
        ms(one.1),
        one.2,
        ms(three.0),
        ms(three.1),
        three.2
    );
    println!("this disk, 4 KiB written and fdatasync'd: p50 {:.3} ms, p99 {:.3} ms; the cluster's p99 against one fsync's p99 + 1 ms: {:.2}", ms(fsync.0), ms(fsync.1), ms(three.1) / (ms(fsync.1) + 1.0));
    drop(members);

    // Replicas following the live workload through binraft: 1, then 50 at once.
    let (committed_one, one) = follow(rt, &p, bport, n, 1);
    let one = one[0];
    let (committed_fifty, fifty) = follow(rt, &p, bport, n, 50);
    let worst = fifty.iter().map(|x| x.0).fold(f64::MAX, f64::min);
    let worst_p99 = fifty.iter().map(|x| x.1).max().unwrap_or_default();
    println!("\n1b. replicas following the same workload through binraft (the readers run in the bench process, on the same cores)");
    println!("1 replica: {:.0} tx/s while the primary committed {committed_one:.0} tx/s ({:.2} of it), p99 {:.3} ms", one.0, one.0 / committed_one, ms(one.1));
    println!(
        "50 replicas: the slowest {worst:.0} tx/s while the primary committed {committed_fifty:.0} tx/s ({:.2} of it; {:.2} of one replica's), the worst p99 {:.3} ms",
        worst / committed_fifty,
        worst / one.0,
        ms(worst_p99)
    );
}

/// A MariaDB store of `n` copies of one real transaction from the captures (re-encoded with new
/// sequence numbers, positions and checksums), to feed binraft at full speed.
fn synthetic_store(dir: &Path, n: u64, big_rows: bool) -> (u64, u64) {
    use binraft_core::binlog::events::EventBody as B;
    let file = binraft_fixtures::read_binlog(&binraft_fixtures::captured_files()[0]);
    let (events, _) = binraft_fixtures::decode_all(&file);
    // The template: the group whose rows event is largest (big) or smallest (small).
    let mut groups: Vec<Vec<binraft_core::binlog::Event>> = Vec::new();
    let mut cur = Vec::new();
    let mut tracker = binraft_core::store::groups::GroupTracker::new();
    for d in &events {
        cur.push(d.event.clone());
        if tracker.observe(&d.event) {
            if cur.iter().any(|e| matches!(e.body, B::Rows(_))) && cur.iter().any(|e| matches!(e.body, B::Xid(_))) {
                groups.push(std::mem::take(&mut cur));
            }
            cur.clear();
        }
    }
    let size = |g: &Vec<binraft_core::binlog::Event>| g.iter().map(|e| e.header.event_size as u64).sum::<u64>();
    let template = if big_rows { groups.iter().max_by_key(|g| size(g)) } else { groups.iter().min_by_key(|g| size(g)) }.unwrap().clone();
    let mut out = file[..events[2].event.offset as usize].to_vec(); // magic, FDE, GTID_LIST
    for seq in 1..=n {
        for e in &template {
            let mut e = e.clone();
            if let B::MariaGtid(g) = &mut e.body {
                g.seq = seq;
            }
            let bytes = e.encode();
            e.header.log_pos = (out.len() + bytes.len()) as u32;
            out.extend_from_slice(&e.encode());
        }
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("primary-bin.000001"), &out).unwrap();
    std::fs::write(dir.join("binlog.index"), "primary-bin.000001\n").unwrap();
    (out.len() as u64, size(&template))
}

/// The disk's own pace for what part 2 stores: `total` bytes appended to a new file in 4 MiB
/// writes, each followed by fdatasync (binraft's group commit at its largest); MB/s.
fn disk_append_pace(dir: &Path, total: u64) -> f64 {
    use std::io::Write;
    let path = dir.join("disk-pace");
    let mut f = std::fs::File::create(&path).unwrap();
    let chunk = vec![0x5au8; 4 << 20];
    let t = Instant::now();
    let mut done = 0u64;
    while done < total {
        f.write_all(&chunk).unwrap();
        f.sync_data().unwrap();
        done += chunk.len() as u64;
    }
    let mbs = done as f64 / t.elapsed().as_secs_f64() / 1e6;
    let _ = std::fs::remove_file(&path);
    mbs
}

/// Part 2: binraft storing a full-speed feed; its steady-state MB/s.
fn ingest(n: u64, big_rows: bool) -> f64 {
    let w = work_dir(if big_rows { "ingest-big" } else { "ingest-small" });
    let (bytes, tx) = synthetic_store(&w.join("source"), n, big_rows);
    let src_port = free_port();
    let _src = binraft(&w.join("source"), src_port, &[]);
    let dst_port = free_port();
    let t = Instant::now();
    let _dst = binraft(
        &w.join("dest"),
        dst_port,
        &["--primary".into(), format!("127.0.0.1:{src_port}"), "--primary-user".into(), USER.into(), "--primary-password".into(), PASSWORD.into()],
    );
    let file = w.join("dest").join("primary-bin.000001");
    // Steady state: from the first stored transaction to the last (start-up and login apart).
    let mut first: Option<(Instant, u64)> = None;
    loop {
        let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        if first.is_none() && len > 4096 {
            first = Some((Instant::now(), len));
        }
        if len >= bytes {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(300), "ingest did not finish");
        std::thread::sleep(Duration::from_millis(1));
    }
    let total = t.elapsed().as_secs_f64();
    let (t1, len1) = first.unwrap_or((t, 0));
    let steady = t1.elapsed().as_secs_f64().max(1e-6);
    let steady_bytes = (bytes - len1) as f64;
    println!(
        "{:<38} {:>9.0} {:>8.1}   ({n} transactions of {tx} bytes, group commit; {:.0} MB/s counting start-up and login)",
        if big_rows { "ingest, large transactions" } else { "ingest, small transactions" },
        steady_bytes / tx as f64 / steady,
        steady_bytes / steady / 1e6,
        bytes as f64 / total / 1e6
    );
    steady_bytes / steady / 1e6
}

/// Part 3: `k` readers of the whole store at once; each one's MB/s.
fn fan_out(rt: &tokio::runtime::Runtime, port: u16, upto: u64, bytes: u64, k: usize) -> Vec<f64> {
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..k {
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                probe(port, USER, PASSWORD, String::new(), upto, Arc::default()).await;
                bytes as f64 / t.elapsed().as_secs_f64() / 1e6
            }));
        }
        let mut v = Vec::new();
        for t in tasks {
            v.push(t.await.unwrap());
        }
        v
    })
}

/// Part 4: start-up on a store of `n` closed files (copies of the largest capture file): until
/// binraft listens, with the persisted index of closed files and with every file read.
fn startup(n: usize) {
    let w = work_dir("startup");
    let store = w.join("store");
    std::fs::create_dir_all(&store).unwrap();
    let files = binraft_fixtures::captured_files();
    let bytes = files.iter().map(|f| binraft_fixtures::read_binlog(f)).max_by_key(Vec::len).unwrap();
    let mut index = String::new();
    for i in 1..=n {
        let name = format!("primary-bin.{i:06}");
        std::fs::write(store.join(&name), &bytes).unwrap();
        index.push_str(&name);
        index.push('\n');
    }
    std::fs::write(store.join("binlog.index"), index).unwrap();
    let time_to_listen = || {
        let t = Instant::now();
        let _b = binraft(&store, free_port(), &[]);
        t.elapsed()
    };
    // The first start reads every file and writes the index; the second opens from it.
    let mut read_all = Vec::new();
    let mut indexed = Vec::new();
    for _ in 0..3 {
        let _ = std::fs::remove_file(store.join("binlog.summaries"));
        read_all.push(time_to_listen());
        indexed.push(time_to_listen());
    }
    let (r, i) = (percentile(&mut read_all, 0.5), percentile(&mut indexed, 0.5));
    println!("\n4. start-up on a store of {n} closed files, {:.0} MB in all (median of 3, page cache warm)", (n * bytes.len()) as f64 / 1e6);
    println!("reading every file: {:.1} ms; from binlog.summaries: {:.1} ms; ratio {:.3}", ms(r), ms(i), i.as_secs_f64() / r.as_secs_f64());
    let _ = std::fs::remove_dir_all(&w);
}

/// CPU seconds (user + system) a process has used so far.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    // The fields after the name start at the 3rd (state): utime is index 11, stime 12.
    let ticks = field(11) + field(12);
    let hz = Proc::new("getconf").arg("CLK_TCK").output().ok().and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse::<f64>().ok()).unwrap_or(100.0);
    ticks as f64 / hz
}

/// `k` mariadb-binlog --read-from-remote-server --raw readers of every file from `first`, at once;
/// the wall time.
fn raw_readers(port: u16, first: &str, k: usize, out: &Path) -> Duration {
    let t = Instant::now();
    let children: Vec<Child> = (0..k)
        .map(|i| {
            let dir = out.join(i.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            Proc::new("mariadb-binlog")
                .args(["--no-defaults", "--read-from-remote-server", "--raw", "--to-last-log", "-h127.0.0.1"])
                .arg(format!("-P{port}"))
                .arg(format!("-u{USER}"))
                .arg(format!("-p{PASSWORD}"))
                .arg(format!("--result-file={}/", dir.display()))
                .arg(first)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("mariadb-binlog")
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "mariadb-binlog failed");
    }
    t.elapsed()
}

/// Part 5: the same binlog files served to 16 real clients at once by MariaDB itself and by
/// binraft: each server's CPU time for it.
fn serving_cost(k: usize) {
    let w = work_dir("serving");
    let p = MariaDb::start("bench-serving", &["--log-bin=primary-bin".into(), "--server-id=1".into(), "--binlog-format=ROW".into(), "--max-allowed-packet=64M".into()]);
    p.sql(&format!("CREATE USER {USER}@'%' IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON *.* TO {USER}@'%'; CREATE DATABASE b; CREATE TABLE b.t (id INT PRIMARY KEY AUTO_INCREMENT, payload TEXT)"));
    // About 100 MB: 2,000 single-row transactions of 1 kB and 40 of 2.5 MB.
    let mut sql = String::from("USE b;");
    for i in 0..2_000 {
        sql.push_str("INSERT INTO b.t (payload) VALUES (REPEAT('s', 1000));");
        if i % 50 == 0 {
            sql.push_str("INSERT INTO b.t (payload) SELECT REPEAT('L', 2500) FROM seq_1_to_1000;");
        }
    }
    let file = w.join("load.sql");
    std::fs::write(&file, sql).unwrap();
    p.source(&file);
    p.sql("FLUSH BINARY LOGS");
    let bport = free_port();
    let b = binraft(&w.join("store"), bport, &["--primary".into(), format!("127.0.0.1:{}", p.port), "--primary-user".into(), USER.into(), "--primary-password".into(), PASSWORD.into()]);
    wait_caught_up(bport, &p.sql("SELECT @@gtid_binlog_pos"));
    let bytes: u64 = std::fs::read_dir(p.data_dir()).unwrap().filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().starts_with("primary-bin.0")).filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum();
    println!("\n5. mariadb-binlog --read-from-remote-server --raw readers of the same {:.0} MB of binlogs, from each server", bytes as f64 / 1e6);
    println!("   (the readers write to /dev/shm, so that no disk writeback of one run slows the next; order ABBA, times summed)");
    let shm = PathBuf::from(format!("/dev/shm/binraft-bench-{}", std::process::id()));
    let servers = [("MariaDB 10.11", p.port, p.pid()), ("binraft", bport, b.0.id())];
    for readers in [1, k] {
        let mut cpu = [0.0f64; 2];
        let mut wall = [Duration::ZERO; 2];
        for i in [0usize, 1, 1, 0] {
            let (_, port, pid) = servers[i];
            let before = cpu_secs(pid);
            wall[i] += raw_readers(port, "primary-bin.000001", readers, &shm);
            cpu[i] += cpu_secs(pid) - before;
            let _ = std::fs::remove_dir_all(&shm);
        }
        for i in 0..2 {
            println!(
                "{readers:>2} x {:<14} server CPU {:>6.2} s, wall {:>6.2} s, {:>6.0} MB/s served",
                servers[i].0,
                cpu[i],
                wall[i].as_secs_f64(),
                (2 * bytes * readers as u64) as f64 / wall[i].as_secs_f64() / 1e6
            );
        }
        println!("{readers:>2} readers, binraft / MariaDB: server CPU {:.2}, wall {:.2}", cpu[1] / cpu[0].max(1e-9), wall[1].as_secs_f64() / wall[0].as_secs_f64());
    }
    let _ = std::fs::remove_dir_all(&w);
}

/// A member of a 3-node cluster: its process (None while down), MySQL and HTTP ports, its
/// flags and its data directory.
struct Member {
    process: Option<Binraft>,
    port: u16,
    http: u16,
    args: Vec<String>,
    dir: PathBuf,
}

impl Member {
    fn start(&mut self) {
        self.process = Some(binraft_as(&self.dir, self.port, &self.args));
    }

    fn kill(&mut self) {
        self.process = None;
    }
}

/// The members of a 3-node cluster over `dir`/node{1,2,3} pulling from the server at
/// `src_port`, not started.
fn cluster_members(dir: &Path, src_port: u16) -> Vec<Member> {
    let raft: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let peers: String = (0..3).map(|i| format!("{}=127.0.0.1:{}", i + 1, raft[i])).collect::<Vec<_>>().join(",");
    (0..3)
        .map(|i| {
            let (port, http) = (free_port(), free_port());
            let args: Vec<String> = vec![
                "--node-id".into(),
                (i + 1).to_string(),
                "--peers".into(),
                peers.clone(),
                "--http-listen".into(),
                format!("127.0.0.1:{http}"),
                "--cluster-secret".into(),
                "bench-cluster-secret".into(),
                "--server-id".into(),
                (101 + i).to_string(),
                "--primary".into(),
                format!("127.0.0.1:{src_port}"),
                "--primary-user".into(),
                USER.into(),
                "--primary-password".into(),
                PASSWORD.into(),
                "--primary-connect-retry-s".into(),
                "1".into(),
            ];
            Member { process: None, port, http, args, dir: dir.join(format!("node{}", i + 1)) }
        })
        .collect()
}

/// A started 3-node cluster pulling from the server at `src_port`.
fn cluster(dir: &Path, src_port: u16) -> Vec<Member> {
    let mut members = cluster_members(dir, src_port);
    members.iter_mut().for_each(Member::start);
    members
}

/// The binraft the bench starts: this build's, or the baseline's while [`before_after`] runs it.
static EXE: Mutex<Option<PathBuf>> = Mutex::new(None);

fn exe() -> PathBuf {
    EXE.lock().unwrap().clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_binraft")))
}

/// `BINRAFT_BASELINE=/path/to/an/older/binraft`: the added latency (part 1's three paths) and
/// the ingest (part 2) of that binary and of this build, alternately, twice each, in this run;
/// then this build / the baseline.
fn before_after(rt: &tokio::runtime::Runtime, baseline: PathBuf, n: u64) {
    println!("\nbefore/after: {} (baseline) and this build, alternately, twice each", baseline.display());
    let p = MariaDb::start("bench-ba-primary", &["--log-bin=primary-bin".into(), "--server-id=1".into(), "--binlog-format=ROW".into(), "--gtid-strict-mode=1".into()]);
    p.sql(&format!(
        "CREATE USER {USER}@'%' IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON *.* TO {USER}@'%'; CREATE DATABASE b; CREATE TABLE b.t (id INT PRIMARY KEY AUTO_INCREMENT, payload VARCHAR(255))"
    ));
    let relay = MariaDb::start("bench-ba-relay", &["--server-id=2".into(), "--log-bin=relay-bin".into(), "--log-slave-updates".into(), "--gtid-strict-mode=1".into()]);
    relay.sql(&format!("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='{USER}', MASTER_PASSWORD='{PASSWORD}', MASTER_USE_GTID=slave_pos; START SLAVE", p.port));
    // (added p50 / relay's, added p99 / relay's, small MB/s, large MB/s) of each run.
    let mut rows: Vec<(bool, [f64; 4])> = Vec::new();
    for round in 0..4 {
        let is_baseline = round % 2 == 0;
        *EXE.lock().unwrap() = is_baseline.then(|| baseline.clone());
        let w = work_dir(&format!("before-after-{round}"));
        let bport = free_port();
        let b = binraft(&w.join("store"), bport, &["--primary".into(), format!("127.0.0.1:{}", p.port), "--primary-user".into(), USER.into(), "--primary-password".into(), PASSWORD.into()]);
        let start_pos = p.sql("SELECT @@gtid_binlog_pos");
        wait_caught_up(bport, &start_pos);
        wait_relay(&relay, &start_pos);
        let base = gtid_seq(&start_pos);
        let ports = [p.port, relay.port, bport];
        let receipts: Vec<Arc<Mutex<Receipts>>> = ports.iter().map(|_| Arc::default()).collect();
        let commits = run_workload(rt, p.port, &ports, &start_pos, n, &receipts);
        let lat = |i: usize| -> Vec<Duration> {
            let r = receipts[i].lock().unwrap();
            (base + 1..=base + n).map(|s| r.at[&s].saturating_duration_since(commits[&s])).collect()
        };
        let direct = lat(0);
        let added = |i: usize| -> (Duration, Duration) {
            let mut a: Vec<Duration> = lat(i).iter().zip(&direct).map(|(x, d)| x.saturating_sub(*d)).collect();
            (percentile(&mut a, 0.5), percentile(&mut a, 0.99))
        };
        let (relay_added, ours) = (added(1), added(2));
        drop(b);
        let small = ingest(20_000, false);
        let large = ingest(2_000, true);
        let row = [ours.0.as_secs_f64() / relay_added.0.as_secs_f64().max(1e-9), ours.1.as_secs_f64() / relay_added.1.as_secs_f64().max(1e-9), small, large];
        println!(
            "{:<10} added latency / the relay's: p50 {:.2}, p99 {:.2}; ingest: small {:.0} MB/s, large {:.0} MB/s",
            if is_baseline { "baseline" } else { "this build" },
            row[0],
            row[1],
            row[2],
            row[3]
        );
        rows.push((is_baseline, row));
        let _ = std::fs::remove_dir_all(&w);
    }
    *EXE.lock().unwrap() = None;
    let mean = |baseline: bool, k: usize| {
        let v: Vec<f64> = rows.iter().filter(|r| r.0 == baseline).map(|r| r.1[k]).collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    println!(
        "this build / the baseline (means of two runs each): added latency p50 {:.2}, p99 {:.2} (lower is better); ingest small {:.2}, large {:.2} (higher is better)",
        mean(false, 0) / mean(true, 0),
        mean(false, 1) / mean(true, 1),
        mean(false, 2) / mean(true, 2),
        mean(false, 3) / mean(true, 3)
    );
}

/// A binraft on `store` listening on `port`, with its server id and the rest in `extra`.
fn binraft_as(store: &Path, port: u16, extra: &[String]) -> Binraft {
    let mut child = Proc::new(exe())
        .args(["run", "--user", "bench:bench", "--admin", "admin:admin", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(store)
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("binraft");
    let t = Instant::now();
    while StdTcp::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().ok().flatten().is_none(), "binraft exited at start");
        assert!(t.elapsed() < Duration::from_secs(120), "binraft did not listen");
        std::thread::sleep(Duration::from_millis(1));
    }
    Binraft(child)
}

/// A member's `GET /v1/status`: (role, upstream state).
fn member_status(http: u16) -> Option<(String, String)> {
    // admin:admin
    let r = ureq::get(&format!("http://127.0.0.1:{http}/v1/status")).set("Authorization", "Basic YWRtaW46YWRtaW4=").timeout(Duration::from_secs(2)).call().ok()?;
    let json: serde_json::Value = serde_json::from_str(&r.into_string().ok()?).ok()?;
    Some((json["role"].as_str()?.to_string(), json["upstream"]["state"].as_str()?.to_string()))
}

/// The member that leads and pulls, once there is one.
fn cluster_leader(members: &[Member], skip: Option<usize>) -> usize {
    let t = Instant::now();
    loop {
        for (i, m) in members.iter().enumerate().filter(|(i, m)| Some(*i) != skip && m.process.is_some()) {
            if member_status(m.http).is_some_and(|(role, up)| role == "leader" && up == "Yes") {
                return i;
            }
        }
        assert!(t.elapsed() < Duration::from_secs(60), "no leader pulling");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A member's `/metrics`: the p50 and p99 of `binraft_commit_seconds`, each the upper bound of
/// its bucket (buckets a quarter apart), and how many batches were committed.
fn commit_quantiles(http: u16) -> (Duration, Duration, u64) {
    let r = ureq::get(&format!("http://127.0.0.1:{http}/metrics")).set("Authorization", "Basic YWRtaW46YWRtaW4=").call().expect("metrics");
    let text = r.into_string().unwrap();
    let mut buckets: Vec<(f64, u64)> = Vec::new();
    for line in text.lines().filter(|l| l.starts_with("binraft_commit_seconds_bucket{le=\"")) {
        let le = line.split('"').nth(1).unwrap();
        let count: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        buckets.push((if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap() }, count));
    }
    let total = buckets.last().map_or(0, |b| b.1);
    let q = |p: f64| Duration::from_secs_f64(buckets.iter().find(|b| b.1 as f64 >= p * total as f64).map_or(0.0, |b| b.0.min(10.0)));
    (q(0.5), q(0.99), total)
}

/// This disk's fdatasync: 4 KiB written and synced, `n` times, at the end of a file in `dir`.
fn fsync_latency(dir: &Path, n: usize) -> (Duration, Duration) {
    use std::io::Write;
    let path = dir.join("fsync-pace");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = [0x5au8; 4096];
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f.write_all(&block).unwrap();
        f.sync_data().unwrap();
        times.push(t.elapsed());
    }
    let _ = std::fs::remove_file(&path);
    (percentile(&mut times, 0.5), percentile(&mut times, 0.99))
}

/// A replica of the member on `port` that reads its store and then waits: when its connection
/// ends, `(node, when)` goes into `gone`.
async fn watch(port: u16, node: usize, gone: Arc<Mutex<Vec<(usize, Instant)>>>) {
    // A member just restarted may reset the first connections: until one is a dump, try again.
    let mut c = None;
    for _ in 0..100 {
        let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let client = ClientConn::new(ClientConfig { user: USER.into(), password: PASSWORD.into(), max_packet: 1 << 30, tls: false });
        let mut conn = Conn { stream, client, buf: vec![0; 1 << 20] };
        if logged_in(&mut conn).await {
            c = Some(conn);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // None attached (the cluster is going away): nothing to watch.
    let Some(mut c) = c else { return };
    c.query("SET @master_binlog_checksum='CRC32'").await;
    c.client.send_command(&Command::BinlogDump(BinlogDump { position: 4, flags: 0, server_id: 8000 + node as u32, file: "primary-bin.000001".into() }));
    'session: loop {
        while let Some(o) = c.client.poll_output() {
            match o {
                ClientOutput::Send(b) if c.stream.write_all(&b).await.is_ok() => {}
                ClientOutput::Event(_) => {}
                _ => break 'session,
            }
        }
        match c.stream.read(&mut c.buf).await {
            Ok(n) if n > 0 => c.client.handle_bytes(&c.buf[..n]),
            _ => break,
        }
    }
    gone.lock().unwrap().push((node, Instant::now()));
}

/// Reads the greeting and logs in, without panicking: whether it worked.
async fn logged_in(c: &mut Conn) -> bool {
    loop {
        while let Some(o) = c.client.poll_output() {
            match o {
                ClientOutput::Send(b) if c.stream.write_all(&b).await.is_ok() => {}
                ClientOutput::Ready(_) => return true,
                _ => return false,
            }
        }
        match c.stream.read(&mut c.buf).await {
            Ok(n) if n > 0 => c.client.handle_bytes(&c.buf[..n]),
            _ => return false,
        }
    }
}

/// Waits until `file` in each of `dirs` is `bytes` long.
fn wait_stored(dirs: &[&Path], bytes: u64, within: Duration) {
    let t = Instant::now();
    while !dirs.iter().all(|d| std::fs::metadata(d.join("primary-bin.000001")).is_ok_and(|m| m.len() >= bytes)) {
        assert!(t.elapsed() < within, "not stored within {within:?}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Part 6: one node and a 3-node cluster storing the same feed (rate, and commit latency
/// against this disk's fsync); failover over `kills` leader kills, with a replica on every
/// member; a new member catching up on 1 GiB, against this disk's sequential pace.
fn cluster_part(rt: &tokio::runtime::Runtime, n: u64, kills: usize) {
    println!("\n6. the cluster: the same synthetic feed stored by 1 node, then by 3 (committed on a majority)");
    let w = work_dir("cluster");
    let (bytes, tx) = synthetic_store(&w.join("source"), n, false);
    let src_port = free_port();
    let _src = binraft(&w.join("source"), src_port, &[]);
    let measure = |dirs: Vec<PathBuf>, t: Instant| {
        let mut first: Option<(Instant, u64)> = None;
        loop {
            // The furthest member: the leader, whose applied entries are committed.
            let len = dirs.iter().map(|d| std::fs::metadata(d.join("primary-bin.000001")).map(|m| m.len()).unwrap_or(0)).max().unwrap_or(0);
            if first.is_none() && len > 4096 {
                first = Some((Instant::now(), len));
            }
            if len >= bytes {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(600), "ingest did not finish");
            std::thread::sleep(Duration::from_millis(1));
        }
        let (t1, len1) = first.unwrap_or((t, 0));
        let steady = t1.elapsed().as_secs_f64().max(1e-6);
        ((bytes - len1) as f64 / tx as f64 / steady, (bytes - len1) as f64 / steady / 1e6)
    };
    let one = {
        let dst = free_port();
        let t = Instant::now();
        let _b = binraft(&w.join("single"), dst, &["--primary".into(), format!("127.0.0.1:{src_port}"), "--primary-user".into(), USER.into(), "--primary-password".into(), PASSWORD.into()]);
        measure(vec![w.join("single")], t)
    };
    let t = Instant::now();
    let mut members = cluster(&w, src_port);
    let three = measure((1..=3).map(|i| w.join(format!("node{i}"))).collect(), t);
    println!("{:<38} {:>9} {:>8}", "", "tx/s", "MB/s");
    println!("{:<38} {:>9.0} {:>8.1}", "1 node", one.0, one.1);
    println!("{:<38} {:>9.0} {:>8.1}", "3 nodes", three.0, three.1);
    println!("3 nodes / 1 node: {:.2} ({n} transactions of {tx} bytes; all on this machine's one disk and two cores; commit latency: part 1)", three.0 / one.0);

    // Failover, with a replica on every member: those on the members that stay must not notice.
    let gone: Arc<Mutex<Vec<(usize, Instant)>>> = Arc::default();
    for (i, m) in members.iter().enumerate() {
        rt.spawn(watch(m.port, i, Arc::clone(&gone)));
    }
    std::thread::sleep(Duration::from_millis(500));
    let (mut times, mut disconnects) = (Vec::new(), 0);
    for _ in 0..kills {
        let leader = cluster_leader(&members, None);
        let before = gone.lock().unwrap().len();
        members[leader].kill();
        let t = Instant::now();
        cluster_leader(&members, Some(leader));
        times.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(300));
        disconnects += gone.lock().unwrap()[before..].iter().filter(|(i, _)| *i != leader).count();
        members[leader].start();
        rt.spawn(watch(members[leader].port, leader, Arc::clone(&gone)));
    }
    let (p50, p99) = (percentile(&mut times, 0.5), percentile(&mut times, 0.99));
    println!(
        "failover over {kills} leader kills (SIGKILL until another member pulls again): p50 {:.0} ms, p99 {:.0} ms; replicas of the other members disconnected: {disconnects}",
        ms(p50),
        ms(p99)
    );
    drop(members);
    drop(_src);
    let _ = std::fs::remove_dir_all(&w);

    // A new member 1 GiB behind: the two others hold a 1 GiB binlog; it starts empty.
    let w = work_dir("catch-up");
    let (_, big) = synthetic_store(&w.join("probe"), 1, true);
    let (bytes, _) = synthetic_store(&w.join("source"), (1u64 << 30) / big, true);
    let src_port = free_port();
    let _src = binraft(&w.join("source"), src_port, &[]);
    let mut members = cluster_members(&w, src_port);
    members[0].start();
    members[1].start();
    wait_stored(&[&members[0].dir, &members[1].dir], bytes, Duration::from_secs(600));
    let disk = disk_append_pace(&w, bytes);
    let t = Instant::now();
    members[2].start();
    wait_stored(&[&members[2].dir], bytes, Duration::from_secs(600));
    let caught = bytes as f64 / t.elapsed().as_secs_f64() / 1e6;
    println!(
        "a new member catching up on {:.2} GiB: {caught:.0} MB/s, {:.2} of this disk's own sequential pace ({disk:.0} MB/s, 4 MiB and an fdatasync at a time)",
        bytes as f64 / (1u64 << 30) as f64,
        caught / disk
    );
    drop(members);
    let _ = std::fs::remove_dir_all(&w);
}

fn main() {
    // `cargo bench -p binraft --bench replication -- 1 5` runs parts 1 and 5 only.
    let only: Vec<u32> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let part = |n: u32| only.is_empty() || only.contains(&n);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    if let Some(baseline) = std::env::var_os("BINRAFT_BASELINE") {
        return before_after(&rt, PathBuf::from(baseline), 2000);
    }
    if part(1) {
        latency(&rt, 2000);
    }
    if part(2) || part(3) {
        println!("\n2. binraft's ingest ceiling: a binraft serving a synthetic store feeds another over loopback");
        println!("{:<38} {:>9} {:>8}", "", "tx/s", "MB/s");
        ingest(20_000, false);
        let stored = ingest(2_000, true);

        let w = work_dir("fanout");
        let (bytes, _) = synthetic_store(&w.join("store"), 2_000, true);
        let port = free_port();
        let _b = binraft(&w.join("store"), port, &[]);
        let one = fan_out(&rt, port, 2_000, bytes, 1)[0];
        let fifty = fan_out(&rt, port, 2_000, bytes, 50);
        let mean = fifty.iter().sum::<f64>() / fifty.len() as f64;
        let worst = fifty.iter().cloned().fold(f64::MAX, f64::min);
        println!("\n3. fan-out: readers of a {:.0} MB store at once", bytes as f64 / 1e6);
        println!("1 reader: {one:.0} MB/s; 50 readers: mean {mean:.0} MB/s each (worst {worst:.0}), {:.0} MB/s in all", mean * 50.0);
        println!("per-reader throughput with 50 readers / with 1: mean {:.2}, worst {:.2}", mean / one, worst / one);
        // The same store pulled by a reader that keeps nothing: the baseline for part 2.
        println!("\ningest of large transactions / one reader of the same store that does not store: {:.2}", stored / one);
        let disk = disk_append_pace(&w, bytes);
        println!("ingest of large transactions / this disk appending the same bytes, 4 MiB and an fdatasync at a time: {:.2} ({disk:.0} MB/s)", stored / disk);
    }
    if part(4) {
        startup(40);
    }
    if part(5) {
        serving_cost(16);
    }
    if part(6) {
        cluster_part(&rt, 20_000, 20);
    }
}
