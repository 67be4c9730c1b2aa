//! Code generation: checking the function and rewriting it to build a runtime and
//! `block_on` its body.
//!
//! The rewritten function keeps the user's attributes, visibility and signature (minus
//! `async`); its body becomes
//!
//! ```text
//! let body = async move { <original block> };
//! // only with an explicit, nameable return type `-> T`:
//! let body = ::core::pin::pin!(body);
//! let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = T>> = body;
//! #[allow(clippy::expect_used, clippy::diverging_sub_expression, clippy::needless_return)]
//! {
//!     return <crate>::runtime::Builder::new_current_thread() // or new_multi_thread()
//!         .enable_all()
//!         .worker_threads(N)     // multi_thread with worker_threads = N only
//!         .start_paused(true)    // start_paused = true only
//!         .hook(EXPR)            // one per element of hooks = [..], in order
//!         .build()
//!         .expect("Failed building the Runtime")
//!         .block_on(body);
//! }
//! ```
//!
//! **Error recovery**, as tokio does it: an error never makes the item disappear, since an
//! IDE would then lose the function. If the item is not an `async fn`, it is emitted
//! unchanged. Otherwise it is expanded with the best-effort configuration (see
//! `config.rs`), and the errors follow it as `compile_error!`s.

use crate::args::Args;
use crate::config::{Config, EntryKind, Flavor};
use proc_macro2::{Ident, Literal, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::parse::{Parse, Parser};
use syn::spanned::Spanned;
use syn::{AttrStyle, Attribute, Block, ItemFn, ReturnType, Token, Type};

/// Expands `#[<kind>(args)] item`. `multi_thread_available` is `MULTI_THREAD_AVAILABLE`,
/// passed in so that tests can drive both settings.
pub(crate) fn entry(
    kind: EntryKind,
    args: TokenStream,
    item: TokenStream,
    multi_thread_available: bool,
) -> TokenStream {
    let input: ItemFn = match syn::parse2(item.clone()) {
        Ok(input) => input,
        Err(e) => return with_errors(item, Some(e)),
    };
    let (config, mut errors) = match Args::parse.parse2(args) {
        Ok(args) => Config::from_args(kind, &args, multi_thread_available),
        Err(e) => (Config::defaults(kind, multi_thread_available), Some(e)),
    };
    // Signature errors come first: they are what the user most likely has to fix first.
    if let Err(mut e) = check_signature(kind, &input) {
        if let Some(later) = errors {
            e.combine(later);
        }
        errors = Some(e);
    }
    if input.sig.asyncness.is_none() {
        // Nothing to drive: hand the function back as written, plus the errors.
        return with_errors(item, errors);
    }
    with_errors(generate(kind, input, &config), errors)
}

/// Appends the errors, if any, as `compile_error!`s after `tokens`.
fn with_errors(mut tokens: TokenStream, errors: Option<syn::Error>) -> TokenStream {
    if let Some(e) = errors {
        tokens.extend(e.into_compile_error());
    }
    tokens
}

/// The checks on the function itself: `async`, no arguments, and for a test no second
/// `#[test]`. All problems are reported together.
fn check_signature(kind: EntryKind, input: &ItemFn) -> syn::Result<()> {
    let mut errors: Vec<syn::Error> = Vec::new();
    if input.sig.asyncness.is_none() {
        errors.push(syn::Error::new_spanned(
            input.sig.fn_token,
            format!(
                "the `async` keyword is missing from the function declaration; \
                 #[{}] applies to an `async fn`",
                kind.attribute()
            ),
        ));
    }
    if !input.sig.inputs.is_empty() {
        errors.push(syn::Error::new_spanned(
            &input.sig.inputs,
            format!(
                "the `async fn` marked #[{}] cannot take arguments",
                kind.attribute()
            ),
        ));
    }
    if kind == EntryKind::Test {
        if let Some(attr) = input.attrs.iter().find(|a| is_test_attribute(a)) {
            errors.push(syn::Error::new_spanned(
                attr,
                "second test attribute: #[hookrt::test] already emits #[test]; remove this one",
            ));
        }
    }
    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            errors.for_each(|e| first.combine(e));
            Err(first)
        }
    }
}

/// `#[test]`, `#[core::prelude::v1::test]`, `#[::std::prelude::rust_2021::test]` and so on.
fn is_test_attribute(attr: &Attribute) -> bool {
    let segments = &attr.path().segments;
    let is_test = segments.last().is_some_and(|last| last.ident == "test");
    let is_builtin = segments.len() == 1
        || segments
            .first()
            .is_some_and(|first| first.ident == "core" || first.ident == "std");
    matches!(attr.style, AttrStyle::Outer) && is_test && is_builtin
}

