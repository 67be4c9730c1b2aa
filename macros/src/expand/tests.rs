//! Expansion tests: the generated token text, and the errors (message and the source
//! text they point at) that come with it.

use super::entry;
use crate::config::{EntryKind, MULTI_THREAD_NOT_BUILT};
use proc_macro2::{TokenStream, TokenTree};

use EntryKind::{Main, Test};

/// The result of one expansion.
#[derive(Debug)]
struct Expansion {
    /// The output without `compile_error!`s, whitespace removed.
    code: String,
    /// Each `compile_error!` as `(message, source text it points at)`.
    errors: Vec<(String, String)>,
}

/// Expands `#[kind(args)] item` with the multi-thread scheduler available or not. The
/// output must always be a well-formed list of items.
fn check(kind: EntryKind, multi_thread: bool, args: &str, item: &str) -> Expansion {
    let args: TokenStream = args.parse().expect("test args must lex");
    let item: TokenStream = item.parse().expect("test item must lex");
    let output = entry(kind, args, item, multi_thread);
    let file: syn::File = syn::parse2(output).expect("the expansion must parse as items");
    let mut code = TokenStream::new();
    let mut errors = Vec::new();
    for item in file.items {
        match item {
            syn::Item::Macro(m)
                if m.mac.path.is_ident("compile_error") || is_core_compile_error(&m) =>
            {
                errors.push(compile_error_text(&m.mac));
            }
            other => quote::ToTokens::to_tokens(&other, &mut code),
        }
    }
    Expansion {
        code: squash(&code.to_string()),
        errors,
    }
}

fn is_core_compile_error(m: &syn::ItemMacro) -> bool {
    let names: Vec<String> = m
        .mac
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    names == ["core", "compile_error"]
}

