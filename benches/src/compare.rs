//! [`compare_runtimes!`](crate::compare_runtimes): one workload on every runtime
//! contender, in one criterion group.

/// Runs a generic workload on the six runtime contenders, each on a runtime of its own
/// built just before its turn and dropped right after it: `tokio`, `tokio+metrics`
/// ([`Metered`](crate::Metered)), `tokio+task_local` ([`TaskLocal`](crate::TaskLocal)),
/// `hookrt`, `hookrt+noop` and `hookrt+ctx` ([`WithContext`](crate::WithContext)).
///
/// `$workload` is a generic function `fn<R: BenchRuntime>(&mut Group, &'static str, &R)`
/// (or a bound narrower than `BenchRuntime` that all six types meet) that registers one
/// benchmark function with the given id in the group; a macro rather than a function
/// because Rust needs one monomorphised copy per runtime type.
///
/// ```ignore
/// let mut group = c.benchmark_group("yield_many");
/// compare_runtimes!(&mut group, Flavor::MultiThread, Drivers::None, yield_many);
/// group.finish();
/// ```
#[macro_export]
macro_rules! compare_runtimes {
    ($group:expr, $flavor:expr, $drivers:expr, $workload:ident) => {{
        use $crate::Contender;
        let (flavor, drivers) = ($flavor, $drivers);
        let group = $group;
        $workload(
            &mut *group,
            Contender::Tokio.name(),
            &Contender::tokio_runtime_of(flavor, drivers),
        );
        $workload(
            &mut *group,
            Contender::TokioMetrics.name(),
            &$crate::Metered(Contender::tokio_runtime_of(flavor, drivers)),
        );
        $workload(
            &mut *group,
            Contender::TokioTaskLocal.name(),
            &$crate::TaskLocal(Contender::tokio_runtime_of(flavor, drivers)),
        );
        $workload(
            &mut *group,
            Contender::Hookrt.name(),
            &Contender::Hookrt.hookrt_runtime_of(flavor, drivers),
        );
        $workload(
            &mut *group,
            Contender::HookrtNoop.name(),
            &Contender::HookrtNoop.hookrt_runtime_of(flavor, drivers),
        );
        $workload(
            &mut *group,
            Contender::HookrtCtx.name(),
            &$crate::WithContext(Contender::HookrtCtx.hookrt_runtime_of(flavor, drivers)),
        );
    }};
}
