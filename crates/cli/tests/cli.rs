//! End-to-end checks of the `kafkasim` binary: Kafka's own example values
//! come out of a real process, and refusals exit 2 with one stderr line.

use serde_json::{json, Value};
use std::process::{Command, Output};

fn kafkasim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(args)
        .output()
        .expect("the kafkasim binary runs")
}

fn stdout_json(args: &[&str]) -> Value {
    let out = kafkasim(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Asserts exit status 2, empty stdout and exactly one stderr line; returns it.
fn failure_line(args: &[&str]) -> String {
    let out = kafkasim(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    assert!(out.stdout.is_empty(), "{args:?}");
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr.trim_end().to_owned()
}

#[test]
fn partition_json_gives_kafka_values() {
    let got = stdout_json(&[
        "partition",
        "--partitions",
        "10",
        "--json",
        "21",
        "foobar",
        "abc",
    ]);
    assert_eq!(
        got,
        json!([
            {"key": "21", "murmur2": -973932308, "partition": 0},
            {"key": "foobar", "murmur2": -790332482, "partition": 6},
            {"key": "abc", "murmur2": 479470107, "partition": 7},
        ])
    );
}

#[test]
fn partition_hex_keys_print_as_given() {
    let got = stdout_json(&["partition", "--partitions", "10", "--hex", "--json", "3231"]);
    assert_eq!(
        got,
        json!([{"key": "3231", "murmur2": -973932308, "partition": 0}])
    );
}

#[test]
fn partition_text_has_a_header_and_a_row_per_key() {
    let out = kafkasim(&["partition", "--partitions", "10", "21", "foobar"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("key"));
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["21", "-973932308", "0"]
    );
    assert_eq!(
        lines[2].split_whitespace().collect::<Vec<_>>(),
        ["foobar", "-790332482", "6"]
    );
    // Aligned: every line is as wide as the header.
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{text}");
}

#[test]
fn place_json_matches_kafka_admin_test() {
    let got = stdout_json(&[
        "place",
        "--brokers",
        "0,1,2,3,4",
        "--partitions",
        "10",
        "--replication-factor",
        "3",
        "--start-index",
        "0",
        "--json",
    ]);
    assert_eq!(
        got,
        json!({
            "0": [0, 1, 2], "1": [1, 2, 3], "2": [2, 3, 4], "3": [3, 4, 0], "4": [4, 0, 1],
            "5": [0, 2, 3], "6": [1, 3, 4], "7": [2, 4, 0], "8": [3, 0, 1], "9": [4, 1, 2],
        })
    );
}

#[test]
fn place_text_reproduces_my_topic() {
    let out = kafkasim(&[
        "place",
        "--brokers",
        "1,2",
        "--partitions",
        "3",
        "--replication-factor",
        "2",
        "--start-index",
        "0",
    ]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "0: [1, 2]  leader 1\n1: [2, 1]  leader 2\n2: [1, 2]  leader 1\n"
    );
}

#[test]
fn place_without_start_index_is_seeded_and_repeatable() {
    let args = [
        "place",
        "--brokers",
        "0,1,2,3,4",
        "--partitions",
        "10",
        "--replication-factor",
        "3",
        "--json",
    ];
    let first = stdout_json(&args);
    assert_eq!(first, stdout_json(&args));
    let mut seeded = args.to_vec();
    seeded.extend(["--seed", "0"]);
    assert_eq!(first, stdout_json(&seeded), "the default seed is 0");
    assert_eq!(first.as_object().unwrap().len(), 10);
}

#[test]
fn replication_factor_above_brokers_is_refused_with_kafka_code() {
    let line = failure_line(&[
        "place",
        "--brokers",
        "0,1,2",
        "--partitions",
        "3",
        "--replication-factor",
        "4",
    ]);
    assert_eq!(line, "error: INVALID_REPLICATION_FACTOR: Replication factor: 4 larger than available brokers: 3.");
}

#[test]
fn zero_partitions_is_refused_with_kafka_code() {
    let line = failure_line(&[
        "place",
        "--brokers",
        "0",
        "--partitions",
        "0",
        "--replication-factor",
        "1",
    ]);
    assert_eq!(
        line,
        "error: INVALID_PARTITIONS: Number of partitions must be larger than 0."
    );
}

#[test]
fn bad_hex_is_an_invalid_request() {
    let line = failure_line(&["partition", "--partitions", "3", "--hex", "0g"]);
    assert!(line.starts_with("error: INVALID_REQUEST: "), "{line}");
}

#[test]
fn usage_mistakes_exit_2() {
    assert!(failure_line(&["partition", "k"]).contains("--partitions"));
    assert!(
        failure_line(&["place", "--partitions", "3", "--replication-factor", "1"])
            .contains("--brokers")
    );
    assert!(failure_line(&["frobnicate"]).contains("unknown subcommand"));
    assert!(failure_line(&[]).contains("missing subcommand"));
}

#[test]
fn help_exits_0() {
    for args in [&["help"][..], &["--help"]] {
        let out = kafkasim(args);
        assert!(out.status.success());
        assert!(String::from_utf8(out.stdout).unwrap().contains("Usage:"));
    }
}

#[test]
fn run_replays_the_documented_example() {
    let out = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args([
            "run",
            "../../docs/examples/my-topic.json",
            "--until",
            "40000",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let partitions = &last["view"]["topics"][0]["partitions"];
    // After broker 1's crash and return, broker 2 leads everything until the
    // periodic preferred-leader election (300 s) moves P0 and P2 back.
    for p in 0..3 {
        assert_eq!(partitions[p]["leader"], 2, "{}", partitions[p]);
        assert_eq!(partitions[p]["isr"].as_array().unwrap().len(), 2);
    }
    assert!(text.lines().count() > 100, "one JSON line per event");
}

#[test]
fn check_accepts_the_example_and_names_what_is_wrong_otherwise() {
    let ok = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(["check", "../../docs/examples/my-topic.json"])
        .output()
        .unwrap();
    assert!(ok.status.success());
    let dir = std::env::temp_dir().join(format!("kafkasim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("{not json", "INVALID_SCENARIO"),
        (
            r#"{"commands": [{"at": 5, "command": "explode"}]}"#,
            "INVALID_SCENARIO",
        ),
        (
            r#"{"commands": [{"at": 100, "command": "create_topic", "name": "bad name!"}]}"#,
            "INVALID_TOPIC_EXCEPTION",
        ),
        (
            r#"{"commands": [{"at": 100, "command": "crash_broker", "broker": 9}]}"#,
            "BROKER_NOT_AVAILABLE",
        ),
    ];
    for (i, (doc, code)) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.json"));
        std::fs::write(&path, doc).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
            .arg("check")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{doc}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with(&format!("error: {code}")), "{doc}: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    let missing = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(["check", "/nonexistent.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
}

fn kafkasim_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the kafkasim binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn assign_reads_the_group_from_stdin() {
    let group = r#"{"topics": {"t1": 3, "t2": 2},
        "members": [{"id": "c1", "topics": ["t1", "t2"]}, {"id": "c2", "topics": ["t1"]}]}"#;
    let out = kafkasim_stdin(&["assign", "--strategy", "range", "--json"], group);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        got,
        json!({"c1": [["t1", 0], ["t1", 1], ["t2", 0], ["t2", 1]], "c2": [["t1", 2]]})
    );
    let bad = kafkasim_stdin(&["assign", "--strategy", "range"], "{");
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
    assert_eq!(String::from_utf8(bad.stderr).unwrap().lines().count(), 1);
}

/// Regression: `kafkasim run … --json | head` panicked on the closed pipe.
#[test]
fn a_reader_that_stops_early_ends_the_run_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let lesson = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../lessons/06-replication.json"
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafkasim"))
        .args(["run", lesson, "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the kafkasim binary runs");
    let mut first = [0u8; 64];
    let mut stdout = child.stdout.take().expect("piped");
    stdout.read_exact(&mut first).expect("some output");
    drop(stdout); // as `head` does once it has its lines
    let out = child.wait_with_output().expect("it ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "status {:?}: {stderr}", out.status);
    assert!(stderr.is_empty(), "nothing on stderr: {stderr}");
}
