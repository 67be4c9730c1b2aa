//! Prints the hookrt/tokio comparison table from criterion's results.
//!
//! ```sh
//! cargo bench -p hookrt-benches --bench rt_multi_threaded
//! cargo run -p hookrt-benches --bin report [CRITERION_DIR]
//! ```
//!
//! The criterion directory is, in order: the first argument, `$CRITERION_HOME`,
//! `$CARGO_TARGET_DIR/criterion`, or `criterion/` in the target directory this binary
//! was built into.

use hookrt_benches::{read_results, Contender, Results};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

fn main() -> ExitCode {
    let dir = criterion_dir();
    let results = match read_results(&dir) {
        Ok(results) => results,
        Err(e) => {
            eprintln!(
                "report: cannot read criterion results in {}: {e}",
                dir.display()
            );
            eprintln!("report: run `cargo bench -p hookrt-benches` first");
            return ExitCode::FAILURE;
        }
    };
    if results.is_empty() {
        eprintln!("report: no benchmark results in {}", dir.display());
        return ExitCode::FAILURE;
    }
    println!("criterion medians from {}\n", dir.display());
    print_table(&results);
    ExitCode::SUCCESS
}

fn criterion_dir() -> PathBuf {
    if let Some(arg) = std::env::args_os().nth(1) {
        return arg.into();
    }
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    // This binary is `<target>/<profile>/report`.
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("criterion")))
        .unwrap_or_else(|| PathBuf::from("target/criterion"))
}

/// One markdown table: a row per group that has a tokio baseline, and the geometric
/// mean of each ratio column.
fn print_table(results: &Results) {
    let [tokio, hookrt, noop] = Contender::CORE.map(Contender::name);
    println!("| group | {tokio} | {hookrt} | {noop} | {hookrt}/{tokio} | {noop}/{tokio} |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut logs = [(0.0_f64, 0_u32); 2];
    for group in results.groups() {
        let Some(base) = results.median(group, tokio) else {
            continue;
        };
        let cells = [hookrt, noop].map(|f| results.median(group, f));
        let ratios = cells.map(|c| c.map(|d| d.as_secs_f64() / base.as_secs_f64()));
        for (log, ratio) in logs.iter_mut().zip(ratios) {
            if let Some(r) = ratio {
                log.0 += r.ln();
                log.1 += 1;
            }
        }
        println!(
            "| {group} | {} | {} | {} | {} | {} |",
            time(Some(base)),
            time(cells[0]),
            time(cells[1]),
            ratio(ratios[0]),
            ratio(ratios[1]),
        );
    }
    let geo = logs.map(|(sum, n)| (n > 0).then(|| (sum / f64::from(n)).exp()));
    println!(
        "| geometric mean | | | | {} | {} |",
        ratio(geo[0]),
        ratio(geo[1])
    );
}

fn time(d: Option<Duration>) -> String {
    let Some(d) = d else {
        return "-".to_owned();
    };
    let nanos = d.as_secs_f64() * 1e9;
    if nanos >= 1e9 {
        format!("{:.3} s", nanos / 1e9)
    } else if nanos >= 1e6 {
        format!("{:.3} ms", nanos / 1e6)
    } else if nanos >= 1e3 {
        format!("{:.2} µs", nanos / 1e3)
    } else {
        format!("{nanos:.0} ns")
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"))
}
