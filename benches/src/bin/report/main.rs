//! Runs every benchmark group, the memory measurement and the Node.js peer, then prints
//! a markdown table of ratios and writes it to `BENCHMARKS.md` at the workspace root,
//! with a bar chart of the ratios in `BENCHMARKS.svg`.
//!
//! ```sh
//! cargo run -p hookrt-benches --release --bin report -- --quick   # ~3 minutes on 2 cores
//! cargo run -p hookrt-benches --release --bin report              # full-length groups
//! cargo run -p hookrt-benches --release --bin report -- --no-run [CRITERION_DIR]
//! ```
//!
//! - `--quick`: every criterion group shortened (`HOOKRT_BENCH_QUICK=1`: 0.2 s warm-up,
//!   0.6 s measurement, 10 samples) and fewer Node.js runs.
//! - `--bench NAME` (repeatable): run only these criterion benches; the others' last
//!   results are read as they are. `--skip-memory`, `--skip-node`: likewise.
//! - `--no-run` (or a criterion directory as the only argument): run nothing, print the
//!   tables from the results already there, write no file.
//! - `--out FILE`: write the markdown there instead of `BENCHMARKS.md` (the chart goes
//!   beside it, with the extension `.svg`).
//!
//! The Node.js peer runs with `node` and with every binary in `HOOKRT_NODE_PEERS`
//! (separated by `:` or `,`). The criterion directory is `$CRITERION_HOME`,
//! `$CARGO_TARGET_DIR/criterion`, or `criterion/` in the target directory this binary
//! was built into: where `cargo bench` puts its results.

mod chart;
mod machine;
mod run;
mod table;

use chart::{Bar, Category};
use hookrt_benches::{read_results, Results, QUICK_MEASUREMENT, QUICK_WARM_UP};
use run::{NodeRun, NODE_MODES};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use table::{COLUMNS, SECTIONS};

/// What the command line asked for.
#[derive(Debug, Default)]
struct Options {
    quick: bool,
    no_run: bool,
    benches: Vec<String>,
    skip_memory: bool,
    skip_node: bool,
    criterion_dir: Option<PathBuf>,
    out: Option<PathBuf>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--no-run" => options.no_run = true,
            "--skip-memory" => options.skip_memory = true,
            "--skip-node" => options.skip_node = true,
            "--bench" => {
                let name = args.next().ok_or("--bench needs a name")?;
                if !run::BENCHES.contains(&name.as_str()) {
                    return Err(format!("unknown bench {name}: one of {:?}", run::BENCHES));
                }
                options.benches.push(name);
            }
            "--out" => options.out = Some(args.next().ok_or("--out needs a file")?.into()),
            _ if !arg.starts_with('-') && options.criterion_dir.is_none() => {
                // The former interface: `report DIR` reads results only.
                options.criterion_dir = Some(arg.into());
                options.no_run = true;
            }
            _ => return Err(format!("unknown argument {arg}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("report: {e}");
            eprintln!(
                "usage: report [--quick] [--bench NAME].. [--skip-memory] [--skip-node] \
                 [--out FILE] | report --no-run [CRITERION_DIR]"
            );
            return ExitCode::FAILURE;
        }
    };
    let dir = options.criterion_dir.clone().unwrap_or_else(criterion_dir);
    let memory_json = dir.join("hookrt-memory.json");
    let node_json = dir.join("hookrt-node.json");
    // Before anything runs, so that the load average is the machine's, not ours.
    let (started, load_average) = (machine::utc_now(), machine::load_average());
    let mut failures = Vec::new();

