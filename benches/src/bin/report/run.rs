//! Running the measurements: every criterion bench of the crate, the memory binary and
//! the Node.js peer, each as a subprocess.

use hookrt_benches::QUICK_ENV;
use serde_json::Value;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The criterion bench targets, in the order they run.
pub(crate) const BENCHES: [&str; 6] = [
    "rt_multi_threaded",
    "rt_current_thread",
    "time",
    "net",
    "context",
    "fanout",
];

/// The Node.js peer's modes; the first is the baseline of the others.
pub(crate) const NODE_MODES: [&str; 4] = ["plain", "als", "hooks", "als+hooks"];

/// The workspace root (where `BENCHMARKS.md` goes and `cargo` runs).
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ has a parent")
        .to_path_buf()
}

/// The `cargo` that runs this binary (`$CARGO` under `cargo run`), or the one on PATH.
fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// Runs a command with the workspace root as its directory, output passed through to
/// ours (stdout to stderr, so that stdout keeps only the report); fails on a non-zero
/// exit.
fn run_passthrough(command: &mut Command, what: &str) -> io::Result<()> {
    eprintln!("report: running {what}");
    let status = command
        .current_dir(workspace_root())
        .stdout(io::stderr())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("{what} failed: {status}")))
    }
}

/// `cargo bench -p hookrt-benches --bench <bench> -- --noplot`, shortened by
/// [`QUICK_ENV`] when `quick`.
pub(crate) fn criterion_bench(bench: &str, quick: bool) -> io::Result<()> {
    let mut command = Command::new(cargo());
    command
        .args(["bench", "-p", "hookrt-benches", "--bench", bench, "--"])
        .arg("--noplot");
    if quick {
        command.env(QUICK_ENV, "1");
    } else {
        command.env_remove(QUICK_ENV);
    }
    run_passthrough(&mut command, &format!("cargo bench --bench {bench}"))
}

/// The memory binary (`src/bin/memory.rs`), writing its JSON to `out`.
pub(crate) fn memory(out: &Path) -> io::Result<()> {
    let mut command = Command::new(cargo());
    command
        .args([
            "run",
            "-q",
            "-p",
            "hookrt-benches",
            "--release",
            "--bin",
            "memory",
        ])
        .arg("--")
        .arg("--out")
        .arg(out);
    run_passthrough(&mut command, "the memory measurement (bin memory)")
}

/// One Node.js binary's results: its version and each mode's median.
#[derive(Clone, Debug)]
pub(crate) struct NodeRun {
    /// The binary as given (`node`, or a path from `HOOKRT_NODE_PEERS`).
    pub(crate) binary: String,
    /// `process.version`.
    pub(crate) version: String,
    /// `(mode, median ms)` per mode of [`NODE_MODES`] that ran.
    pub(crate) medians: Vec<(String, f64)>,
}

impl NodeRun {
    /// The median of `mode`, if it ran.
    pub(crate) fn median(&self, mode: &str) -> Option<f64> {
        self.medians
            .iter()
            .find(|(m, _)| m == mode)
            .map(|&(_, ms)| ms)
    }
}

/// The node binaries to run the peer with: `node`, then every entry of
/// `HOOKRT_NODE_PEERS` (separated by `:` or `,`).
pub(crate) fn node_binaries() -> Vec<String> {
    let mut binaries = vec!["node".to_owned()];
    if let Ok(peers) = std::env::var("HOOKRT_NODE_PEERS") {
        binaries.extend(
            peers
                .split([':', ','])
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
        );
    }
    binaries
}

/// Runs `peers/fanout.js` with `binary` in every mode, one process per mode (a hook
/// enabled once stays enabled). `None`, with a warning, when the binary cannot run it.
pub(crate) fn node_peer(binary: &str, quick: bool) -> Option<NodeRun> {
    let script = workspace_root().join("benches/peers/fanout.js");
    let (runs, warmup) = if quick { ("5", "2") } else { ("15", "3") };
    let mut run = NodeRun {
        binary: binary.to_owned(),
        version: String::new(),
        medians: Vec::new(),
    };
    for mode in NODE_MODES {
        eprintln!("report: running {binary} peers/fanout.js --mode {mode}");
        let output = Command::new(binary)
            .arg(&script)
            .args(["--mode", mode, "--runs", runs, "--warmup", warmup])
            .stderr(Stdio::inherit())
            .output();
        let output = match output {
            Ok(output) if output.status.success() => output,
            Ok(output) => {
                eprintln!("report: {binary} --mode {mode} failed: {}", output.status);
                continue;
            }
            Err(e) => {
                eprintln!("report: cannot run {binary}: {e}; skipping this Node.js peer");
                return None;
            }
        };
        let json: Value = match serde_json::from_slice(&output.stdout) {
            Ok(json) => json,
            Err(e) => {
                eprintln!("report: {binary} --mode {mode} printed no JSON: {e}");
                continue;
            }
        };
        if let Some(version) = json["node"].as_str() {
            version.clone_into(&mut run.version);
        }
        if let Some(median) = json["median_ms"].as_f64() {
            run.medians.push((mode.to_owned(), median));
        }
    }
    (!run.medians.is_empty()).then_some(run)
}

/// One line of `command --version`'s output, if it runs.
pub(crate) fn version_of(command: &str) -> Option<String> {
    let output = Command::new(command).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    Some(text.lines().next()?.trim().to_owned()).filter(|v| !v.is_empty())
}
