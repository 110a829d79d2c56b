//! A proc macro that panics when it is expanded.
use proc_macro::TokenStream;

/// Panics.
#[proc_macro]
pub fn explode(_input: TokenStream) -> TokenStream {
    panic!("the adversarial proc macro exploded");
}
