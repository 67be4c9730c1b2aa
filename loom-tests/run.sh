#!/usr/bin/env bash
# Runs the loom models against the runtime's real code (see README.md).
#
# `--cfg loom` changes every crate in the graph, so the build gets its own target dir and
# does not invalidate normal builds. Extra arguments go to `cargo test` (for instance a
# test name, or `-- --nocapture` to see how many executions each model explored).
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="--cfg loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
# The task state machine states its invariants with `debug_assert!`: keep them on in the
# optimised build the models run in.
export CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true

cargo test -p hookrt-loom-tests --release --target-dir target/loom "$@"
# The I/O driver keeps its readiness models next to its code (run with the full set only).
if [ "$#" -eq 0 ]; then
    cargo test -p hookrt-io-driver --release --test loom_readiness --target-dir target/loom
fi
