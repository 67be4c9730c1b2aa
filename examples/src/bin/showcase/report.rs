//! What the showcase prints and writes once the load is done.

use crate::server::{RequestRecord, LEAKY_REQUEST};
use crate::{Run, Tools};
use hookrt_observe::{LiveResource, Site};
use std::path::Path;
use std::time::Duration;

/// How many of the slowest requests are broken down.
const SLOWEST: usize = 5;

/// Creation sites listed.
const SITES: usize = 8;

fn heading(title: &str) {
    println!(
        "\n== {title} {}",
        "=".repeat(76usize.saturating_sub(title.len()))
    );
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

/// A site as `file:line`, with registry paths cut to `crate-version/...`.
fn short(site: Site) -> String {
    let s = site.to_string();
    match s.split_once("/registry/src/") {
        Some((_, rest)) => rest.split_once('/').map_or(rest, |(_, r)| r).to_owned(),
        None => s,
    }
}

/// Prints the report and writes the files; returns whether the run kept its promises
/// (every request answered, the forgotten timer found).
pub(crate) fn print(run: &Run, tools: &Tools) -> bool {
    let mut records = run.records.clone();
    records.sort_by_key(|r| std::cmp::Reverse(r.total));
    let created: u64 = tools.stats.sites().iter().map(|s| s.created).sum();
    println!(
        "{} requests answered ({} failed) in {:.2?}; the hooks saw {created} resources",
        run.ok, run.failed, run.elapsed
    );
    let Some(slowest) = records.first() else {
        println!("no request was recorded");
        return false;
    };

    correlated_logs(tools, slowest);
    breakdown(tools, &records);
    sites(tools);
    let leak_found = leak_report(tools, &records);
    files(tools, slowest);
    run.failed == 0 && run.ok > 0 && leak_found
}

fn correlated_logs(tools: &Tools, r: &RequestRecord) {
    heading(&format!(
        "Correlated logs of request {} (the slowest)",
        r.id
    ));
    let needle = format!("\"request_id\":\"{}\"", r.id);
    let text = tools.logs.text();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(&needle)).collect();
    println!(
        "{} of {} JSON log lines carry request_id {} (shop, its child tasks, the blocking",
        lines.len(),
        text.lines().count(),
        r.id
    );
    println!("pool and the inventory service, which took the id from a header):");
    for l in lines {
        println!("  {l}");
    }
}

fn breakdown(tools: &Tools, records: &[RequestRecord]) {
    heading(&format!(
        "Latency breakdown of the {SLOWEST} slowest requests (ms)"
    ));
    println!(
        "{:>7} {:>8} | {:>8} {:>6} {:>9} {:>7} {:>6} | {:>5} {:>6} {:>9}",
        "request",
        "total",
        "db",
        "cache",
        "inventory",
        "pricing",
        "audit",
        "polls",
        "busy",
        "scheduled"
    );
    println!("{}", "-".repeat(92));
    for r in records.iter().take(SLOWEST) {
        let (polls, busy, sched) = match tools.stats.resource(r.task) {
            Some(s) => (s.polls.to_string(), ms(s.busy), ms(s.scheduled)),
            None => ("-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:>7} {:>8} | {:>8} {:>6} {:>9} {:>7} {:>6} | {:>5} {:>6} {:>9}",
            r.id,
            ms(r.total),
            ms(r.db),
            ms(r.cache),
            ms(r.inventory),
            ms(r.pricing),
            ms(r.audit),
            polls,
            busy,
            sched
        );
    }
    let mut totals: Vec<Duration> = records.iter().map(|r| r.total).collect();
    totals.sort();
    let q = |p: f64| totals[((totals.len() - 1) as f64 * p) as usize];
    println!(
        "all {} requests: p50 {} ms, p99 {} ms, max {} ms. Steps are the handler's own \
         timings; polls, busy and scheduled (wake -> poll) are TaskStats' for the request task.",
        totals.len(),
        ms(q(0.5)),
        ms(q(0.99)),
        ms(q(1.0))
    );
}

fn sites(tools: &Tools) {
    heading(&format!("Busiest creation sites (TaskStats, top {SITES})"));
    println!(
        "{:<46} {:<12} {:>7} {:>7} {:>9} {:>9} {:>10}",
        "site", "kind", "created", "polls", "busy ms", "p99 poll", "p99 sched"
    );
    println!("{}", "-".repeat(106));
    for s in tools.stats.sites().iter().take(SITES) {
        let mut site = short(s.site);
        if site.len() > 46 {
            site = format!("...{}", &site[site.len() - 43..]);
        }
        println!(
            "{:<46} {:<12} {:>7} {:>7} {:>9} {:>9} {:>10}",
            site,
            s.kind.to_string(),
            s.created,
            s.polls,
            ms(s.busy),
            format!("{:.2?}", s.poll_times.quantile(0.99)),
            format!("{:.2?}", s.scheduled_delays.quantile(0.99)),
        );
    }
}

/// Waits (bounded) for the connections to wind down, then reports what is still alive.
fn leak_report(tools: &Tools, records: &[RequestRecord]) -> bool {
    heading("Leak report (LeakDetector)");
    let Some(leaky) = records.iter().find(|r| r.id == LEAKY_REQUEST) else {
        println!("request {LEAKY_REQUEST} was not recorded");
        return false;
    };
    // Connection tasks end a moment after their peer closes: wait for the table to
    // hold nothing but what the leaky request left behind (at most 2 s).
    let mut outlived: Vec<LiveResource> = Vec::new();
    for _ in 0..100 {
        outlived = tools.leaks.outlived(leaky.task);
        if tools.leaks.live_count() <= outlived.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    print!("{}", tools.leaks.report(Duration::ZERO));
    println!(
        "left behind by request {} (task #{}) after it resolved:",
        leaky.id, leaky.task
    );
    for r in &outlived {
        println!("  {r}");
    }
    let timer = outlived
        .iter()
        .any(|r| r.kind == hookrt::hooks::ResourceKind::Timer);
    println!(
        "{}",
        if timer {
            "-> found: the forgotten 1-hour timer (and the task that awaits it)"
        } else {
            "-> the forgotten timer was NOT found"
        }
    );
    timer
}

fn files(tools: &Tools, slowest: &RequestRecord) {
    heading("Files");
    let out = &tools.out;
    if let Err(e) = std::fs::create_dir_all(out) {
        println!("cannot create {}: {e}", out.display());
        return;
    }
    let trace = tools.flow.chrome_trace();
    let dot = tools.flow.dot(Some(slowest.task));
    let edges = dot.lines().filter(|l| l.contains("->")).count();
    write(
        &out.join("trace.json"),
        &trace,
        &format!(
            "Chrome trace of {} events ({} lost); open in https://ui.perfetto.dev",
            tools.flow.events().len(),
            tools.flow.lost()
        ),
    );
    write(
        &out.join("graph.dot"),
        &dot,
        &format!(
            "async tree of request {} (task #{}), {edges} edges; dot -Tsvg graph.dot",
            slowest.id, slowest.task
        ),
    );
    write(
        &out.join("logs.jsonl"),
        &tools.logs.text(),
        "every correlated log line",
    );
}

fn write(path: &Path, text: &str, what: &str) {
    match std::fs::write(path, text) {
        Ok(()) => println!(
            "{:<48} {:>8.1} KB  {what}",
            path.display(),
            text.len() as f64 / 1024.0
        ),
        Err(e) => println!("{}: {e}", path.display()),
    }
}