    if !options.no_run {
        let benches: Vec<&str> = if options.benches.is_empty() {
            run::BENCHES.to_vec()
        } else {
            options.benches.iter().map(String::as_str).collect()
        };
        for bench in benches {
            if let Err(e) = run::criterion_bench(bench, options.quick) {
                eprintln!("report: {e}");
                failures.push(format!("bench {bench}: {e}"));
            }
        }
        if !options.skip_memory {
            let _ = std::fs::create_dir_all(&dir);
            if let Err(e) = run::memory(&memory_json) {
                eprintln!("report: {e}");
                failures.push(format!("memory: {e}"));
            }
        }
        if !options.skip_node {
            let nodes: Vec<NodeRun> = run::node_binaries()
                .iter()
                .filter_map(|binary| run::node_peer(binary, options.quick))
                .collect();
            let saved = Value::Array(nodes.iter().map(node_to_json).collect());
            let _ = std::fs::create_dir_all(&dir);
            if let Err(e) = std::fs::write(&node_json, saved.to_string()) {
                eprintln!("report: writing {}: {e}", node_json.display());
            }
        }
    }

    let results = match read_results(&dir) {
        Ok(results) if !results.is_empty() => results,
        Ok(_) => {
            eprintln!("report: no benchmark results in {}", dir.display());
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!(
                "report: cannot read criterion results in {}: {e}",
                dir.display()
            );
            eprintln!("report: run it without --no-run first");
            return ExitCode::FAILURE;
        }
    };
    let memory: Option<Value> = read_json(&memory_json);
    let nodes: Vec<NodeRun> = read_json(&node_json)
        .and_then(|v: Value| {
            v.as_array()
                .map(|a| a.iter().filter_map(node_from_json).collect())
        })
        .unwrap_or_default();

    let mut tables = String::new();
    table::targets_table(&mut tables, &results, memory.as_ref());
    table::ratio_tables(&mut tables, &results);
    if let Some(memory) = &memory {
        table::memory_table(&mut tables, memory);
    }
    table::node_table(&mut tables, &results, &nodes);
    table::micro_table(&mut tables, &results);
    println!("{tables}");

