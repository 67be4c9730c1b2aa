//! The markdown of the report: ratio tables per section, memory, context micro
//! benchmarks, the Node.js peer, and the targets of the performance pass.

use crate::run::{NodeRun, NODE_MODES};
use hookrt_benches::Results;
use serde_json::Value;
use std::fmt::Write as _;
use std::time::Duration;

/// A section of workloads sharing a setup.
pub(crate) struct Section {
    /// Its heading.
    pub(crate) title: &'static str,
    /// Its criterion groups, in table order.
    pub(crate) groups: &'static [&'static str],
}

/// Every workload with a tokio baseline, by section.
pub(crate) const SECTIONS: [Section; 6] = [
    Section {
        title: "Runtime, multi-thread (2 workers, no driver)",
        groups: &[
            "spawn_many_local",
            "spawn_many_remote_idle",
            "spawn_many_remote_busy",
            "ping_pong",
            "yield_many",
            "chained_spawn",
        ],
    },
    Section {
        title: "Runtime, current-thread (no driver)",
        groups: &[
            "ct_spawn_many_local",
            "ct_spawn_many_remote_idle",
            "ct_spawn_many_remote_busy",
            "ct_ping_pong",
            "ct_yield_many",
            "ct_chained_spawn",
        ],
    },
    Section {
        title: "Time (multi-thread, time driver)",
        groups: &[
            "timer_insert_cancel",
            "sleeps_10k_concurrent",
            "timeout_ready",
        ],
    },
    Section {
        title: "Net (multi-thread, I/O driver, loopback TCP)",
        groups: &["tcp_echo_throughput", "tcp_accept_rate"],
    },
    Section {
        title: "Context (current-thread)",
        groups: &["spawn_ctx", "task_local_cmp"],
    },
    Section {
        title: "Fan-out: 20 000 requests × 10 steps (multi-thread, 2 workers)",
        groups: &["fanout"],
    },
];

/// The sections whose workloads count as "runtime workloads" for the targets.
const RUNTIME_SECTIONS: usize = 2;

/// A ratio column: `numerator / denominator`, both criterion function ids.
#[derive(Clone, Copy)]
pub(crate) struct Column {
    pub(crate) numerator: &'static str,
    pub(crate) denominator: &'static str,
}

/// The ratio columns, in table order.
pub(crate) const COLUMNS: [Column; 6] = [
    Column {
        numerator: "hookrt",
        denominator: "tokio",
    },
    Column {
        numerator: "hookrt+noop",
        denominator: "hookrt",
    },
    Column {
        numerator: "hookrt+ctx",
        denominator: "hookrt",
    },
    Column {
        numerator: "hookrt+ctx+noop",
        denominator: "hookrt",
    },
    Column {
        numerator: "tokio+metrics",
        denominator: "tokio",
    },
    Column {
        numerator: "tokio+task_local",
        denominator: "tokio",
    },
];

impl Column {
    pub(crate) fn ratio(self, results: &Results, group: &str) -> Option<f64> {
        let n = results.median(group, self.numerator)?;
        let d = results.median(group, self.denominator)?;
        Some(n.as_secs_f64() / d.as_secs_f64())
    }

    fn header(self) -> String {
        format!("{} / {}", self.numerator, self.denominator)
    }
}

/// Geometric mean of the ratios present.
fn geo_mean(ratios: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = ratios
        .into_iter()
        .flatten()
        .fold((0.0, 0_u32), |(s, n), r| (s + r.ln(), n + 1));
    (n > 0).then(|| (sum / f64::from(n)).exp())
}