/// The rewritten function (see the module docs for its shape).
fn generate(kind: EntryKind, input: ItemFn, config: &Config) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = input;
    let async_token = sig.asyncness.take().unwrap_or_default();
    // Inner attributes (`#![allow(..)]` at the top of the body) stay at the top of the new
    // body, so they still cover all of the user's code.
    let (inner_attrs, outer_attrs): (Vec<Attribute>, Vec<Attribute>) = attrs
        .into_iter()
        .partition(|a| matches!(a.style, AttrStyle::Inner(_)));
    let header = match kind {
        EntryKind::Main => quote! {},
        EntryKind::Test => quote! { #[::core::prelude::v1::test] },
    };
    let body = body_future(async_token, &sig.output, &block);
    let run = run_on_runtime(config, block.brace_token.span.close());
    quote! {
        #header
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            #body
            #run
        }
    }
}

/// `let body = async move { .. };`, typed by the declared return type when there is one.
///
/// The typed `let` (the form tokio's test macro uses) pins the body's output to the
/// declared return type right after the future is made, so `?` in the body converts into
/// that type and a mismatch is reported on the return type. The `async` keyword is the
/// user's own, so rustc locates the async block on the user's function.
fn body_future(async_token: Token![async], output: &ReturnType, block: &Block) -> TokenStream {
    let body = body_ident(Span::call_site());
    let future = quote! { let #body = #async_token move #block; };
    match output {
        ReturnType::Type(_, ty) if nameable_in_dyn(ty) => {
            let typed = body_ident(ty.span());
            quote_spanned! {ty.span()=>
                #future
                let #body = ::core::pin::pin!(#body);
                let #body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = #ty>> = #typed;
            }
        }
        _ => future,
    }
}

/// The `body` variable, shown at `location` in diagnostics.
///
/// Every mention resolves at the call site, whatever its location: were one to take the
/// hygiene of a user token, a function generated by a `macro_rules!` could see the
/// mentions land in different hygiene contexts and no longer resolve to each other.
fn body_ident(location: Span) -> Ident {
    Ident::new("body", Span::call_site().located_at(location))
}

/// Whether `ty` may be written as `dyn Future<Output = #ty>`: not `!` (unstable there) and
/// no `impl Trait` anywhere inside. Such return types go untyped; `block_on`'s result
/// being returned still ties the body's output to the function's return type.
fn nameable_in_dyn(ty: &Type) -> bool {
    fn mentions_impl(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => ident == "impl",
            TokenTree::Group(group) => mentions_impl(group.stream()),
            TokenTree::Punct(_) | TokenTree::Literal(_) => false,
        })
    }
    !matches!(ty, Type::Never(_)) && !mentions_impl(ty.to_token_stream())
}

/// The block that builds the runtime and drives `body` to completion, spanned at the
/// closing brace of the user's body so that errors in it point at the function.
fn run_on_runtime(config: &Config, span: Span) -> TokenStream {
    let krate = &config.crate_path;
    let new = match config.flavor {
        Flavor::CurrentThread => quote_spanned! {span=> new_current_thread },
        Flavor::MultiThread => quote_spanned! {span=> new_multi_thread },
    };
    let worker_threads = config.worker_threads.map(|(count, count_span)| {
        let mut count = Literal::usize_unsuffixed(count);
        count.set_span(count_span);
        quote_spanned! {count_span=> .worker_threads(#count) }
    });
    let start_paused = config
        .start_paused
        .then(|| quote_spanned! {span=> .start_paused(true) });
    // Each `.hook(..)` carries its expression's span: a value that is not a `Hook` is
    // reported on that expression.
    let body = body_ident(span);
    let hooks = config
        .hooks
        .iter()
        .map(|hook| quote_spanned! {hook.span()=> .hook(#hook) });
    quote_spanned! {span=>
        #[allow(clippy::expect_used, clippy::diverging_sub_expression, clippy::needless_return)]
        {
            return #krate::runtime::Builder::#new()
                .enable_all()
                #worker_threads
                #start_paused
                #(#hooks)*
                .build()
                .expect("Failed building the Runtime")
                .block_on(#body);
        }
    }
}

#[cfg(test)]
mod tests;
