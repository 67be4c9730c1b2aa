//! `#[hookrt::main]` and `#[hookrt::test]`: run an `async fn` on a hookrt runtime.
//!
//! This is the procedural-macro crate behind the two attributes; use them through the
//! `hookrt` crate, which re-exports them as `hookrt::main` and `hookrt::test`. They behave
//! like tokio's `#[tokio::main]` / `#[tokio::test]` (same arguments, same expansion shape)
//! and add one argument, `hooks = [..]`, to register async hooks on the runtime they
//! build, so the hooks see the whole life of the program or test.
//!
//! Code map:
//! - `args.rs`: the syntax of the arguments, `name = value, ...` (a small `syn` parser,
//!   since values include expression lists).
//! - `config.rs`: what the arguments mean; checks them all and reports every error.
//! - `expand.rs`: checks the function and generates the runtime-building body.
//!
//! **Architecture Invariant:** this crate never depends on the runtime crate (a
//! proc-macro crate cannot), so the generated code names it through a path: `::hookrt`,
//! or whatever `crate = "..."` says. The expansion uses only the runtime's public
//! `runtime::Builder` API.

/// Whether the runtime crate has its multi-thread scheduler yet.
///
/// While `false`: `#[hookrt::main]` defaults to the current-thread scheduler, and
/// `flavor = "multi_thread"` or `worker_threads = N` is a compile error that says the
/// scheduler is not built yet. Flip it to `true` when `Builder::new_multi_thread()`
/// exists: `main` then defaults to `multi_thread` (as `#[tokio::main]` does), and both
/// arguments generate `Builder::new_multi_thread()` / `.worker_threads(N)`. Both settings
/// are covered by the unit tests, which pass the value explicitly.
const MULTI_THREAD_AVAILABLE: bool = true;

mod args;
mod config;
mod expand;

use config::EntryKind;
use proc_macro::TokenStream;

/// Marks an `async fn` as the program's entry point, run on a hookrt runtime.
///
/// The function is rewritten into a plain `fn` that builds a runtime, registers the
/// given hooks, and blocks on the original body. The return type is kept, so
/// `-> Result<(), E>` and `?` work as in any `main`. The function may have any name but
/// must not take arguments.
///
/// # Arguments
///
/// All optional, comma separated, each `name = value`:
///
/// | argument | value | default | effect on the runtime `Builder` |
/// |---|---|---|---|
/// | `flavor` | `"current_thread"` or `"multi_thread"` | `"multi_thread"` [^mt] | `new_current_thread()` / `new_multi_thread()` |
/// | `worker_threads` | integer literal, at least 1 | the runtime's default | `.worker_threads(N)`; `multi_thread` only |
/// | `start_paused` | `true` or `false` | `false` | `.start_paused(true)`: time starts paused |
/// | `crate` | string literal holding a path | `"::hookrt"` | where the runtime crate is, if renamed or re-exported |
/// | `hooks` | `[expr, expr, ...]`, any Rust expressions | `[]` | `.hook(expr)` for each, in order |
///
/// [^mt]: Until the multi-thread scheduler is built, the default is `"current_thread"`,
///     and asking for `"multi_thread"` or `worker_threads` is a compile error.
///
/// The runtime always gets `.enable_all()` (I/O and time).
///
/// # Examples
///
/// ```ignore
/// #[hookrt::main]
/// async fn main() -> std::io::Result<()> {
///     let listener = hookrt::net::TcpListener::bind("127.0.0.1:8080").await?;
///     // ...
///     Ok(())
/// }
/// ```
///
/// With hooks (each expression's value must implement `Hook`; an `Arc<H>` does too, so
/// a hook can be kept to read what it gathered):
///
/// ```ignore
/// static TIMINGS: LazyLock<Arc<Timings>> = LazyLock::new(|| Arc::new(Timings::new()));
///
/// #[hookrt::main(flavor = "current_thread", hooks = [RequestLog::new(), TIMINGS.clone()])]
/// async fn main() {
///     serve().await;
///     TIMINGS.report();
/// }
/// ```
///
/// # Expansion
///
/// `#[hookrt::main(hooks = [A::new(), b()])] async fn main() -> Result<(), E> { BODY }`
/// becomes:
///
/// ```text
/// fn main() -> Result<(), E> {
///     let body = async move { BODY };
///     let body = ::core::pin::pin!(body);
///     let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = Result<(), E>>> = body;
///     #[allow(clippy::expect_used, clippy::diverging_sub_expression, clippy::needless_return)]
///     {
///         return ::hookrt::runtime::Builder::new_current_thread()
///             .enable_all()
///             .hook(A::new())
///             .hook(b())
///             .build()
///             .expect("Failed building the Runtime")
///             .block_on(body);
///     }
/// }
/// ```
///
/// The two `pin` lines appear only with an explicit return type (and not for `-> impl
/// Trait` or `-> !`); `.worker_threads(N)` and `.start_paused(true)` come right after
/// `.enable_all()` when asked for.
///
/// # Errors
///
/// A compile error, on the offending tokens, for: a function that is not `async`, a
/// function with arguments, an unknown or repeated argument, a value of the wrong kind,
/// an unknown flavor, `worker_threads = 0`, and `worker_threads` on a current-thread
/// runtime. The function is still emitted next to the error, so an IDE keeps working.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::entry(
        EntryKind::Main,
        args.into(),
        item.into(),
        MULTI_THREAD_AVAILABLE,
    )
    .into()
}

