//! Argument-meaning tests: the checked configuration, or each error and the source text
//! it points at, with the multi-thread scheduler available and not.

use super::{Config, EntryKind, Flavor, MULTI_THREAD_NOT_BUILT};
use crate::args::Args;
use quote::ToTokens;

use EntryKind::{Main, Test};
use Flavor::{CurrentThread, MultiThread};

/// What a checked configuration boils down to, comparable in one `assert_eq!`.
#[derive(Debug, PartialEq)]
struct Summary {
    flavor: Flavor,
    worker_threads: Option<usize>,
    start_paused: bool,
    crate_path: String,
    hooks: Vec<String>,
}

/// Each error as `(message, source text it points at)`.
type Errors = Vec<(String, String)>;

/// Parses and checks `src` as the arguments of `kind`.
fn check(kind: EntryKind, multi_thread: bool, src: &str) -> Result<Summary, Errors> {
    let tokens: proc_macro2::TokenStream = src.parse().expect("test input must lex");
    let args: Args = syn::parse2(tokens).expect("test input must be valid syntax");
    match Config::from_args(kind, &args, multi_thread) {
        (config, None) => Ok(Summary {
            flavor: config.flavor,
            worker_threads: config.worker_threads.map(|(n, _)| n),
            start_paused: config.start_paused,
            crate_path: squash(&config.crate_path),
            hooks: config.hooks.iter().map(squash).collect(),
        }),
        (_, Some(errors)) => Err(errors
            .into_iter()
            .map(|e| (e.to_string(), e.span().source_text().unwrap_or_default()))
            .collect()),
    }
}

