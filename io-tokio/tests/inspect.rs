//! `binraft inspect` as a user runs it: on corpus files, with each output mode, and on bad input.

use binraft_fixtures::corpus_dir;
use std::process::Command;

fn inspect(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_binraft")).arg("inspect").args(args).output().expect("run binraft");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn corpus(rel: &str) -> String {
    corpus_dir().join(rel).display().to_string()
}

#[test]
fn lines_show_offsets_gtids_and_row_values() {
    let (code, out, err) = inspect(&[&corpus("local-mariadb-10.11/binlog.000002")]);
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().next().unwrap().starts_with("#4 Format_desc "), "{out}");
    assert!(out.contains(" Gtid ") && out.contains("gtid=0-1-15"), "{out}");
    assert!(out.contains("### INSERT INTO `rigtest`.`t1`"), "{out}");
}

#[test]
fn json_lines_parse_and_carry_the_same_facts() {
    let (code, out, _) = inspect(&["--json", &corpus("Percona-Lab-percona-binlog-server/data_80045_gtid/binlog.000001")]);
    assert_eq!(code, 0);
    let events: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    assert_eq!(events[0]["type"], "Format_desc");
    assert_eq!(events[0]["server_version"], "8.0.45");
    assert!(events.iter().any(|e| e["type"] == "Write_rows" && e["row_lines"].as_array().is_some_and(|r| !r.is_empty())));
}

#[test]
fn stats_count_events_per_type() {
    let file = corpus("zalora-binlog-parser/mysql-bin.07");
    let (code, out, _) = inspect(&["--stats", &file]);
    assert_eq!(code, 0);
    assert!(out.contains("Gtid_list (163)"), "{out}");
    // Event bytes add up to the file less its 4-byte magic; corpus.tsv counts 11 events.
    let total: Vec<&str> = out.lines().find(|l| l.trim_start().starts_with("total")).expect("total line").split_whitespace().collect();
    let size = std::fs::metadata(&file).unwrap().len();
    assert_eq!(total, ["total", "11", &(size - 4).to_string()]);
}

#[test]
fn verify_names_the_first_bad_event_and_fails() {
    let good = corpus("osheroff-mysql-binlog-connector-java/mysql-bin.sakila.gz");
    let bad = corpus("blackbeam-rust_mysql_common/corrupt-relay-bin.000624");
    let (code, out, err) = inspect(&["--verify", &good, &bad]);
    assert_eq!(code, 1);
    assert!(out.contains("mysql-bin.sakila.gz: ok, 1462 events"), "{out}");
    assert!(err.contains("corrupt-relay-bin.000624: at 91204: malformed Query(2) event"), "{err}");
}

#[test]
fn a_file_that_is_not_a_binlog_gets_one_line() {
    let (code, out, err) = inspect(&[&corpus("zalora-binlog-parser/01.json")]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a binlog: expected magic fe 62 69 6e"), "{err}");
    let (code, _, err) = inspect(&["/nonexistent/binlog.000001"]);
    assert_eq!(code, 1);
    assert!(err.contains("No such file"), "{err}");
}

#[test]
fn a_checksum_error_is_reported_with_both_values() {
    let mut bytes = std::fs::read(corpus("local-mariadb-10.11/binlog.000002")).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0xff;
    let path = std::env::temp_dir().join(format!("binraft-inspect-crc-{}", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let (code, _, err) = inspect(&["--verify", &path.display().to_string()]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(code, 1);
    assert!(err.contains("bad checksum in") && err.contains("computed 0x") && err.contains("stored 0x"), "{err}");
}
