//! Runs a few of the cheapest example programs and checks their exit status and a key
//! line of their output, so an example that breaks fails the tests.

use std::process::Command;
use std::time::{Duration, Instant};

/// Runs the program at `exe` and checks it exits 0 within `BOUND` and prints `line`.
fn check(exe: &str, line: &str) {
    const BOUND: Duration = Duration::from_secs(60);
    let start = Instant::now();
    let out = Command::new(exe).output().expect("the example starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{exe} exited with {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(start.elapsed() < BOUND, "{exe} took {:?}", start.elapsed());
    assert!(
        stdout.contains(line),
        "{exe} did not print {line:?}:\n{stdout}"
    );
}

#[test]
fn leaks_finds_the_task_timer_and_listener() {
    check(
        env!("CARGO_BIN_EXE_leaks"),
        "leaked task, timer and listener found: yes",
    );
}

#[test]
fn feature_flags_reach_spawned_work() {
    check(
        env!("CARGO_BIN_EXE_feature_flags"),
        "every spawned task and blocking job saw its own request's flags: yes",
    );
}

#[test]
fn request_context_reaches_background_tasks() {
    check(
        env!("CARGO_BIN_EXE_request_context"),
        "background tasks that saw their request's id: 3 of 3",
    );
}
