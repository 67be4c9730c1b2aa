//! The syntax of the attribute arguments: `name = value, name = value, ...`.
//!
//! Only the shape is checked here. Which names exist and which values each accepts is
//! decided in `config.rs`, so that every argument error of one attribute is reported in
//! the same compilation instead of one per edit-compile round.
//!
//! `syn::meta::parser` is not used because it cannot take an arbitrary expression list
//! (`hooks = [MyHook::new(), OtherHook::default()]`) as a value. Every value is parsed as a
//! `syn::Expr` instead: literals, paths and `[a, b]` arrays are all expressions.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Token};

/// All the arguments of one `#[hookrt::main(...)]` / `#[hookrt::test(...)]`, in the order
/// written. A trailing comma is accepted; an empty list is valid.
pub(crate) struct Args {
    /// The `name = value` pairs.
    pub(crate) list: Punctuated<Arg, Token![,]>,
}

/// One `name = value` argument.
pub(crate) struct Arg {
    /// The argument's name. Keywords are accepted here, because `crate` is one.
    pub(crate) name: Ident,
    /// The `=` between name and value.
    pub(crate) eq_token: Token![=],
    /// The value, not yet interpreted.
    pub(crate) value: Expr,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Ok(Args {
            list: Punctuated::parse_terminated(input)?,
        })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if !input.peek(Ident::peek_any) {
            return Err(input.error(
                "expected an argument of the form `name = value`, e.g. `flavor = \"current_thread\"`",
            ));
        }
        let name = Ident::parse_any(input)?;
        if !input.peek(Token![=]) {
            return Err(syn::Error::new_spanned(&name, missing_value_message(&name)));
        }
        Ok(Arg {
            name,
            eq_token: input.parse()?,
            value: input.parse()?,
        })
    }
}

impl ToTokens for Arg {
    /// Prints `name = value`, so an error can be spanned over the whole argument.
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.name.to_tokens(tokens);
        self.eq_token.to_tokens(tokens);
        self.value.to_tokens(tokens);
    }
}

/// The message for a bare name without `= value`. Bare flavor names get a hint, since
/// tokio once accepted `#[tokio::main(basic_scheduler)]`-style flags.
fn missing_value_message(name: &Ident) -> String {
    if name == "current_thread" || name == "multi_thread" {
        format!("set the runtime flavor with `flavor = \"{name}\"`")
    } else {
        format!("expected `=` after `{name}`: arguments are written `name = value`")
    }
}

#[cfg(test)]
mod tests;