/// Marks an `async fn` as a test, run on its own hookrt runtime.
///
/// Like [`macro@main`], but the generated function carries `#[test]` (emitted as
/// `#[::core::prelude::v1::test]`, ahead of the attributes you wrote, which are kept in
/// their order, so `#[should_panic]` and `#[ignore]` work), and the runtime is
/// current-thread unless asked otherwise. Each test builds its own runtime and hooks.
/// The function must not take arguments; do not also write `#[test]`.
///
/// # Arguments
///
/// | argument | value | default | effect on the runtime `Builder` |
/// |---|---|---|---|
/// | `flavor` | `"current_thread"` or `"multi_thread"` [^mt] | `"current_thread"` | `new_current_thread()` / `new_multi_thread()` |
/// | `worker_threads` | integer literal, at least 1 | the runtime's default | `.worker_threads(N)`; needs `flavor = "multi_thread"` |
/// | `start_paused` | `true` or `false` | `false` | `.start_paused(true)`: time starts paused (see `hookrt::time::pause`) |
/// | `crate` | string literal holding a path | `"::hookrt"` | where the runtime crate is, if renamed or re-exported |
/// | `hooks` | `[expr, expr, ...]`, any Rust expressions | `[]` | `.hook(expr)` for each, in order |
///
/// [^mt]: Until the multi-thread scheduler is built, `"multi_thread"` and
///     `worker_threads` are a compile error.
///
/// # Examples
///
/// ```ignore
/// #[hookrt::test]
/// async fn sleeps() {
///     hookrt::time::sleep(Duration::from_millis(1)).await;
/// }
///
/// #[hookrt::test(start_paused = true, hooks = [Ledger::new()])]
/// async fn timers_fire_in_order() {
///     // ...
/// }
///
/// #[hookrt::test]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     panic!("boom");
/// }
/// ```
///
/// # Expansion
///
/// `#[hookrt::test] #[ignore] async fn t() { BODY }` becomes:
///
/// ```text
/// #[::core::prelude::v1::test]
/// #[ignore]
/// fn t() {
///     let body = async move { BODY };
///     #[allow(clippy::expect_used, clippy::diverging_sub_expression, clippy::needless_return)]
///     {
///         return ::hookrt::runtime::Builder::new_current_thread()
///             .enable_all()
///             .build()
///             .expect("Failed building the Runtime")
///             .block_on(body);
///     }
/// }
/// ```
///
/// # Errors
///
/// As for [`macro@main`], plus a second `#[test]` attribute on the function.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::entry(
        EntryKind::Test,
        args.into(),
        item.into(),
        MULTI_THREAD_AVAILABLE,
    )
    .into()
}
