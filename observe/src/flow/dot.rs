//! Graphviz DOT of the async tree from recorded events.

use super::ring::{FlowEvent, FlowKind};
use hookrt::hooks::AsyncId;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

struct Node {
    label: String,
    trigger: AsyncId,
    shape: &'static str,
}

/// Escapes a string for a double-quoted DOT id.
fn quote(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Renders the tree of `root` (or everything) with trigger edges, and wake edges
/// between its nodes when `wakes`.
pub(super) fn render(events: &[FlowEvent], root: Option<AsyncId>, wakes: bool) -> String {
    let mut nodes: BTreeMap<AsyncId, Node> = BTreeMap::new();
    let mut children: HashMap<AsyncId, Vec<AsyncId>> = HashMap::new();
    let mut wake_edges: BTreeSet<(AsyncId, AsyncId)> = BTreeSet::new();
    for e in events {
        match e.what {
            FlowKind::Init => {
                let trigger = e.other.unwrap_or(AsyncId::ROOT);
                let mut label = format!("{} #{}", e.kind, e.id);
                if let Some(name) = &e.name {
                    let _ = write!(label, "\\n{}", quote(name));
                }
                if let Some(l) = e.location {
                    let _ = write!(label, "\\n{}:{}", quote(l.file()), l.line());
                }
                let shape = match e.kind {
                    hookrt::hooks::ResourceKind::Task => "box",
                    hookrt::hooks::ResourceKind::Timer => "ellipse",
                    hookrt::hooks::ResourceKind::Custom(_) => "component",
                    hookrt::hooks::ResourceKind::Blocking => "box3d",
                    _ => "hexagon",
                };
                nodes.insert(
                    e.id,
                    Node {
                        label,
                        trigger,
                        shape,
                    },
                );
                children.entry(trigger).or_default().push(e.id);
            }
            FlowKind::Wake => {
                if let Some(by) = e.other {
                    if by != e.id {
                        wake_edges.insert((by, e.id));
                    }
                }
            }
            _ => {}
        }
    }

    // The nodes to draw: `root` and its descendants, or everything.
    let keep: BTreeSet<AsyncId> = match root {
        None => nodes.keys().copied().collect(),
        Some(root) => {
            let mut keep = BTreeSet::new();
            let mut todo = vec![root];
            while let Some(id) = todo.pop() {
                if nodes.contains_key(&id) && keep.insert(id) {
                    todo.extend(children.get(&id).into_iter().flatten().copied());
                }
            }
            keep
        }
    };

    let mut out = String::from("digraph async_tree {\n  rankdir=TB;\n  node [fontsize=10];\n");
    for id in &keep {
        let n = &nodes[id];
        let _ = writeln!(out, "  n{id} [label=\"{}\", shape={}];", n.label, n.shape);
    }
    for id in &keep {
        let n = &nodes[id];
        if keep.contains(&n.trigger) {
            let _ = writeln!(out, "  n{} -> n{id};", n.trigger);
        }
    }
    if wakes {
        for (by, id) in &wake_edges {
            if keep.contains(by) && keep.contains(id) {
                let _ = writeln!(
                    out,
                    "  n{by} -> n{id} [style=dashed, color=gray40, constraint=false];"
                );
            }
        }
    }
    out.push_str("}\n");
    out
}
