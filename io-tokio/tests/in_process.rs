//! The node as a library: started in-process with `server::start` over core's in-memory disk
//! (the simulator's disk) and a listener of the test's own, then read by a real client,
//! `mariadb-binlog --read-from-remote-server --raw`, which must get the primary's files back
//! byte for byte.

use binraft::config::Args;
use binraft_core::store::index::summarize;
use binraft_core::store::{MemDisk, Store};
use binraft_fixtures::{captured_files, read_binlog};
use std::process::Command;
use std::sync::Arc;

#[test]
fn a_node_started_in_process_over_a_memory_disk_serves_its_files_byte_for_byte() {
    // The store on the memory disk: the captures, as `binraft import` adds them.
    let disk = MemDisk::new();
    let mut files = Vec::new();
    {
        let (store, _) = Store::open(Arc::new(disk.clone()), 0).unwrap();
        for path in captured_files() {
            let name = path.file_name().unwrap().to_string_lossy().trim_end_matches(".gz").to_string();
            let bytes = read_binlog(&path);
            store.add_file(&bytes, summarize(&name, &bytes).unwrap()).unwrap();
            files.push((name, bytes));
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let port = listener.local_addr().unwrap().port();
    let args = Args { users: vec!["repl:s3cret".into()], data_dir: Some("in-memory".into()), ..Args::default() };
    let settings = args.resolve().unwrap();
    let node = rt.spawn(binraft::server::start(settings, Arc::new(disk.clone()), listener));

    let out = tempdir("in-process");
    let status = Command::new("mariadb-binlog")
        .args(["--read-from-remote-server", "--raw", "--host=127.0.0.1", "--user=repl", "--password=s3cret", "--to-last-log"])
        .arg(format!("--port={port}"))
        .arg(format!("--result-file={}/", out.display()))
        .arg(&files[0].0)
        .status()
        .expect("mariadb-binlog runs (apt-get install mariadb-client)");
    assert!(status.success(), "mariadb-binlog failed: {status}");
    for (name, bytes) in &files {
        let got = std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(got == *bytes, "{name}: {} bytes served, {} stored", got.len(), bytes.len());
    }
    assert!(!node.is_finished(), "the node keeps serving");
    node.abort();
    let _ = std::fs::remove_dir_all(&out);
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("binraft-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
