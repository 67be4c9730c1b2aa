//! Reading criterion's results back: for every benchmark, the median point estimate
//! criterion wrote to `<criterion dir>/<group>/<function>/new/estimates.json`.
//!
//! Criterion makes directory names filesystem-safe, so the real group and function ids
//! are taken from the `benchmark.json` beside each `estimates.json` when it exists, and
//! from the directory names otherwise.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

/// The median time of every benchmark found, by group id then function id.
#[derive(Clone, Debug, Default)]
pub struct Results {
    groups: BTreeMap<String, BTreeMap<String, Duration>>,
}

impl Results {
    /// The group ids, sorted.
    pub fn groups(&self) -> impl Iterator<Item = &str> + '_ {
        self.groups.keys().map(String::as_str)
    }

    /// The median time of `function` in `group`, if criterion measured it.
    pub fn median(&self, group: &str, function: &str) -> Option<Duration> {
        self.groups.get(group)?.get(function).copied()
    }

    /// Whether no benchmark was found.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// Reads every `<group>/<function>/new/estimates.json` under `criterion_dir`
/// (criterion's output directory, usually `target/criterion`).
///
/// # Errors
///
/// When `criterion_dir` cannot be listed, or an `estimates.json` cannot be read or has
/// no median point estimate.
pub fn read_results(criterion_dir: &Path) -> io::Result<Results> {
    let mut results = Results::default();
    for group_dir in sub_dirs(criterion_dir)? {
        for function_dir in sub_dirs(&group_dir)? {
            let new = function_dir.join("new");
            let estimates = new.join("estimates.json");
            if !estimates.is_file() {
                continue;
            }
            let median = read_median(&estimates)?;
            let (group, function) = match read_ids(&new.join("benchmark.json")) {
                Some(ids) => ids,
                None => (file_name(&group_dir), file_name(&function_dir)),
            };
            results
                .groups
                .entry(group)
                .or_default()
                .insert(function, median);
        }
    }
    Ok(results)
}

/// The sub-directories of `dir`, sorted (criterion's `report/` has no `new/` below it
/// and is skipped by the caller).
fn sub_dirs(dir: &Path) -> io::Result<Vec<std::path::PathBuf>> {
    let mut dirs = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    dirs.sort();
    Ok(dirs)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn read_json(path: &Path) -> io::Result<Value> {
    let text = fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
}

/// `median.point_estimate` of an `estimates.json`, in nanoseconds.
fn read_median(path: &Path) -> io::Result<Duration> {
    let json = read_json(path)?;
    let nanos = json["median"]["point_estimate"].as_f64().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: no median.point_estimate", path.display()),
        )
    })?;
    Ok(Duration::from_secs_f64(nanos / 1e9))
}

/// `(group_id, function_id)` of a `benchmark.json`, when it has both.
fn read_ids(path: &Path) -> Option<(String, String)> {
    let json = read_json(path).ok()?;
    let group = json["group_id"].as_str()?.to_owned();
    let function = json["function_id"].as_str()?.to_owned();
    Some((group, function))
}