/// One table per section: medians of tokio and hookrt, then every ratio column with
/// at least one value in the section, then the section's geometric means.
pub(crate) fn ratio_tables(out: &mut String, results: &Results) {
    for section in &SECTIONS {
        let groups: Vec<&str> = section
            .groups
            .iter()
            .copied()
            .filter(|g| results.median(g, "tokio").is_some())
            .collect();
        if groups.is_empty() {
            continue;
        }
        let columns: Vec<Column> = COLUMNS
            .iter()
            .copied()
            .filter(|c| groups.iter().any(|g| c.ratio(results, g).is_some()))
            .collect();
        let _ = writeln!(out, "### {}\n", section.title);
        let mut header = "| workload | tokio | hookrt |".to_owned();
        let mut rule = "|---|---:|---:|".to_owned();
        for column in &columns {
            let _ = write!(header, " {} |", column.header());
            rule.push_str("---:|");
        }
        let _ = writeln!(out, "{header}\n{rule}");
        for group in &groups {
            let _ = write!(
                out,
                "| {group} | {} | {} |",
                time(results.median(group, "tokio")),
                time(results.median(group, "hookrt")),
            );
            for column in &columns {
                let _ = write!(out, " {} |", ratio(column.ratio(results, group)));
            }
            out.push('\n');
        }
        if groups.len() > 1 {
            out.push_str("| geometric mean | | |");
            for column in &columns {
                let mean = geo_mean(groups.iter().map(|g| column.ratio(results, g)));
                let _ = write!(out, " {} |", ratio(mean));
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

/// The context micro benchmarks (hookrt only): time per operation.
pub(crate) fn micro_table(out: &mut String, results: &Results) {
    let rows: Vec<(&str, Duration)> = ["ls_get", "ls_with", "ls_get_empty", "ls_run_sync"]
        .into_iter()
        .filter_map(|g| Some((g, results.median(g, "hookrt")?)))
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push_str("### Context micro benchmarks (hookrt only, time per operation)\n\n");
    out.push_str("| operation | median |\n|---|---:|\n");
    for (group, median) in rows {
        let _ = writeln!(out, "| {group} | {} |", time(Some(median)));
    }
    out.push('\n');
}

/// Heap bytes per idle task from the memory binary's JSON.
pub(crate) fn memory_table(out: &mut String, memory: &Value) {
    let Some(rows) = memory["results"].as_array() else {
        return;
    };
    let tasks = memory["tasks"].as_u64().unwrap_or(0);
    let _ = writeln!(
        out,
        "### Heap per idle task ({tasks} tasks parked on a oneshot, counting allocator)\n"
    );
    out.push_str(
        "| flavour | tokio | hookrt | hookrt+noop | hookrt+ctx | hookrt − tokio | hookrt / tokio |\n\
         |---|---:|---:|---:|---:|---:|---:|\n",
    );
    for flavor in ["multi_thread", "current_thread"] {
        let bytes = |contender: &str| memory_bytes(rows, flavor, contender);
        let (Some(tokio), Some(hookrt)) = (bytes("tokio"), bytes("hookrt")) else {
            continue;
        };
        let _ = writeln!(
            out,
            "| {flavor} | {} | {} | {} | {} | {:+.1} B | {} |",
            b(Some(tokio)),
            b(Some(hookrt)),
            b(bytes("hookrt+noop")),
            b(bytes("hookrt+ctx")),
            hookrt - tokio,
            ratio(Some(hookrt / tokio)),
        );
    }
    out.push('\n');
}

/// Bytes per task of `contender` on `flavor`, from the memory JSON's rows.
pub(crate) fn memory_bytes(rows: &[Value], flavor: &str, contender: &str) -> Option<f64> {
    rows.iter()
        .find(|r| r["flavor"] == flavor && r["contender"] == contender)?["bytes_per_task"]
        .as_f64()
}

/// The Node.js peer next to the Rust fan-out: medians and ratios to each one's plain
/// run.
pub(crate) fn node_table(out: &mut String, results: &Results, nodes: &[NodeRun]) {
    out.push_str(
        "### Fan-out against Node.js (`benches/peers/fanout.js`, same R and S)\n\n\
         Each side's modes as ratios to its own plain run: `als` is `AsyncLocalStorage.run` \
         + `getStore()` per step (hookrt: `hookrt+ctx`), `hooks` an enabled `createHook` \
         with five empty callbacks (hookrt: `hookrt+noop`).\n\n\
         | runtime | plain | ctx / plain | hooks / plain | ctx+hooks / plain |\n\
         |---|---:|---:|---:|---:|\n",
    );
    if let Some(plain) = results.median("fanout", "hookrt") {
        let r = |f: &str| {
            results
                .median("fanout", f)
                .map(|d| d.as_secs_f64() / plain.as_secs_f64())
        };
        let _ = writeln!(
            out,
            "| hookrt | {} | {} | {} | {} |",
            time(Some(plain)),
            ratio(r("hookrt+ctx")),
            ratio(r("hookrt+noop")),
            ratio(r("hookrt+ctx+noop")),
        );
    }
    for node in nodes {
        let plain = node.median(NODE_MODES[0]);
        let r = |mode: &str| Some(node.median(mode)? / plain?);
        let _ = writeln!(
            out,
            "| node {} (`{}`) | {} | {} | {} | {} |",
            node.version,
            node.binary,
            time(plain.map(|ms| Duration::from_secs_f64(ms / 1e3))),
            ratio(r("als")),
            ratio(r("hooks")),
            ratio(r("als+hooks")),
        );
    }
    out.push('\n');
}

/// The performance targets of issue 7, each with the measured value and whether it is
/// met.
pub(crate) fn targets_table(out: &mut String, results: &Results, memory: Option<&Value>) {
    let mut rows: Vec<(String, String, Option<bool>)> = Vec::new();
    let hookrt = COLUMNS[0];
    let noop = COLUMNS[1];
    let runtime_groups: Vec<&str> = SECTIONS[..RUNTIME_SECTIONS]
        .iter()
        .flat_map(|s| s.groups.iter().copied())
        .collect();
    let all_groups: Vec<&str> = SECTIONS
        .iter()
        .flat_map(|s| s.groups.iter().copied())
        .collect();
    let worst = |column: Column, groups: &[&'static str]| {
        groups
            .iter()
            .filter_map(|&g| Some((column.ratio(results, g)?, g)))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    };
    if let Some((r, g)) = worst(hookrt, &runtime_groups) {
        rows.push((
            "every runtime workload: hookrt / tokio ≤ 1.00".into(),
            format!("worst {r:.2}x ({g})"),
            Some(r <= 1.0),
        ));
    }
    if let Some((r, g)) = worst(noop, &all_groups) {
        rows.push((
            "hookrt+noop ≤ 1.03 × hookrt".into(),
            format!("worst {r:.2}x ({g})"),
            Some(r <= 1.03),
        ));
    }
    if let Some(r) = COLUMNS[2].ratio(results, "fanout") {
        rows.push((
            "fan-out: hookrt+ctx ≤ 1.02 × hookrt".into(),
            format!("{r:.2}x"),
            Some(r <= 1.02),
        ));
    }
    for (variant, target) in [("hookrt+leaks+stats", 1.15), ("hookrt+sampler(1%)", 1.03)] {
        let column = Column {
            numerator: variant,
            denominator: "hookrt",
        };
        if let Some(r) = column.ratio(results, "fanout") {
            rows.push((
                format!("fan-out: {variant} ≤ {target:.2} × hookrt (issue 8)"),
                format!("{r:.2}x"),
                Some(r <= target),
            ));
        }
    }
    if let Some(r) = COLUMNS[4].ratio(results, "fanout") {
        rows.push((
            "fan-out: tokio+metrics / tokio (for comparison)".into(),
            format!("{r:.2}x"),
            None,
        ));
    }
    for group in ["timer_insert_cancel", "tcp_echo_throughput"] {
        if let Some(r) = hookrt.ratio(results, group) {
            rows.push((
                format!("{group}: hookrt / tokio ≤ 1.00"),
                format!("{r:.2}x"),
                Some(r <= 1.0),
            ));
        }
    }
    if let Some(rows_json) = memory.and_then(|m| m["results"].as_array()) {
        for flavor in ["multi_thread", "current_thread"] {
            let tokio = memory_bytes(rows_json, flavor, "tokio");
            let hookrt = memory_bytes(rows_json, flavor, "hookrt");
            if let (Some(tokio), Some(hookrt)) = (tokio, hookrt) {
                rows.push((
                    format!("heap per idle task ({flavor}) ≤ tokio's + 16 B"),
                    format!("{hookrt:.1} B vs {tokio:.1} B"),
                    Some(hookrt <= tokio + 16.0),
                ));
            }
        }
    }
    if rows.is_empty() {
        return;
    }
    out.push_str("### Targets of the performance pass (issue 7)\n\n| target | measured | met |\n|---|---|:-:|\n");
    for (target, measured, met) in rows {
        let met = match met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        let _ = writeln!(out, "| {target} | {measured} | {met} |");
    }
    out.push('\n');
}

/// A duration with a unit that keeps three significant digits or so.
pub(crate) fn time(d: Option<Duration>) -> String {
    let Some(d) = d else {
        return "-".to_owned();
    };
    let nanos = d.as_secs_f64() * 1e9;
    if nanos >= 1e9 {
        format!("{:.3} s", nanos / 1e9)
    } else if nanos >= 1e6 {
        format!("{:.2} ms", nanos / 1e6)
    } else if nanos >= 1e3 {
        format!("{:.2} µs", nanos / 1e3)
    } else {
        format!("{nanos:.1} ns")
    }
}

/// A ratio as `1.23x`, or `-`.
pub(crate) fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"))
}

fn b(bytes: Option<f64>) -> String {
    bytes.map_or_else(|| "-".to_owned(), |b| format!("{b:.1} B"))
}
