//! What the arguments mean: turning `Args` into a checked `Config`.
//!
//! Every argument is checked and every error is kept (combined into one `syn::Error`), so
//! a user sees all mistakes of one attribute at once. Alongside the errors a best-effort
//! `Config` is always produced — valid arguments keep their effect, invalid ones fall back
//! to the default — so the expansion stays close to what the user meant and an IDE keeps
//! working on the function body while the attribute is wrong.

use crate::args::{Arg, Args};
use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, Lit, LitStr, Path};

/// The argument names, in the order the docs list them.
const VALID_ARGUMENTS: &str = "`flavor`, `worker_threads`, `start_paused`, `crate`, `hooks`";

/// The error for asking for a scheduler that `MULTI_THREAD_AVAILABLE` says is not built.
pub(crate) const MULTI_THREAD_NOT_BUILT: &str =
    "hookrt: the multi-thread scheduler is not built yet; use flavor = \"current_thread\"";

/// Which attribute is being expanded; it decides the default flavor and error wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryKind {
    /// `#[hookrt::main]`.
    Main,
    /// `#[hookrt::test]`.
    Test,
}

impl EntryKind {
    /// The attribute as a user writes it, for error messages.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            EntryKind::Main => "hookrt::main",
            EntryKind::Test => "hookrt::test",
        }
    }

    /// The flavor used when no `flavor` argument is given: multi-thread for `main` (as in
    /// tokio) once that scheduler exists, current-thread otherwise and for tests.
    fn default_flavor(self, multi_thread_available: bool) -> Flavor {
        match self {
            EntryKind::Main if multi_thread_available => Flavor::MultiThread,
            EntryKind::Main | EntryKind::Test => Flavor::CurrentThread,
        }
    }
}

/// The runtime flavor: which `Builder` constructor the expansion calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `Builder::new_current_thread()`.
    CurrentThread,
    /// `Builder::new_multi_thread()`.
    MultiThread,
}

/// Everything the expansion needs, checked.
///
/// **Invariant:** `worker_threads` is `Some` only with `Flavor::MultiThread`, and `flavor`
/// is `MultiThread` only when the multi-thread scheduler is available.
pub(crate) struct Config {
    /// Which scheduler the runtime uses.
    pub(crate) flavor: Flavor,
    /// `worker_threads = N` (never 0), with the span of `N` for the generated call.
    pub(crate) worker_threads: Option<(usize, Span)>,
    /// Whether to call `.start_paused(true)`.
    pub(crate) start_paused: bool,
    /// Where the runtime crate is: `::hookrt` unless `crate = "..."` says otherwise.
    pub(crate) crate_path: Path,
    /// The `hooks = [...]` expressions, registered in this order.
    pub(crate) hooks: Vec<Expr>,
}

impl Config {
    /// The configuration of an attribute written without arguments.
    pub(crate) fn defaults(kind: EntryKind, multi_thread_available: bool) -> Config {
        Config {
            flavor: kind.default_flavor(multi_thread_available),
            worker_threads: None,
            start_paused: false,
            crate_path: syn::parse_quote!(::hookrt),
            hooks: Vec::new(),
        }
    }

    /// Interprets `args`. Returns the (best-effort) configuration and, if anything was
    /// wrong, all the errors, each spanned on the tokens at fault.
    pub(crate) fn from_args(
        kind: EntryKind,
        args: &Args,
        multi_thread_available: bool,
    ) -> (Config, Option<syn::Error>) {
        let mut config = Config::defaults(kind, multi_thread_available);
        let mut errors = Errors(None);
        let mut seen: Vec<String> = Vec::new();
        // The explicit flavor and worker count are checked against each other at the end.
        let mut flavor: Option<(Flavor, &Arg)> = None;
        let mut worker_threads: Option<((usize, Span), &Arg)> = None;

        for arg in &args.list {
            let name = arg.name.to_string();
            if seen.contains(&name) {
                errors.push(syn::Error::new_spanned(
                    &arg.name,
                    format!("`{name}` is given more than once"),
                ));
                continue;
            }
            let value = strip_groups(&arg.value);
            let parsed = match name.as_str() {
                "flavor" => parse_flavor(value).map(|f| flavor = Some((f, arg))),
                "worker_threads" => {
                    parse_worker_threads(value).map(|n| worker_threads = Some((n, arg)))
                }
                "start_paused" => {
                    parse_bool(value, "start_paused").map(|b| config.start_paused = b)
                }
                "crate" => parse_crate_path(value).map(|p| config.crate_path = p),
                "hooks" => parse_hooks(value).map(|h| config.hooks = h),
                _ => {
                    errors.push(syn::Error::new_spanned(
                        &arg.name,
                        format!(
                            "unknown argument `{name}`; the valid arguments are {VALID_ARGUMENTS}"
                        ),
                    ));
                    continue;
                }
            };
            seen.push(name);
            if let Err(e) = parsed {
                errors.push(e);
            }
        }

        match flavor {
            Some((Flavor::MultiThread, arg)) if !multi_thread_available => {
                errors.push(syn::Error::new_spanned(&arg.value, MULTI_THREAD_NOT_BUILT));
            }
            Some((explicit, _)) => config.flavor = explicit,
            None => {}
        }
        if let Some((count, arg)) = worker_threads {
            if config.flavor == Flavor::MultiThread {
                config.worker_threads = Some(count);
            } else {
                match flavor {
                    // Already reported: multi_thread was asked for but is not available.
                    Some((Flavor::MultiThread, _)) => {}
                    Some((Flavor::CurrentThread, _)) => errors.push(syn::Error::new_spanned(
                        arg,
                        "`worker_threads` requires the `multi_thread` runtime flavor, \
                         but this runtime is `flavor = \"current_thread\"`",
                    )),
                    None if !multi_thread_available => {
                        errors.push(syn::Error::new_spanned(arg, MULTI_THREAD_NOT_BUILT));
                    }
                    None => errors.push(syn::Error::new_spanned(
                        arg,
                        format!(
                            "`worker_threads` requires the `multi_thread` runtime flavor; \
                             use `#[{}(flavor = \"multi_thread\", {})]`",
                            kind.attribute(),
                            arg.to_token_stream(),
                        ),
                    )),
                }
            }
        }
        (config, errors.0)
    }
}

