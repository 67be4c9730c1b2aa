//! Argument-syntax tests: the pairs parsed, or the error and the source text it points at.

use super::Args;
use quote::ToTokens;

/// Parses `src` as an argument list: `Ok(["name=value", ...])` with the whitespace
/// removed, or `Err((message, source text the error points at))`.
fn check(src: &str) -> Result<Vec<String>, (String, String)> {
    let tokens: proc_macro2::TokenStream = src.parse().expect("test input must lex");
    match syn::parse2::<Args>(tokens) {
        Ok(args) => Ok(args
            .list
            .iter()
            .map(|arg| squash(&arg.to_token_stream().to_string()))
            .collect()),
        Err(e) => Err((e.to_string(), e.span().source_text().unwrap_or_default())),
    }
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn empty_and_trailing_comma() {
    assert_eq!(check(""), Ok(vec![]));
    assert_eq!(
        check("flavor = \"current_thread\","),
        Ok(vec!["flavor=\"current_thread\"".to_owned()])
    );
}

#[test]
fn every_value_shape() {
    assert_eq!(
        check(
            "crate = \"::x\", worker_threads = 4, start_paused = true, \
             hooks = [A::new(), b.clone()], unknown = some::path"
        ),
        Ok(vec![
            "crate=\"::x\"".to_owned(),
            "worker_threads=4".to_owned(),
            "start_paused=true".to_owned(),
            "hooks=[A::new(),b.clone()]".to_owned(),
            "unknown=some::path".to_owned(),
        ])
    );
}

#[test]
fn missing_value_points_at_the_name() {
    let (msg, at) = check("start_paused").unwrap_err();
    assert_eq!(
        msg,
        "expected `=` after `start_paused`: arguments are written `name = value`"
    );
    assert_eq!(at, "start_paused");

    let (msg, at) = check("flavor = \"current_thread\", multi_thread").unwrap_err();
    assert_eq!(
        msg,
        "set the runtime flavor with `flavor = \"multi_thread\"`"
    );
    assert_eq!(at, "multi_thread");
}

#[test]
fn not_a_name() {
    let (msg, at) = check("\"multi_thread\"").unwrap_err();
    assert!(
        msg.starts_with("expected an argument of the form `name = value`"),
        "{msg}"
    );
    assert_eq!(at, "\"multi_thread\"");
}

#[test]
fn missing_comma() {
    let (msg, at) = check("flavor = \"current_thread\" start_paused = true").unwrap_err();
    assert_eq!(msg, "expected `,`");
    assert_eq!(at, "start_paused");
}