    if options.no_run {
        return ExitCode::SUCCESS;
    }
    let md_path = options
        .out
        .clone()
        .unwrap_or_else(|| run::workspace_root().join("BENCHMARKS.md"));
    let svg_path = md_path.with_extension("svg");
    let bars = chart_bars(&results, memory.as_ref(), &nodes);
    let mode = if options.quick { "quick" } else { "full" };
    if let Err(e) = chart::draw(
        &svg_path,
        &format!("hookrt: median ratios ({mode} run, {started})"),
        &bars,
    ) {
        eprintln!("report: drawing {}: {e}", svg_path.display());
        failures.push(format!("chart: {e}"));
    }
    let node_versions: Vec<String> = nodes
        .iter()
        .map(|n| format!("{} (`{}`)", n.version, n.binary))
        .collect();
    let machine = machine::describe(&load_average, &node_versions);
    let document = markdown(&options, &machine, &svg_path, &tables, &failures);
    if let Err(e) = std::fs::write(&md_path, document) {
        eprintln!("report: writing {}: {e}", md_path.display());
        return ExitCode::FAILURE;
    }
    eprintln!(
        "report: wrote {} and {}",
        md_path.display(),
        svg_path.display()
    );
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The whole `BENCHMARKS.md`.
fn markdown(
    options: &Options,
    machine: &str,
    svg_path: &Path,
    tables: &str,
    failures: &[String],
) -> String {
    let command = if options.quick {
        "cargo run -p hookrt-benches --release --bin report -- --quick"
    } else {
        "cargo run -p hookrt-benches --release --bin report"
    };
    let length = if options.quick {
        format!(
            "a quick run: every criterion group {} ms of warm-up and {} ms of measurement, \
             10 samples; indicative only",
            QUICK_WARM_UP.as_millis(),
            QUICK_MEASUREMENT.as_millis()
        )
    } else {
        "a full run: every group at its full length".to_owned()
    };
    let mut out = String::new();
    out.push_str("# Benchmarks\n\n");
    let _ = writeln!(
        out,
        "Written by `{command}` ({length}). Do not edit by hand: run the command again.\n"
    );
    out.push_str("## Machine\n\n");
    out.push_str(machine);
    out.push_str(
        "\nEvery ratio is of criterion medians measured in the same process run, on \
         runtimes with the same worker count and drivers; below 1.00 means faster (or \
         smaller) than the baseline after the slash. `hookrt+noop` has one registered hook \
         implementing all six methods with empty bodies (every event dispatched); `hookrt+ctx` a `LocalStorage` value in context, read at every \
         step; `tokio+metrics` wraps every spawned future in tokio-metrics' \
         `TaskMonitor::instrument`; `tokio+task_local` scopes a `task_local!` around \
         every spawned future. `benches/README.md` describes each workload.\n\n",
    );
    if let Some(name) = svg_path.file_name() {
        let _ = writeln!(out, "![ratios]({})\n", name.to_string_lossy());
    }
    if !failures.is_empty() {
        out.push_str("**Parts of this run failed** (their rows are stale or missing):\n\n");
        for failure in failures {
            let _ = writeln!(out, "- {failure}");
        }
        out.push('\n');
    }
    out.push_str("## Results\n\n");
    out.push_str(tables);
    out
}

/// The bars of the chart, top to bottom.
fn chart_bars(results: &Results, memory: Option<&Value>, nodes: &[NodeRun]) -> Vec<Bar> {
    let mut bars = Vec::new();
    let mut push = |label: String, ratio: Option<f64>, category: Category| {
        if let Some(ratio) = ratio {
            bars.push(Bar {
                label,
                ratio,
                category,
            });
        }
    };
    for section in &SECTIONS {
        for group in section.groups {
            push(
                format!("{group}: hookrt / tokio"),
                COLUMNS[0].ratio(results, group),
                Category::HookrtVsTokio,
            );
        }
    }
    // Every other column, as a geometric mean over the workloads that have it, then on
    // fan-out alone.
    for column in &COLUMNS[1..] {
        let ratios: Vec<f64> = SECTIONS
            .iter()
            .flat_map(|s| s.groups.iter())
            .filter(|g| **g != "fanout")
            .filter_map(|g| column.ratio(results, g))
            .collect();
        let category = if column.denominator == "tokio" {
            Category::TokioInstrumented
        } else {
            Category::Instrumented
        };
        if !ratios.is_empty() {
            let mean = (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp();
            push(
                format!(
                    "{} / {} (geo. mean, {} workloads)",
                    column.numerator,
                    column.denominator,
                    ratios.len()
                ),
                Some(mean),
                category,
            );
        }
        push(
            format!("fanout: {} / {}", column.numerator, column.denominator),
            column.ratio(results, "fanout"),
            category,
        );
    }
    for node in nodes {
        let plain = node.median(NODE_MODES[0]);
        for mode in &NODE_MODES[1..] {
            push(
                format!("node {} fanout: {mode} / plain", node.version),
                node.median(mode).zip(plain).map(|(m, p)| m / p),
                Category::Node,
            );
        }
    }
    if let Some(rows) = memory.and_then(|m| m["results"].as_array()) {
        for flavor in ["multi_thread", "current_thread"] {
            let tokio = table::memory_bytes(rows, flavor, "tokio");
            let hookrt = table::memory_bytes(rows, flavor, "hookrt");
            push(
                format!("bytes per idle task ({flavor}): hookrt / tokio"),
                hookrt.zip(tokio).map(|(h, t)| h / t),
                Category::Memory,
            );
        }
    }
    bars
}

fn node_to_json(node: &NodeRun) -> Value {
    json!({
        "binary": node.binary,
        "version": node.version,
        "medians_ms": node.medians.iter().map(|(m, ms)| json!({"mode": m, "median_ms": ms})).collect::<Vec<_>>(),
    })
}

fn node_from_json(value: &Value) -> Option<NodeRun> {
    Some(NodeRun {
        binary: value["binary"].as_str()?.to_owned(),
        version: value["version"].as_str()?.to_owned(),
        medians: value["medians_ms"]
            .as_array()?
            .iter()
            .filter_map(|m| Some((m["mode"].as_str()?.to_owned(), m["median_ms"].as_f64()?)))
            .collect(),
    })
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn criterion_dir() -> PathBuf {
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