fn squash(tokens: &impl ToTokens) -> String {
    let s = tokens.to_token_stream().to_string();
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn summary(flavor: Flavor) -> Summary {
    Summary {
        flavor,
        worker_threads: None,
        start_paused: false,
        crate_path: "::hookrt".to_owned(),
        hooks: vec![],
    }
}

fn error(message: &str, at: &str) -> Result<Summary, Errors> {
    Err(vec![(message.to_owned(), at.to_owned())])
}

#[test]
fn defaults() {
    assert_eq!(check(Main, false, ""), Ok(summary(CurrentThread)));
    assert_eq!(check(Main, true, ""), Ok(summary(MultiThread)));
    assert_eq!(check(Test, false, ""), Ok(summary(CurrentThread)));
    assert_eq!(check(Test, true, ""), Ok(summary(CurrentThread)));
}

#[test]
fn flavor() {
    for kind in [Main, Test] {
        for mt in [false, true] {
            let current = check(kind, mt, "flavor = \"current_thread\"");
            assert_eq!(current, Ok(summary(CurrentThread)));
        }
        assert_eq!(
            check(kind, true, "flavor = \"multi_thread\""),
            Ok(summary(MultiThread))
        );
        assert_eq!(
            check(kind, false, "flavor = \"multi_thread\""),
            error(MULTI_THREAD_NOT_BUILT, "\"multi_thread\"")
        );
    }
    assert_eq!(
        check(Main, true, "flavor = \"threaded\""),
        error(
            "no runtime flavor \"threaded\"; the flavors are \"current_thread\" and \"multi_thread\"",
            "\"threaded\""
        )
    );
    assert_eq!(
        check(Main, true, "flavor = multi_thread"),
        error(
            "`flavor` takes a string literal; the flavors are \"current_thread\" and \"multi_thread\"",
            "multi_thread"
        )
    );
}

#[test]
fn worker_threads() {
    let four = Summary {
        worker_threads: Some(4),
        ..summary(MultiThread)
    };
    assert_eq!(check(Main, true, "worker_threads = 4"), Ok(four));
    let two = Summary {
        worker_threads: Some(2),
        ..summary(MultiThread)
    };
    assert_eq!(
        check(Test, true, "flavor = \"multi_thread\", worker_threads = 2"),
        Ok(two)
    );
    assert_eq!(
        check(Main, true, "worker_threads = 0"),
        error(
            "`worker_threads` may not be 0: a multi-thread runtime needs at least one worker",
            "0"
        )
    );
    assert_eq!(
        check(Main, true, "worker_threads = \"4\""),
        error(
            "`worker_threads` takes an integer literal, e.g. `worker_threads = 4`",
            "\"4\""
        )
    );
    // Not built yet: the request itself is the error.
    assert_eq!(
        check(Main, false, "worker_threads = 4"),
        error(MULTI_THREAD_NOT_BUILT, "worker_threads = 4")
    );
    // Asked for multi_thread while unavailable: one error, on the flavor.
    assert_eq!(
        check(Main, false, "flavor = \"multi_thread\", worker_threads = 4"),
        error(MULTI_THREAD_NOT_BUILT, "\"multi_thread\"")
    );
}

#[test]
fn worker_threads_with_current_thread() {
    for kind in [Main, Test] {
        for mt in [false, true] {
            assert_eq!(
                check(kind, mt, "flavor = \"current_thread\", worker_threads = 4"),
                error(
                    "`worker_threads` requires the `multi_thread` runtime flavor, \
                     but this runtime is `flavor = \"current_thread\"`",
                    "worker_threads = 4"
                )
            );
        }
    }
    // A test defaults to current_thread, so worker_threads needs an explicit flavor.
    assert_eq!(
        check(Test, true, "worker_threads = 4"),
        error(
            "`worker_threads` requires the `multi_thread` runtime flavor; \
             use `#[hookrt::test(flavor = \"multi_thread\", worker_threads = 4)]`",
            "worker_threads = 4"
        )
    );
}

#[test]
fn start_paused() {
    let paused = Summary {
        start_paused: true,
        ..summary(CurrentThread)
    };
    assert_eq!(check(Test, false, "start_paused = true"), Ok(paused));
    assert_eq!(
        check(Test, false, "start_paused = false"),
        Ok(summary(CurrentThread))
    );
    assert_eq!(
        check(Test, false, "start_paused = 1"),
        error("`start_paused` takes `true` or `false`", "1")
    );
}

#[test]
fn crate_path() {
    let renamed = Summary {
        crate_path: "my_app::rt".to_owned(),
        ..summary(CurrentThread)
    };
    assert_eq!(check(Main, false, "crate = \"my_app::rt\""), Ok(renamed));
    assert_eq!(
        check(Main, false, "crate = \"not a path\""),
        error(
            "`crate` must name a path such as \"::hookrt\" or \"my_crate::rt\", \
             e.g. `crate = \"::hookrt\"`",
            "\"not a path\""
        )
    );
    assert_eq!(
        check(Main, false, "crate = hookrt"),
        error(
            "`crate` takes the path of the runtime crate as a string literal, \
             e.g. `crate = \"::hookrt\"`",
            "hookrt"
        )
    );
}

#[test]
fn hooks() {
    let two = Summary {
        hooks: vec![
            "Ledger::new()".to_owned(),
            "Arc::clone(&TIMINGS)".to_owned(),
        ],
        ..summary(CurrentThread)
    };
    assert_eq!(
        check(
            Test,
            false,
            "hooks = [Ledger::new(), Arc::clone(&TIMINGS),]"
        ),
        Ok(two)
    );
    assert_eq!(check(Test, false, "hooks = []"), Ok(summary(CurrentThread)));
    assert_eq!(
        check(Test, false, "hooks = Ledger::new()"),
        error(
            "`hooks` takes a list of hook expressions, e.g. `hooks = [MyHook::new(), OtherHook::default()]`",
            "Ledger::new()"
        )
    );
}

#[test]
fn unknown_argument_names_the_valid_ones() {
    assert_eq!(
        check(Main, false, "flavour = \"current_thread\""),
        error(
            "unknown argument `flavour`; the valid arguments are \
             `flavor`, `worker_threads`, `start_paused`, `crate`, `hooks`",
            "flavour"
        )
    );
}

#[test]
fn duplicate_argument() {
    assert_eq!(
        check(Main, false, "start_paused = true, start_paused = false"),
        error("`start_paused` is given more than once", "start_paused")
    );
}

#[test]
fn all_errors_are_reported_together() {
    let errors = check(
        Test,
        false,
        "flavor = \"bogus\", colour = 1, start_paused = yes, hooks = [A::new()]",
    )
    .unwrap_err();
    let at: Vec<&str> = errors.iter().map(|(_, at)| at.as_str()).collect();
    assert_eq!(at, ["\"bogus\"", "colour", "yes"]);
}

#[test]
fn valid_arguments_survive_an_error() {
    let tokens: proc_macro2::TokenStream = "crate = \"my_rt\", colour = 1, hooks = [A]"
        .parse()
        .expect("lexes");
    let args: Args = syn::parse2(tokens).expect("parses");
    let (config, error) = Config::from_args(Main, &args, false);
    assert!(error.is_some());
    assert_eq!(squash(&config.crate_path), "my_rt");
    assert_eq!(config.hooks.len(), 1);
}
