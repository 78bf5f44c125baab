//! Golden traces: every built-in lesson, every `docs/examples` file, a busy
//! scene in each metadata mode (smaller than the determinism test's) and the
//! benchmark workload, run to their end, give
//! the event traces whose digests are committed in `tests/golden/`.
//!
//! A refactoring must leave them byte-identical. Where a change of
//! behaviour is intended (a bug fix, with its own test), bless the new
//! traces and say why in the commit:
//!
//! ```sh
//! KAFKASIM_BLESS=1 cargo test -p kafkasim-engine --test golden
//! ```
//!
//! Each trace keeps a digest and line count (`NAME.digest`) and its first
//! lines as readable JSON (`NAME.head.jsonl`), so a difference near the
//! start shows as a diff; the whole actual trace is written under
//! `target/golden/` when it differs.

use std::path::{Path, PathBuf};

use kafkasim_engine::run::golden::{digest_line, traces, EXAMPLES};

/// Lines of each trace kept readable in the repository.
const HEAD_LINES: usize = 200;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn head(trace: &str) -> String {
    trace
        .lines()
        .take(HEAD_LINES)
        .map(|l| l.to_owned() + "\n")
        .collect()
}

/// Where the head of the actual trace first differs from the committed one.
fn first_difference(expected_head: &str, actual: &str) -> String {
    match expected_head
        .lines()
        .zip(actual.lines())
        .position(|(a, b)| a != b)
    {
        Some(i) => format!(
            "line {}:\n  expected {}\n  actual   {}",
            i + 1,
            expected_head.lines().nth(i).unwrap_or(""),
            actual.lines().nth(i).unwrap_or("")
        ),
        None => format!("after line {HEAD_LINES} (the committed head matches)"),
    }
}

/// A new example file is played here too: `EXAMPLES` lists the folder.
#[test]
fn the_examples_traced_are_the_folder_s() {
    let mut stems: Vec<String> = std::fs::read_dir(repo_root().join("docs/examples"))
        .expect("docs/examples")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    stems.sort();
    let listed: Vec<&str> = EXAMPLES.iter().map(|(stem, _)| *stem).collect();
    assert_eq!(
        stems, listed,
        "list each docs/examples file in run::golden::EXAMPLES"
    );
    for (stem, text) in EXAMPLES {
        let on_disk =
            std::fs::read_to_string(repo_root().join(format!("docs/examples/{stem}.json")));
        assert_eq!(on_disk.ok().as_deref(), Some(text));
    }
}

#[test]
fn traces_match_their_committed_digests() {
    let bless = std::env::var_os("KAFKASIM_BLESS").is_some();
    let dir = golden_dir();
    let out = repo_root().join("target/golden");
    let mut differ = Vec::new();
    let all = traces();
    assert!(all.len() >= 15, "{} traces", all.len());
    for (name, trace) in &all {
        assert!(trace.lines().count() > 10, "{name}: a trace with events");
        let digest_path = dir.join(format!("{name}.digest"));
        let head_path = dir.join(format!("{name}.head.jsonl"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&digest_path, digest_line(trace)).unwrap();
            std::fs::write(&head_path, head(trace)).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&digest_path)
            .unwrap_or_else(|_| panic!("{name}: no {digest_path:?}; bless with KAFKASIM_BLESS=1"));
        if expected != digest_line(trace) {
            let expected_head = std::fs::read_to_string(&head_path).unwrap_or_default();
            std::fs::create_dir_all(&out).unwrap();
            let actual = out.join(format!("{name}.jsonl"));
            std::fs::write(&actual, trace).unwrap();
            differ.push(format!(
                "{name}: {} -> {} differs at {}\n  whole trace: {}",
                expected.trim(),
                digest_line(trace).trim(),
                first_difference(&expected_head, trace),
                actual.display()
            ));
        }
    }
    assert!(differ.is_empty(), "traces changed:\n{}", differ.join("\n"));
}