/// `(message, source text)` of `::core::compile_error! { "message" }` as syn emits it:
/// the path carries the error's start span, the message literal its end span.
fn compile_error_text(mac: &syn::Macro) -> (String, String) {
    let start = mac.path.segments[0].ident.span();
    let Some(TokenTree::Literal(literal)) = mac.tokens.clone().into_iter().next() else {
        panic!("compile_error! without a message: {}", mac.tokens);
    };
    let message: syn::LitStr = syn::parse_quote!(#literal);
    let at = start
        .join(literal.span())
        .and_then(|span| span.source_text())
        .unwrap_or_default();
    (message.value(), at)
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Asserts that `code` contains `expected` (both compared without whitespace).
#[track_caller]
fn assert_has(expansion: &Expansion, expected: &str) {
    let expected = squash(expected);
    assert!(
        expansion.code.contains(&expected),
        "expected\n  {expected}\nin\n  {}",
        expansion.code
    );
}

#[track_caller]
fn assert_lacks(expansion: &Expansion, unexpected: &str) {
    let unexpected = squash(unexpected);
    assert!(
        !expansion.code.contains(&unexpected),
        "did not expect\n  {unexpected}\nin\n  {}",
        expansion.code
    );
}

fn ok(expansion: Expansion) -> Expansion {
    assert!(expansion.errors.is_empty(), "{:?}", expansion.errors);
    expansion
}

#[test]
fn main_exact_shape() {
    let out = ok(check(Main, false, "", "async fn main() { run().await; }"));
    assert_eq!(
        out.code,
        squash(
            r#"
            fn main() {
                let body = async move { run().await; };
                #[allow(clippy::expect_used, clippy::diverging_sub_expression, clippy::needless_return)]
                {
                    return ::hookrt::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("Failed building the Runtime")
                        .block_on(body);
                }
            }
            "#
        )
    );
}

#[test]
fn main_defaults_to_multi_thread_once_available() {
    let out = ok(check(Main, true, "", "async fn main() {}"));
    assert_has(
        &out,
        "::hookrt::runtime::Builder::new_multi_thread().enable_all().build()",
    );

    let out = ok(check(
        Main,
        true,
        "worker_threads = 4",
        "async fn main() {}",
    ));
    assert_has(
        &out,
        "Builder::new_multi_thread().enable_all().worker_threads(4).build()",
    );

    let out = ok(check(
        Test,
        true,
        "flavor = \"multi_thread\"",
        "async fn t() {}",
    ));
    assert_has(&out, "Builder::new_multi_thread().enable_all().build()");
}

#[test]
fn multi_thread_not_built_yet() {
    for kind in [Main, Test] {
        let out = check(kind, false, "flavor = \"multi_thread\"", "async fn f() {}");
        assert_eq!(
            out.errors,
            [(
                MULTI_THREAD_NOT_BUILT.to_owned(),
                "\"multi_thread\"".to_owned()
            )]
        );
        // Still expanded, on the scheduler that exists.
        assert_has(&out, "fn f() { let body = async move {};");
        assert_has(&out, "Builder::new_current_thread()");
    }
    let out = check(Main, false, "worker_threads = 2", "async fn main() {}");
    assert_eq!(
        out.errors,
        [(
            MULTI_THREAD_NOT_BUILT.to_owned(),
            "worker_threads = 2".to_owned()
        )]
    );
    assert_lacks(&out, ".worker_threads(");
}

#[test]
fn test_attribute_comes_first_and_user_attributes_keep_their_order() {
    let out = ok(check(
        Test,
        false,
        "",
        r#"
        /// Docs stay.
        #[should_panic(expected = "boom")]
        #[ignore]
        async fn panics() { panic!("boom"); }
        "#,
    ));
    assert!(
        out.code.starts_with(&squash(
            r#"#[::core::prelude::v1::test]
            #[doc = " Docs stay."]
            #[should_panic(expected = "boom")]
            #[ignore]
            fn panics() {
                let body = async move { panic!("boom"); };"#
        )),
        "{}",
        out.code
    );
    assert_has(&out, "Builder::new_current_thread().enable_all().build()");
    // `main` adds no test attribute.
    let out = ok(check(Main, false, "", "async fn main() {}"));
    assert_lacks(&out, "test]");
}

#[test]
fn hooks_are_registered_in_order() {
    let out = ok(check(
        Test,
        false,
        "hooks = [Ledger::new(), Arc::clone(&TIMINGS)]",
        "async fn t() {}",
    ));
    assert_has(
        &out,
        ".enable_all().hook(Ledger::new()).hook(Arc::clone(&TIMINGS)).build()",
    );
}

#[test]
fn start_paused() {
    let out = ok(check(
        Test,
        false,
        "hooks = [A], start_paused = true",
        "async fn t() {}",
    ));
    assert_has(&out, ".enable_all().start_paused(true).hook(A).build()");

    let out = ok(check(
        Test,
        false,
        "start_paused = false",
        "async fn t() {}",
    ));
    assert_lacks(&out, "start_paused");
}

#[test]
fn crate_path() {
    let out = ok(check(
        Main,
        false,
        "crate = \"my_app::rt\"",
        "async fn main() {}",
    ));
    assert_has(
        &out,
        "return my_app::rt::runtime::Builder::new_current_thread()",
    );
    assert_lacks(&out, "hookrt");
}

#[test]
fn explicit_return_type_is_kept() {
    let out = ok(check(
        Main,
        false,
        "",
        "async fn main() -> Result<(), Box<dyn std::error::Error>> { f()?; Ok(()) }",
    ));
    assert_has(
        &out,
        r#"
        fn main() -> Result<(), Box<dyn std::error::Error>> {
            let body = async move { f()?; Ok(()) };
            let body = ::core::pin::pin!(body);
            let body: ::core::pin::Pin<&mut dyn ::core::future::Future<
                Output = Result<(), Box<dyn std::error::Error>>
            >> = body;
            #[allow("#,
    );
    assert_has(&out, ".block_on(body);");

    // Return types that cannot be written in `dyn Future<Output = _>` stay untyped.
    for ret in ["impl std::process::Termination", "Box<impl Sized>", "!"] {
        let out = ok(check(
            Main,
            false,
            "",
            &format!("async fn main() -> {ret} {{ loop {{}} }}"),
        ));
        assert_has(
            &out,
            &format!("fn main() -> {ret} {{ let body = async move {{ loop {{}} }}; #[allow("),
        );
        assert_lacks(&out, "Pin<");
    }

    // No return type: no typed let.
    let out = ok(check(Test, false, "", "async fn t() {}"));
    assert_lacks(&out, "Pin<");
}

#[test]
fn signature_is_kept_otherwise() {
    let out = ok(check(
        Main,
        false,
        "",
        "pub(crate) async fn start() where (): Sized { #![allow(unused)] let x = 1; }",
    ));
    assert!(
        out.code.starts_with(&squash(
            "pub(crate) fn start() where (): Sized {
                #![allow(unused)]
                let body = async move { let x = 1; };"
        )),
        "{}",
        out.code
    );
}

#[test]
fn async_missing() {
    let item = "#[inline] fn main() { work(); }";
    let out = check(Main, false, "", item);
    // The function is handed back as written.
    assert_eq!(out.code, squash(item));
    assert_eq!(
        out.errors,
        [(
            "the `async` keyword is missing from the function declaration; \
             #[hookrt::main] applies to an `async fn`"
                .to_owned(),
            "fn".to_owned()
        )]
    );
    let out = check(Test, false, "flavour = 1", "fn t() {}");
    let messages: Vec<&str> = out.errors.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].starts_with("the `async` keyword is missing"));
    assert!(messages[1].starts_with("unknown argument `flavour`"));
}

#[test]
fn arguments_are_rejected() {
    for (kind, attribute) in [(Main, "hookrt::main"), (Test, "hookrt::test")] {
        let out = check(kind, false, "", "async fn f(x: u32, y: u32) {}");
        assert_eq!(
            out.errors,
            [(
                format!("the `async fn` marked #[{attribute}] cannot take arguments"),
                "x: u32, y: u32".to_owned()
            )]
        );
        // Still expanded, so the body keeps its IDE support.
        assert_has(&out, "fn f(x: u32, y: u32) { let body = async move {};");
    }
}

#[test]
fn second_test_attribute() {
    for attr in [
        "#[test]",
        "#[::core::prelude::v1::test]",
        "#[std::prelude::rust_2021::test]",
    ] {
        let out = check(Test, false, "", &format!("{attr} async fn t() {{}}"));
        assert_eq!(
            out.errors,
            [(
                "second test attribute: #[hookrt::test] already emits #[test]; remove this one"
                    .to_owned(),
                attr.to_owned()
            )]
        );
    }
    // Attributes that merely end in `test` elsewhere are not the built-in one.
    ok(check(
        Test,
        false,
        "",
        "#[serial_test::test] async fn t() {}",
    ));
}

#[test]
fn argument_errors_keep_the_expansion() {
    let out = check(
        Main,
        false,
        "crate = \"my_rt\", flavour = \"current_thread\", hooks = [A]",
        "async fn main() {}",
    );
    assert_eq!(
        out.errors,
        [(
            "unknown argument `flavour`; the valid arguments are \
             `flavor`, `worker_threads`, `start_paused`, `crate`, `hooks`"
                .to_owned(),
            "flavour".to_owned()
        )]
    );
    // The valid arguments still apply.
    assert_has(&out, "fn main() { let body = async move {};");
    assert_has(
        &out,
        "return my_rt::runtime::Builder::new_current_thread().enable_all().hook(A).build()",
    );
}

#[test]
fn syntax_error_in_arguments_falls_back_to_defaults() {
    let out = check(
        Test,
        false,
        "flavor = \"current_thread\" start_paused = true",
        "async fn t() {}",
    );
    assert_eq!(
        out.errors,
        [("expected `,`".to_owned(), "start_paused".to_owned())]
    );
    assert_has(
        &out,
        "return ::hookrt::runtime::Builder::new_current_thread().enable_all().build()",
    );
}

#[test]
fn not_a_function() {
    let out = check(Main, false, "", "struct Main;");
    assert_eq!(out.code, "structMain;");
    assert_eq!(out.errors.len(), 1);
    assert_eq!(out.errors[0].0, "expected `fn`");
}
