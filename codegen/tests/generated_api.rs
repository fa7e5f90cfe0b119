//! What the generated public API promises its users, checked on the code
//! generated from the real spec: types that can grow without breaking
//! anyone, and lints that are not switched off wholesale.

use std::path::Path;

fn generated(name: &str) -> syn::File {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let spec = std::fs::read_to_string(root.join("spec/webex-calling.yaml")).unwrap();
    let files = webex_calling_codegen::generate(&spec).unwrap();
    let file = files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no generated {name}"));
    syn::parse_file(&file.contents).unwrap()
}

fn has_attr(attrs: &[syn::Attribute], name: &str) -> bool {
    attrs.iter().any(|a| a.path().is_ident(name))
}

fn is_public(vis: &syn::Visibility) -> bool {
    matches!(vis, syn::Visibility::Public(_))
}

#[test]
fn every_public_type_that_mirrors_the_service_is_non_exhaustive() {
    let mut checked = 0;
    let mut open = Vec::new();
    for item in generated("types.rs").items {
        match item {
            // `{Type}Required` names the fields a constructor needs: it is
            // built with a struct literal, so it must stay exhaustive.
            syn::Item::Struct(s)
                if is_public(&s.vis) && !s.ident.to_string().ends_with("Required") =>
            {
                checked += 1;
                if !has_attr(&s.attrs, "non_exhaustive") {
                    open.push(s.ident.to_string());
                }
            }
            syn::Item::Enum(e) if is_public(&e.vis) => {
                checked += 1;
                if !has_attr(&e.attrs, "non_exhaustive") {
                    open.push(e.ident.to_string());
                }
            }
            _ => {}
        }
    }
    assert!(checked > 10, "only {checked} types were found");
    assert!(open.is_empty(), "not #[non_exhaustive]: {open:?}");
}

#[test]
fn no_constructor_takes_two_values_of_the_same_type() {
    for item in generated("types.rs").items {
        let syn::Item::Impl(block) = item else {
            continue;
        };
        for item in &block.items {
            let syn::ImplItem::Fn(function) = item else {
                continue;
            };
            if function.sig.ident != "new" {
                continue;
            }
            let mut seen = std::collections::BTreeSet::new();
            for input in &function.sig.inputs {
                let syn::FnArg::Typed(arg) = input else {
                    continue;
                };
                let ty = &arg.ty;
                let ty = quote::quote!(#ty).to_string();
                let self_ty = &block.self_ty;
                assert!(
                    seen.insert(ty.clone()),
                    "{}::new takes two values of type {ty}",
                    quote::quote!(#self_ty)
                );
            }
        }
    }
}

#[test]
fn no_generated_file_switches_lints_off_without_naming_the_lint_and_why() {
    for name in [
        "builder.rs",
        "client.rs",
        "types.rs",
        "validate.rs",
        "mod.rs",
    ] {
        let text = quote::ToTokens::to_token_stream(&generated(name)).to_string();
        assert!(!text.contains("clippy :: all"), "{name} allows clippy::all");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("allow (") {
            let attr = &rest[at..rest[at..].find(']').map_or(rest.len(), |end| at + end)];
            assert!(
                attr.contains("reason ="),
                "{name}: an allowance without a reason: {attr}"
            );
            rest = &rest[at + 1..];
        }
    }
}
