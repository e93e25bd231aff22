//! A 3-node binraft cluster pulling from a live MariaDB primary, with real MariaDB replicas on
//! a follower (by GTID) and on the leader (by file and position): the leader is killed with
//! SIGKILL in the middle of a stream of transactions. Every replica must end with every
//! transaction exactly once, the three nodes' files must be byte-identical (and the primary's
//! closed files too), and the pull must move to the new leader by itself.

mod common;

use binraft_fixtures::mariadb::{free_port, MariaDb};
use common::*;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const SECRET: &str = "cluster-test-secret";

struct Member {
    id: u64,
    node: Binraft,
    http: u16,
    raft: u16,
    alive: bool,
}

impl Member {
    fn status(&self) -> Result<Value, String> {
        let auth = format!("Basic {}", base64_admin());
        let r = ureq::get(&format!("http://127.0.0.1:{}/v1/status", self.http)).set("Authorization", &auth).timeout(Duration::from_secs(2)).call().map_err(|e| e.to_string())?;
        serde_json::from_str(&r.into_string().map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    }
}

fn base64_admin() -> String {
    // "admin:admin"
    "YWRtaW46YWRtaW4=".to_string()
}

/// Starts `n` members, all pointed at `primary`.
fn cluster(work: &Path, primary: &MariaDb, n: u64, extra: &[String]) -> Vec<Member> {
    let raft: Vec<u16> = (0..n).map(|_| free_port()).collect();
    let peers: String = (1..=n).map(|i| format!("{i}=127.0.0.1:{}", raft[i as usize - 1])).collect::<Vec<_>>().join(",");
    (1..=n).map(|id| member(work, primary, id, &peers, raft[id as usize - 1], extra)).collect()
}

/// Starts member `id` of the cluster `peers` names, its Raft port at `raft`.
fn member(work: &Path, primary: &MariaDb, id: u64, peers: &str, raft: u16, extra: &[String]) -> Member {
    let http = free_port();
    let mut args: Vec<String> = vec![
        "--node-id".into(),
        id.to_string(),
        "--peers".into(),
        peers.to_string(),
        "--http-listen".into(),
        format!("127.0.0.1:{http}"),
        "--cluster-secret".into(),
        SECRET.into(),
        "--primary".into(),
        format!("127.0.0.1:{}", primary.port),
        "--primary-user".into(),
        "repl".into(),
        "--primary-password".into(),
        "s3cret".into(),
        "--primary-heartbeat-ms".into(),
        "500".into(),
        "--primary-connect-retry-s".into(),
        "1".into(),
    ];
    args.extend_from_slice(extra);
    let node = Binraft::start_as(100 + id as u32, &work.join(format!("node{id}")), &work.join(format!("node{id}.log")), &args);
    Member { id, node, http, raft, alive: true }
}

/// An admin's call to a member's API: the status code and the JSON answer.
fn call(m: &Member, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let req = ureq::request(method, &format!("http://127.0.0.1:{}{path}", m.http)).set("Authorization", &format!("Basic {}", base64_admin())).timeout(Duration::from_secs(60));
    let r = match body {
        Some(b) => req.set("Content-Type", "application/json").send_string(b),
        None => req.call(),
    };
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let code = resp.status();
    (code, serde_json::from_str(&resp.into_string().unwrap()).unwrap_or(Value::Null))
}

fn logs(ms: &[Member]) -> String {
    ms.iter().map(|m| format!("--- node {} ---\n{}", m.id, m.node.log())).collect()
}

/// The member that leads and pulls from the primary.
fn wait_leader(ms: &[Member], within: Duration) -> usize {
    let t = Instant::now();
    loop {
        for (i, m) in ms.iter().enumerate().filter(|(_, m)| m.alive) {
            if let Ok(s) = m.status() {
                if s["role"] == "leader" && s["upstream"]["state"] == "Yes" {
                    return i;
                }
            }
        }
        assert!(t.elapsed() < within, "no leader pulling from the primary within {within:?}\n{}", logs(ms));
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until every live member has applied what the leader committed and stores the
/// primary's GTID position.
fn wait_caught_up(ms: &[Member], primary: &MariaDb) {
    let want = primary.sql("SELECT @@gtid_binlog_pos");
    let t = Instant::now();
    loop {
        let statuses: Vec<Value> = ms.iter().filter(|m| m.alive).filter_map(|m| m.status().ok()).collect();
        let all = statuses.len() == ms.iter().filter(|m| m.alive).count();
        let same_pos = statuses.iter().all(|s| s["gtid_binlog_pos"].as_str().is_some_and(|p| sorted(p) == sorted(&want)));
        let applied: Vec<&Value> = statuses.iter().map(|s| &s["applied_index"]).collect();
        if all && same_pos && applied.windows(2).all(|w| w[0] == w[1]) {
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(120), "members not caught up to {want}: {statuses:?}\n{}", logs(ms));
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sorted(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.split(',').map(|x| x.trim().to_string()).filter(|x| !x.is_empty()).collect();
    v.sort();
    v
}

/// The binlog files a member stores, by name, with their bytes.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let index = std::fs::read_to_string(dir.join("binlog.index")).unwrap_or_default();
    index.lines().filter(|l| !l.is_empty()).map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap())).collect()
}

fn stream_of_inserts(p: &MariaDb, table: &str, batches: usize) -> std::thread::JoinHandle<()> {
    p.sql(&format!("CREATE TABLE {table} (id INT PRIMARY KEY, v VARCHAR(20))"));
    let sock = p.dir.join("sock");
    let table = table.to_string();
    std::thread::spawn(move || {
        for batch in 0..batches {
            let sql: String = (0..50).map(|i| format!("INSERT INTO {table} VALUES ({}, 'row {}');", batch * 50 + i, i)).collect();
            let out = std::process::Command::new("mariadb").args(["--no-defaults", "-uroot"]).arg(format!("--socket={}", sock.display())).arg("-e").arg(sql).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
    })
}

#[test]
fn three_nodes_lose_nothing_when_the_leader_is_killed_and_every_replica_converges() {
    let work = work_dir("cluster-kill");
    let p = primary(&work);
    let mut ms = cluster(&work, &p, 3, &[]);
    let leader = wait_leader(&ms, Duration::from_secs(30));
    let follower = (leader + 1) % 3;
    let by_gtid = replica("cluster-r1", 2);
    change_master(&by_gtid, ms[follower].node.port, "MASTER_USE_GTID=slave_pos");
    let by_pos = replica("cluster-r2", 3);
    change_master(&by_pos, ms[leader].node.port, "MASTER_LOG_FILE='primary-bin.000001', MASTER_LOG_POS=4, MASTER_USE_GTID=no");

    let third = (leader + 2) % 3;
    run_workload(&p, &work);
    let writer = stream_of_inserts(&p, "rigtest.stream", 40);
    // The third member frozen a while (SIGSTOP), then thawed: it catches up.
    ms[third].node.signal("STOP");
    std::thread::sleep(Duration::from_millis(400));
    ms[third].node.signal("CONT");
    ms[leader].node.kill9();
    ms[leader].alive = false;
    let killed = Instant::now();
    let new_leader = wait_leader(&ms, Duration::from_secs(30));
    let failover = killed.elapsed();
    eprintln!("failover: node {} killed, node {} pulling again after {failover:?}", ms[leader].id, ms[new_leader].id);
    writer.join().unwrap();
    // The killed node comes back with its data directory and catches up from the log.
    ms[leader].node.restart();
    ms[leader].alive = true;
    p.sql("INSERT INTO rigtest.stream VALUES (100000, 'after the failover')");

    assert_converged(&p, &by_gtid);
    assert_converged(&p, &by_pos);
    assert_eq!(by_gtid.sql("SELECT COUNT(*) FROM rigtest.stream"), "2001");
    wait_caught_up(&ms, &p);

    // A CDC client (python-mysql-replication, MariaDB mode) reading the whole history from the
    // third member gets every transaction once: strict mode numbers each domain from 1.
    let pos = p.sql("SELECT @@gtid_binlog_pos");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/clients/pymysqlreplication_dump.py");
    let out = std::process::Command::new("python3").arg(&script).arg(ms[third].node.port.to_string()).arg("mariadb").env("PMR_PASSWORD", "s3cret").output().unwrap();
    assert!(out.status.success(), "python-mysql-replication: {}", String::from_utf8_lossy(&out.stderr));
    let gtids: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.contains("MariadbGtidEvent")).filter_map(|l| l.split_whitespace().nth(2).map(String::from)).collect();
    let unique: std::collections::BTreeSet<&String> = gtids.iter().collect();
    let want: u64 = pos.split(',').map(|g| g.trim().rsplit('-').next().unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!((gtids.len() as u64, unique.len() as u64), (want, want), "GTIDs received from node {} (of {pos})", ms[third].id);

    assert_same_files(&ms, &p);
}

/// Every member's files are the same bytes, and the primary's closed files are too.
fn assert_same_files(ms: &[Member], p: &MariaDb) {
    let first = assert_members_identical(ms);
    for (name, ours) in &first[..first.len() - 1] {
        let primary_file = std::fs::read(p.data_dir().join(name)).unwrap();
        assert!(*ours == primary_file, "{name} differs from the primary's");
    }
}

/// The members' binlog files are the same, by name and byte for byte: the first member's.
fn assert_members_identical(ms: &[Member]) -> Vec<(String, Vec<u8>)> {
    let first = files(ms[0].node.store());
    assert!(!first.is_empty());
    for m in &ms[1..] {
        let theirs = files(m.node.store());
        assert_eq!(first.iter().map(|f| &f.0).collect::<Vec<_>>(), theirs.iter().map(|f| &f.0).collect::<Vec<_>>(), "node {} lists other files", m.id);
        for ((name, a), (_, b)) in first.iter().zip(&theirs) {
            assert!(a == b, "{name} differs between node 1 and node {} ({} vs {} bytes)", m.id, a.len(), b.len());
        }
    }
    first
}

/// Snapshots every 20 entries, so the log is purged while a member is down and its data
/// directory wiped: it comes back by a snapshot (the files it lacks), then the log.
#[test]
fn a_member_whose_data_directory_is_wiped_comes_back_by_snapshot() {
    let work = work_dir("cluster-snapshot");
    let p = primary(&work);
    let mut ms = cluster(&work, &p, 3, &["--raft-snapshot-entries".into(), "20".into()]);
    let leader = wait_leader(&ms, Duration::from_secs(30));
    let victim = (leader + 1) % 3;
    run_workload(&p, &work);
    wait_caught_up(&ms, &p);
    ms[victim].node.kill9();
    ms[victim].alive = false;
    std::fs::remove_dir_all(ms[victim].node.store()).unwrap();
    stream_of_inserts(&p, "rigtest.stream", 10).join().unwrap();
    ms[victim].node.restart();
    ms[victim].alive = true;
    wait_caught_up(&ms, &p);
    let log = ms[victim].node.log();
    assert!(log.contains("snapshot installed"), "node {} did not come back by snapshot:\n{}", ms[victim].id, logs(&ms));
    assert_same_files(&ms, &p);
    // It serves what it received: a replica reads the whole history from it.
    let r = replica("cluster-snapshot-r1", 4);
    change_master(&r, ms[victim].node.port, "MASTER_LOG_FILE='primary-bin.000001', MASTER_LOG_POS=4, MASTER_USE_GTID=no");
    assert_converged(&p, &r);
    assert_eq!(r.sql("SELECT COUNT(*) FROM rigtest.stream"), "500");
}

/// A 4th node added as a learner through a follower's API (forwarded to the leader) while the
/// primary writes: it joins without bootstrapping, catches up by snapshot and the log, serves a
/// replica, and does not vote. Changes that cannot be made are refused with the reason.
#[test]
fn a_learner_added_mid_stream_catches_up_by_snapshot_and_serves_a_replica() {
    let work = work_dir("cluster-learner");
    let p = primary(&work);
    let extra = ["--raft-snapshot-entries".to_string(), "20".to_string()];
    let mut ms = cluster(&work, &p, 3, &extra);
    let leader = wait_leader(&ms, Duration::from_secs(30));
    let follower = (leader + 1) % 3;
    run_workload(&p, &work);
    let writer = stream_of_inserts(&p, "rigtest.stream", 10);
    // The learner must need a snapshot: every voter has purged the start of its log.
    let t = Instant::now();
    while !ms.iter().all(|m| m.status().is_ok_and(|s| s["purged_index"].as_u64().is_some())) {
        assert!(t.elapsed() < Duration::from_secs(60), "the voters never purged their logs:\n{}", logs(&ms));
        std::thread::sleep(Duration::from_millis(50));
    }
    let raft4 = free_port();
    let peers: String = ms.iter().map(|m| format!("{}=127.0.0.1:{},", m.id, m.raft)).collect::<String>() + &format!("4=127.0.0.1:{raft4}");
    ms.push(member(&work, &p, 4, &peers, raft4, &extra));
    let (code, answer) = call(&ms[follower], "POST", "/v1/members", Some(&format!(r#"{{"node_id": 4, "addr": "127.0.0.1:{raft4}"}}"#)));
    assert_eq!(code, 200, "{answer}\n{}", logs(&ms));
    writer.join().unwrap();
    wait_caught_up(&ms, &p);
    let s4 = ms[3].status().unwrap();
    assert_eq!(s4["role"], "learner", "{s4}");
    let (code, answer) = call(&ms[3], "GET", "/v1/ready", None);
    assert_eq!(code, 200, "{answer}");
    let log4 = ms[3].node.log();
    assert!(log4.contains("snapshot installed") && log4.contains("catching up by snapshot: file received"), "the learner did not start from a snapshot:\n{log4}");
    assert_eq!(s4["catching_up"], Value::Null, "{s4}");
    assert!(!ms[3].node.log().contains("bootstrapped"), "the learner bootstrapped a cluster of its own:\n{}", ms[3].node.log());
    assert_same_files(&ms, &p);
    let r = replica("cluster-learner-r1", 4);
    change_master(&r, ms[3].node.port, "MASTER_USE_GTID=slave_pos");
    assert_converged(&p, &r);

    // What cannot be done is refused, with the reason.
    let (code, answer) = call(&ms[0], "POST", &format!("/v1/members/{}/promote", ms[leader].id), None);
    assert_eq!((code, answer["error"].as_str().is_some_and(|e| e.contains("voter already"))), (409, true), "{answer}");
    let (code, answer) = call(&ms[0], "DELETE", "/v1/members/9", None);
    assert_eq!((code, answer["error"].as_str().is_some_and(|e| e.contains("not a member"))), (409, true), "{answer}");
    let (code, answer) = call(&ms[0], "POST", "/v1/members", Some("{\"node_id\": 0}"));
    assert_eq!(code, 400, "{answer}");
    // The same through admin SQL, on a follower: refused with the reason, then the learner
    // leaves; the voters go on.
    let refused = admin_sql(&ms[follower], &format!("BINRAFT PROMOTE {}", ms[leader].id)).unwrap_err();
    assert!(refused.contains("voter already"), "{refused}");
    assert!(admin_sql(&ms[follower], "BINRAFT ADD LEARNER 5 'nowhere'").unwrap_err().contains("HOST:PORT"));
    admin_sql(&ms[follower], "BINRAFT REMOVE 4").unwrap();
    let s = ms[leader].status().unwrap();
    assert_eq!(s["learners"], serde_json::json!([]), "{s}");
}

#[test]
fn strangers_and_bad_calls_are_refused_and_the_cluster_goes_on() {
    let work = work_dir("cluster-refuse");
    let p = primary(&work);
    let ms = cluster(&work, &p, 3, &[]);
    let leader = wait_leader(&ms, Duration::from_secs(30));

    // Prometheus metrics, for an admin.
    let text = ureq::get(&format!("http://127.0.0.1:{}/metrics", ms[leader].http)).set("Authorization", &format!("Basic {}", base64_admin())).call().unwrap().into_string().unwrap();
    assert!(text.contains("binraft_raft_leader 1") && text.contains("binraft_upstream_running 1") && text.contains("binraft_raft_voters 3"), "{text}");
    let r = ureq::get(&format!("http://127.0.0.1:{}/metrics", ms[leader].http)).call();
    assert!(matches!(r, Err(ureq::Error::Status(401, _))), "{r:?}");

    // The status API wants an admin's credentials.
    let r = ureq::get(&format!("http://127.0.0.1:{}/v1/status", ms[0].http)).call();
    assert!(matches!(r, Err(ureq::Error::Status(401, _))), "{r:?}");
    let wrong = format!("Basic {}", "YWRtaW46bm9wZQ=="); // admin:nope
    let r = ureq::get(&format!("http://127.0.0.1:{}/v1/status", ms[0].http)).set("Authorization", &wrong).call();
    assert!(matches!(r, Err(ureq::Error::Status(401, _))), "{r:?}");

    // A node of another cluster (another secret) that claims to be node 1 is refused, logged,
    // and changes nothing.
    let status = ms[leader].status().unwrap();
    let term = status["term"].clone();
    let stranger_raft = free_port();
    let stranger_peers = format!("1=127.0.0.1:{stranger_raft},2=127.0.0.1:{},3=127.0.0.1:{}", ms[1].raft, ms[2].raft);
    let stranger = Binraft::start_as(
        199,
        &work.join("stranger"),
        &work.join("stranger.log"),
        &["--node-id".into(), "1".into(), "--peers".into(), stranger_peers, "--cluster-secret".into(), "another-cluster-secret".into()],
    );
    let t = Instant::now();
    while !ms[1..].iter().any(|m| m.node.log().contains("does not know the cluster secret")) {
        assert!(t.elapsed() < Duration::from_secs(20), "no member logged the stranger\n{}\n--- stranger ---\n{}", logs(&ms), stranger.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(stranger.log().contains("refused this node") || stranger.log().contains("does not know the cluster secret"), "{}", stranger.log());
    let after = ms[wait_leader(&ms, Duration::from_secs(10))].status().unwrap();
    assert_eq!(after["term"], term, "the stranger disturbed the cluster: {after}");

    // With one voter down, removing another would stop the cluster: refused, with the reason.
    let mut ms = ms;
    let (a, b) = ((leader + 1) % 3, (leader + 2) % 3);
    ms[a].node.kill9();
    ms[a].alive = false;
    std::thread::sleep(Duration::from_secs(4));
    let (code, answer) = call(&ms[leader], "DELETE", &format!("/v1/members/{}", ms[b].id), None);
    assert_eq!(code, 409, "{answer}");
    assert!(answer["error"].as_str().is_some_and(|e| e.contains("fewer than a majority")), "{answer}");
    assert_eq!(ms[leader].status().unwrap()["members"].as_array().map(Vec::len), Some(3));

    // Settings that cannot make a member are refused before anything starts.
    let out = binraft(&["run", "--data-dir", &work.join("bad").display().to_string(), "--node-id", "4", "--peers", "1=127.0.0.1:1,2=127.0.0.1:2", "--cluster-secret", SECRET]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("node_id 4 is not one of the peers"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = binraft(&["run", "--data-dir", &work.join("bad").display().to_string(), "--node-id", "1", "--peers", "1=127.0.0.1:1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cluster_secret"), "{}", String::from_utf8_lossy(&out.stderr));
    // A single node's store (files, no cluster state) is not taken over: its files would go.
    std::fs::create_dir_all(work.join("single")).unwrap();
    let single = store_of_captures(&work.join("single"));
    let before = files(&single);
    let out = binraft(&["run", "--data-dir", &single.display().to_string(), "--node-id", "1", "--peers", "1=127.0.0.1:1", "--cluster-secret", SECRET]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("a single node's store"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(files(&single) == before, "the single node's files changed");
}


/// Lossless semi-sync through the cluster: binraft ACKs a transaction to the primary only once
/// a majority holds it durably. With both followers frozen the primary's commit waits (an ACK
/// sent on the leader's own fsync would let it return); thawed, it returns, ACKed. Then a
/// rolling restart of every member under load: every commit that returned is on the replica.
#[test]
fn semi_sync_acks_wait_for_a_majority_and_survive_a_rolling_restart() {
    let work = work_dir("cluster-semisync");
    let p = MariaDb::start(
        "cluster-semisync-primary",
        &[
            "--log-bin=primary-bin".into(),
            "--server-id=1".into(),
            "--binlog-format=ROW".into(),
            "--gtid-strict-mode=1".into(),
            "--rpl-semi-sync-master-enabled=ON".into(),
            "--rpl-semi-sync-master-wait-point=AFTER_SYNC".into(),
            "--rpl-semi-sync-master-timeout=20000".into(),
        ],
    );
    p.sql("CREATE USER repl@'%' IDENTIFIED BY 's3cret'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO repl@'%'");
    let mut ms = cluster(&work, &p, 3, &[]);
    let leader = wait_leader(&ms, Duration::from_secs(30));
    let stat = |name: &str| p.sql(&format!("SHOW GLOBAL STATUS LIKE '{name}'")).split('\t').nth(1).unwrap_or("").to_string();
    let t = Instant::now();
    while stat("Rpl_semi_sync_master_clients") != "1" {
        assert!(t.elapsed() < Duration::from_secs(20), "the leader never became a semi-sync client\n{}", logs(&ms));
        std::thread::sleep(Duration::from_millis(100));
    }
    p.sql("CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY)");
    // The primary waits for ACKs only once its semi-sync is on: that is when a semi-sync replica
    // has caught up with it (until then a commit would return at once, ACK or not).
    let t = Instant::now();
    while stat("Rpl_semi_sync_master_status") != "ON" {
        assert!(t.elapsed() < Duration::from_secs(20), "the primary's semi-sync never came on\n{}", logs(&ms));
        std::thread::sleep(Duration::from_millis(100));
    }
    wait_caught_up(&ms, &p);
    p.sql("FLUSH STATUS");

    let followers: Vec<usize> = (0..3).filter(|i| *i != leader).collect();
    for &f in &followers {
        ms[f].node.signal("STOP");
    }
    let sock = p.dir.join("sock");
    let insert = std::thread::spawn(move || {
        let t = Instant::now();
        let out = std::process::Command::new("mariadb").args(["--no-defaults", "-uroot"]).arg(format!("--socket={}", sock.display())).arg("-e").arg("INSERT INTO d.t VALUES (1)").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        t.elapsed()
    });
    std::thread::sleep(Duration::from_secs(3));
    if insert.is_finished() {
        let r = insert.join();
        panic!("the commit returned ({r:?}) while no follower could hold it: an ACK left before a majority had it (Rpl_semi_sync_master_status {}, yes_tx {})", stat("Rpl_semi_sync_master_status"), stat("Rpl_semi_sync_master_yes_tx"));
    }
    for &f in &followers {
        ms[f].node.signal("CONT");
    }
    let waited = insert.join().unwrap();
    assert!(waited >= Duration::from_secs(3) && waited < Duration::from_secs(20), "the commit waited {waited:?}");
    assert_eq!(stat("Rpl_semi_sync_master_no_tx"), "0", "a commit went without an ACK");

    // Every member restarted in turn, the primary writing all along.
    let r = replica("cluster-semisync-r1", 2);
    change_master(&r, ms[followers[0]].node.port, "MASTER_USE_GTID=slave_pos");
    let sock = p.dir.join("sock");
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = std::sync::Arc::clone(&done);
    let writer = std::thread::spawn(move || {
        let mut committed = 0u32;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let id = 1000 + committed;
            let out = std::process::Command::new("mariadb").args(["--no-defaults", "-uroot"]).arg(format!("--socket={}", sock.display())).arg("-e").arg(format!("INSERT INTO d.t VALUES ({id})")).output().unwrap();
            if out.status.success() {
                committed += 1;
            }
        }
        committed
    });
    for i in 0..3 {
        ms[i].node.kill9();
        ms[i].alive = false;
        std::thread::sleep(Duration::from_millis(500));
        ms[i].node.restart();
        ms[i].alive = true;
        wait_leader(&ms, Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(500));
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let committed = writer.join().unwrap();
    assert!(committed > 0);
    assert_eq!(stat("Rpl_semi_sync_master_no_tx"), "0", "a commit went without an ACK during the restarts");
    wait_caught_up(&ms, &p);
    // The replica was on a member that was restarted too: it reconnects by itself.
    let want = p.sql("SELECT @@gtid_binlog_pos");
    wait_for(&r, &format!("gtid_slave_pos {want}"), |db| sorted(&db.sql("SELECT @@gtid_slave_pos")) == sorted(&want));
    assert_eq!(r.sql("SELECT COUNT(*) FROM d.t WHERE id >= 1000"), committed.to_string(), "a commit that returned is missing on the replica");
    assert_same_files(&ms, &p);
}

/// Runs `sql` as the admin on a member's MySQL port.
fn admin_sql(m: &Member, sql: &str) -> Result<String, String> {
    sql_as(m.node.port, "admin", "admin", sql)
}

fn wait_upstream(ms: &[Member], state: &str) -> usize {
    wait_member(ms, &format!("the leader's upstream never became {state}"), |s| s["role"] == "leader" && s["upstream"]["state"] == state)
}

/// Calls `f` until it gives something, every `step`; fails with `why()` after `within`.
fn poll<T>(within: Duration, step: Duration, mut f: impl FnMut() -> Option<T>, why: impl Fn() -> String) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(t.elapsed() < within, "{}", why());
        std::thread::sleep(step);
    }
}

/// The first live member whose status satisfies `ok`, within 30 s.
fn wait_member(ms: &[Member], what: &str, ok: impl Fn(&Value) -> bool) -> usize {
    let found = || ms.iter().enumerate().filter(|(_, m)| m.alive).find(|(_, m)| m.status().is_ok_and(|s| ok(&s))).map(|(i, _)| i);
    poll(Duration::from_secs(30), Duration::from_millis(50), found, || format!("{what}\n{}", logs(ms)))
}

/// CHANGE MASTER TO and START / STOP SLAVE asked of a follower go through the log: every
/// member saves the settings, the leader acts on them, and a new leader keeps them (the
/// --primary flags a member restarts with do not undo them).
#[test]
fn change_master_and_stop_slave_on_any_member_hold_for_the_whole_cluster() {
    let work = work_dir("cluster-settings");
    let p = primary(&work);
    let mut ms = cluster(&work, &p, 3, &[]);
    let leader = wait_leader(&ms, Duration::from_secs(30));
    let follower = (leader + 1) % 3;
    // STOP SLAVE through the HTTP API; a change while running refused first, with the errno.
    let (code, answer) = call(&ms[follower], "POST", "/v1/upstream", Some(r#"{"heartbeat_ms": 2000}"#));
    assert_eq!((code, answer["errno"].as_u64()), (409, Some(1198)), "{answer}");
    let (code, answer) = call(&ms[follower], "POST", "/v1/upstream", Some(r#"{"heartbeat": 2}"#));
    assert_eq!(code, 400, "{answer}");
    let (code, answer) = call(&ms[follower], "POST", "/v1/upstream/stop", None);
    assert_eq!(code, 200, "{answer}");
    assert_eq!(wait_upstream(&ms, "No"), leader);
    admin_sql(&ms[follower], "CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD=2").unwrap();
    for m in &ms {
        let t = Instant::now();
        while !std::fs::read_to_string(m.node.store().join("replication.toml")).unwrap_or_default().contains("heartbeat_ms = 2000") {
            assert!(t.elapsed() < Duration::from_secs(10), "node {} did not save the cluster's settings", m.id);
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // A statement binraft cannot carry out is refused with the server's error.
    let refused = admin_sql(&ms[follower], "CHANGE MASTER TO MASTER_LOG_POS=4").unwrap_err();
    assert!(refused.contains("1064"), "{refused}");
    let (code, answer) = call(&ms[(leader + 2) % 3], "POST", "/v1/upstream/start", None);
    assert_eq!(code, 200, "{answer}");
    wait_upstream(&ms, "Yes");
    p.sql("CREATE DATABASE after_start; CREATE TABLE after_start.t (id INT PRIMARY KEY); INSERT INTO after_start.t VALUES (1)");
    wait_caught_up(&ms, &p);

    // The leader dies; the next one pulls with the cluster's settings, and a restarted member
    // keeps them although its flags name the primary again.
    ms[leader].node.kill9();
    ms[leader].alive = false;
    wait_upstream(&ms, "Yes");
    ms[leader].node.restart();
    ms[leader].alive = true;
    assert!(std::fs::read_to_string(ms[leader].node.store().join("replication.toml")).unwrap().contains("heartbeat_ms = 2000"));
    p.sql("INSERT INTO after_start.t VALUES (2)");
    wait_caught_up(&ms, &p);
}

/// The primary fails over: its MariaDB replica (a binlog of its own names and positions) is
/// promoted, and binraft is pointed at it with CHANGE MASTER TO on a follower. binraft checks
/// that the new primary holds everything it holds (a primary that does not is refused, with
/// the GTIDs it lacks), goes on in a file of its own numbering after a ROTATE of its own, and
/// its replicas, by GTID and by file and position, follow without being touched, across a
/// leader kill after the switch.
#[test]
fn the_cluster_follows_the_primarys_failover_to_a_promoted_replica() {
    let work = work_dir("cluster-failover");
    let p = primary(&work);
    let standby = MariaDb::start(
        "cluster-failover-standby",
        &["--log-bin=standby-bin".into(), "--log-slave-updates".into(), "--server-id=9".into(), "--binlog-format=ROW".into(), "--gtid-strict-mode=1".into(), "--max-allowed-packet=1G".into()],
    );
    change_master(&standby, p.port, "MASTER_USE_GTID=slave_pos");
    let mut ms = cluster(&work, &p, 3, &["--primary-use-gtid".into()]);
    let leader = wait_leader(&ms, Duration::from_secs(30));
    let (a, b) = ((leader + 1) % 3, (leader + 2) % 3);
    let by_gtid = replica("cluster-failover-r1", 2);
    change_master(&by_gtid, ms[a].node.port, "MASTER_USE_GTID=slave_pos");
    let by_pos = replica("cluster-failover-r2", 3);
    change_master(&by_pos, ms[b].node.port, "MASTER_LOG_FILE='primary-bin.000001', MASTER_LOG_POS=4, MASTER_USE_GTID=no");
    run_workload(&p, &work);
    p.sql("FLUSH BINARY LOGS; CREATE TABLE rigtest.before_failover (id INT PRIMARY KEY); INSERT INTO rigtest.before_failover VALUES (1)");
    wait_caught_up(&ms, &p);
    let want = p.sql("SELECT @@gtid_binlog_pos");
    wait_for(&standby, "the standby caught up", |db| sorted(&db.sql("SELECT @@gtid_slave_pos")) == sorted(&want));
    let before = files(ms[a].node.store());
    let last_before = before.last().unwrap().0.clone();

    // A server that is not a replica of the primary lacks binraft's transactions: refused, with
    // them, and nothing is stored from it.
    let stranger = MariaDb::start("cluster-failover-stranger", &["--log-bin=stranger-bin".into(), "--server-id=7".into(), "--gtid-strict-mode=1".into()]);
    stranger.sql("CREATE USER repl@'%' IDENTIFIED BY 's3cret'; GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO repl@'%'");
    let refused = admin_sql(&ms[a], &format!("STOP SLAVE; CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USE_GTID=no", stranger.port)).unwrap_err();
    assert!(refused.contains("1064") && refused.contains("GTID"), "{refused}");
    admin_sql(&ms[a], &format!("CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}; START SLAVE", stranger.port)).unwrap();
    let t = Instant::now();
    loop {
        let l = wait_leader_any(&ms);
        let up = &ms[l].status().unwrap()["upstream"];
        if up["last_error"].as_str().is_some_and(|e| e.contains("lacks transactions binraft holds")) {
            assert!(up["last_error"].as_str().unwrap().contains(want.split(',').next().unwrap()), "{up}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "the stranger was not refused: {up}\n{}", logs(&ms));
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(files(ms[a].node.store()) == before, "something was stored from a primary that lacks binraft's history");
    drop(stranger);

    // The primary dies; its replica is promoted; binraft follows it.
    drop(p);
    standby.sql("STOP SLAVE; RESET SLAVE ALL");
    admin_sql(&ms[a], &format!("STOP SLAVE; CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}; START SLAVE", standby.port)).unwrap();
    let writer = stream_of_inserts(&standby, "rigtest.after_failover", 6);
    writer.join().unwrap();
    standby.sql("FLUSH BINARY LOGS; SET SESSION gtid_domain_id=2; INSERT INTO rigtest.before_failover VALUES (2); SET SESSION gtid_domain_id=0; INSERT INTO rigtest.before_failover VALUES (3)");
    wait_caught_up(&ms, &standby);
    // The next leader goes on from there, in a file of its own again.
    let leader = wait_leader(&ms, Duration::from_secs(30));
    ms[leader].node.kill9();
    ms[leader].alive = false;
    let writer = stream_of_inserts(&standby, "rigtest.after_kill", 4);
    writer.join().unwrap();
    ms[leader].node.restart();
    ms[leader].alive = true;
    wait_caught_up(&ms, &standby);
    assert_converged(&standby, &by_gtid);
    assert_converged(&standby, &by_pos);
    assert_eq!(by_pos.sql("SELECT COUNT(*) FROM rigtest.after_failover"), "300");

    // binraft's files: the old primary's, byte for byte, then its own numbering; every member
    // holds the same; and mariadb-binlog reads them all with their checksums checked.
    let after = assert_members_identical(&ms);
    assert!(after[..before.len() - 1] == before[..before.len() - 1], "files from before the failover changed");
    let names: Vec<&str> = after.iter().map(|f| f.0.as_str()).collect();
    let first_own = names.iter().position(|n| *n == last_before).unwrap() + 1;
    assert!(names.len() >= first_own + 3, "a file per session and per rotation of the new primary: {names:?}");
    for w in names[first_own - 1..].windows(2) {
        let n = |s: &str| s.rsplit_once('.').unwrap().1.parse::<u32>().unwrap();
        assert!(w[1].starts_with("primary-bin.") && n(w[1]) == n(w[0]) + 1, "not binraft's numbering: {names:?}");
    }
    let mut cmd = std::process::Command::new("mariadb-binlog");
    cmd.arg("--verify-binlog-checksum").arg("--base64-output=never");
    for n in &names[first_own - 1..] {
        cmd.arg(ms[a].node.store().join(n));
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "mariadb-binlog: {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Rotate to primary-bin.") && text.contains("Gtid list") && text.contains("Binlog checkpoint"), "{text}");
}

/// Whichever member leads now, pulling or not.
fn wait_leader_any(ms: &[Member]) -> usize {
    wait_member(ms, "no leader", |s| s["role"] == "leader")
}

/// The names in a member's binlog index.
fn index_of(m: &Member) -> Vec<String> {
    std::fs::read_to_string(m.node.store().join("binlog.index")).unwrap_or_default().lines().filter(|l| !l.is_empty()).map(String::from).collect()
}

fn wait_indexes(ms: &[Member], what: &str, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
    let indexes = || ms.iter().map(index_of).collect::<Vec<_>>();
    let same = || Some(indexes()).filter(|all| all.windows(2).all(|w| w[0] == w[1]) && ok(&all[0])).map(|all| all[0].clone());
    poll(Duration::from_secs(60), Duration::from_millis(100), same, || format!("{what}: the members' files are {:?}\n{}", indexes(), logs(ms)))
}

/// PURGE BINARY LOGS and the retention settings hold for the whole cluster: what is purged goes
/// on every member (through the log), never a file a replica of any member still reads.
#[test]
fn purge_and_retention_go_through_the_log_and_spare_what_any_replica_reads() {
    let work = work_dir("cluster-purge");
    let p = primary(&work);
    let mut ms = cluster(&work, &p, 3, &["--binlog-keep-files".into(), "4".into()]);
    let leader = wait_leader(&ms, Duration::from_secs(30));
    let (a, b) = ((leader + 1) % 3, (leader + 2) % 3);
    run_workload(&p, &work);
    wait_caught_up(&ms, &p);
    let names = index_of(&ms[leader]);
    assert!(names.len() >= 5, "{names:?}");
    // A reader on node b that stops reading early in the history (nobody reads its output, so
    // it stops reading once the pipe is full): its dump waits in the second file, whose 35 MB
    // fill the socket's buffers.
    let mut stuck = std::process::Command::new("mariadb-binlog")
        .args(["--no-defaults", "--read-from-remote-server", "--stop-never", "-h127.0.0.1", "-urepl", "-ps3cret"])
        .arg(format!("-P{}", ms[b].node.port))
        .arg(&names[0])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    p.sql("FLUSH BINARY LOGS; CREATE TABLE rigtest.flushed (id INT PRIMARY KEY); FLUSH BINARY LOGS; INSERT INTO rigtest.flushed VALUES (1)");
    wait_caught_up(&ms, &p);
    // Retention wants the oldest ones gone; the reader holds them back.
    std::thread::sleep(Duration::from_secs(3));
    let held = wait_indexes(&ms, "retention stopped at the file read on node b", |f| f.len() > 4);
    let read = held[0].clone();
    let refused = admin_sql(&ms[a], &format!("PURGE BINARY LOGS TO '{}'", held[held.len() - 1])).unwrap_err();
    assert!(refused.contains("1378") && refused.contains(&read), "{refused}");
    // The reader goes: retention purges on every member, down to 4 files.
    let _ = stuck.kill();
    let _ = stuck.wait();
    let kept = wait_indexes(&ms, "retention keeps 4 files", |f| f.len() == 4);
    // The index goes first (durably), then the files: a crash in between leaves a file no
    // index names, never an index naming a missing file.
    let gone = &held[..held.len() - 4];
    let left = || ms.iter().flat_map(|m| gone.iter().filter(|g| m.node.store().join(g).exists()).map(move |g| format!("{g} on node {}", m.id))).collect::<Vec<_>>();
    poll(Duration::from_secs(30), Duration::from_millis(50), || Some(()).filter(|_| left().is_empty()), || format!("purged files still on members: {:?}", left()));
    // PURGE on a follower: every member purges; a restarted member keeps them purged.
    let (code, answer) = call(&ms[a], "POST", "/v1/purge", Some(&format!(r#"{{"to": "{}"}}"#, kept[3])));
    assert_eq!(code, 200, "{answer}");
    let (code, answer) = call(&ms[a], "POST", "/v1/purge", Some(r#"{"to": "nowhere.000001"}"#));
    assert_eq!((code, answer["errno"].as_u64()), (409, Some(1373)), "{answer}");
    wait_indexes(&ms, "PURGE TO the last file on every member", |f| f == &kept[3..]);
    ms[b].node.kill9();
    ms[b].node.restart();
    p.sql("CREATE TABLE rigtest.after_purge (id INT PRIMARY KEY); INSERT INTO rigtest.after_purge VALUES (1)");
    wait_caught_up(&ms, &p);
    assert_eq!(wait_indexes(&ms, "after a restart", |f| f.len() == 1), kept[3..]);
    assert_members_identical(&ms);
    let r = replica("cluster-purge-r1", 2);
    r.sql(&format!("SET GLOBAL gtid_slave_pos='{}'", p.sql("SELECT @@gtid_binlog_pos")));
    change_master(&r, ms[b].node.port, "MASTER_USE_GTID=slave_pos");
    p.sql("CREATE DATABASE after_replica; CREATE TABLE after_replica.t (id INT PRIMARY KEY); INSERT INTO after_replica.t VALUES (1)");
    wait_for(&r, "the row written after it started", |db| db.try_sql("SELECT COUNT(*) FROM after_replica.t").is_ok_and(|c| c.trim() == "1"));
}