/// Errors gathered so far, combined into one.
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }
}

/// Looks through the invisible groups that `macro_rules!` puts around `$value:expr`, so
/// that `#[hookrt::test(flavor = $flavor)]` inside a declarative macro works.
fn strip_groups(mut value: &Expr) -> &Expr {
    while let Expr::Group(group) = value {
        value = &group.expr;
    }
    value
}

fn literal(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(lit) if lit.attrs.is_empty() => Some(&lit.lit),
        _ => None,
    }
}

fn string<'a>(value: &'a Expr, what: &str) -> syn::Result<&'a LitStr> {
    match literal(value) {
        Some(Lit::Str(s)) => Ok(s),
        _ => Err(syn::Error::new_spanned(value, what)),
    }
}

fn parse_flavor(value: &Expr) -> syn::Result<Flavor> {
    const FLAVORS: &str = "the flavors are \"current_thread\" and \"multi_thread\"";
    let lit = string(
        value,
        &format!("`flavor` takes a string literal; {FLAVORS}"),
    )?;
    match lit.value().as_str() {
        "current_thread" => Ok(Flavor::CurrentThread),
        "multi_thread" => Ok(Flavor::MultiThread),
        other => Err(syn::Error::new_spanned(
            lit,
            format!("no runtime flavor \"{other}\"; {FLAVORS}"),
        )),
    }
}

fn parse_worker_threads(value: &Expr) -> syn::Result<(usize, Span)> {
    let Some(Lit::Int(int)) = literal(value) else {
        return Err(syn::Error::new_spanned(
            value,
            "`worker_threads` takes an integer literal, e.g. `worker_threads = 4`",
        ));
    };
    let count: usize = int.base10_parse()?;
    if count == 0 {
        return Err(syn::Error::new_spanned(
            int,
            "`worker_threads` may not be 0: a multi-thread runtime needs at least one worker",
        ));
    }
    Ok((count, int.span()))
}

fn parse_bool(value: &Expr, name: &str) -> syn::Result<bool> {
    match literal(value) {
        Some(Lit::Bool(b)) => Ok(b.value),
        _ => Err(syn::Error::new_spanned(
            value,
            format!("`{name}` takes `true` or `false`"),
        )),
    }
}

fn parse_crate_path(value: &Expr) -> syn::Result<Path> {
    const EXAMPLE: &str = "e.g. `crate = \"::hookrt\"`";
    let lit = string(
        value,
        &format!("`crate` takes the path of the runtime crate as a string literal, {EXAMPLE}"),
    )?;
    lit.parse::<Path>().map_err(|_| {
        syn::Error::new_spanned(
            lit,
            format!("`crate` must name a path such as \"::hookrt\" or \"my_crate::rt\", {EXAMPLE}"),
        )
    })
}

fn parse_hooks(value: &Expr) -> syn::Result<Vec<Expr>> {
    match value {
        Expr::Array(array) if array.attrs.is_empty() => Ok(array.elems.iter().cloned().collect()),
        _ => Err(syn::Error::new_spanned(
            value,
            "`hooks` takes a list of hook expressions, e.g. `hooks = [MyHook::new(), OtherHook::default()]`",
        )),
    }
}

#[cfg(test)]
mod tests;
