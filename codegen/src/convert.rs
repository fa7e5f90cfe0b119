//! Conversions from what is read to the update that writes it back.
//!
//! A component marked `x-update-schema: Update` gets `From<&Self> for
//! Update` and a `to_update()` method. Each property of the update is
//! filled from the property of the same JSON name: same types are cloned,
//! lists are converted item by item, objects follow their own
//! `x-update-schema`, and an object marked `x-update-value: property` gives
//! that property where the update takes a plain value. Properties only the
//! read has (read-only ones) are dropped; an optional update property the
//! read lacks is left unset. Anything else is an error naming the property.

use std::collections::BTreeMap;

use openapiv3::OpenAPI;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Item, Type, parse_quote};

use crate::operations::generic_arg;
use crate::rules;
use crate::types::FieldInfo;

/// The conversion items for every component with `x-update-schema`.
pub fn conversions(
    spec: &OpenAPI,
    structs: &BTreeMap<String, Vec<FieldInfo>>,
) -> Result<Vec<Item>, String> {
    let mut out = Vec::new();
    for (read, fields) in structs {
        let Ok(schema) = rules::component(spec, read) else {
            continue;
        };
        let Some(update) = rules::extension_strings(schema, rules::UPDATE_SCHEMA)
            .into_iter()
            .next()
        else {
            continue;
        };
        let update_fields = structs.get(&update).ok_or_else(|| {
            format!(
                "{read}: {} names {update}, which is not an object component",
                rules::UPDATE_SCHEMA
            )
        })?;
        let mut inits = Vec::new();
        // Pairs of (update field, read field) that a partial update sends
        // only when they differ.
        let mut compared = Vec::new();
        let allow = update_fields
            .iter()
            .chain(fields)
            .any(|f| f.deprecated.is_some())
            .then(crate::types::allow_deprecated);
        for target in update_fields {
            let ident = &target.ident;
            let source = fields.iter().find(|f| f.json == target.json);
            let value = match source {
                None if target.optional => quote!(::std::option::Option::None),
                None => {
                    return Err(format!(
                        "{read}: has no property `{}`, which {update} requires",
                        target.json
                    ));
                }
                Some(source) => {
                    let from = &source.ident;
                    let at = format!("{read}.{}", source.json);
                    compared.push((ident.clone(), from.clone()));
                    match (source.optional, target.optional) {
                        (false, false) => convert(
                            spec,
                            structs,
                            &at,
                            &source.value_ty,
                            &target.value_ty,
                            quote!(&value.#from),
                        )?,
                        (false, true) => {
                            let inner = convert(
                                spec,
                                structs,
                                &at,
                                &source.value_ty,
                                &target.value_ty,
                                quote!(&value.#from),
                            )?;
                            quote!(::std::option::Option::Some(#inner))
                        }
                        (true, true) if same_type(&source.value_ty, &target.value_ty) => {
                            quote!(::std::clone::Clone::clone(&value.#from))
                        }
                        (true, true) => {
                            let inner = convert(
                                spec,
                                structs,
                                &at,
                                &source.value_ty,
                                &target.value_ty,
                                quote!(field),
                            )?;
                            quote!(value.#from.as_ref().map(|field| #inner))
                        }
                        (true, false) => {
                            return Err(format!(
                                "{at}: is optional, but {update} requires `{}`; make it required in the read",
                                target.json
                            ));
                        }
                    }
                }
            };
            inits.push(quote!(#ident: #value));
        }
        let read_ty = format_ident!("{}", read);
        let update_ty = format_ident!("{}", update);
        let from_doc = format!(
            "The [`{update}`] that writes this [`{read}`] back unchanged: properties of the \
             same name are copied, read-only ones are left out."
        );
        let method_doc = format!(
            "The [`{update}`] that writes this back unchanged; change what you need and send \
             it. Properties only a read carries are left out."
        );
        out.push(parse_quote! {
            #[doc = #from_doc]
            impl ::std::convert::From<&#read_ty> for #update_ty {
                #allow
                fn from(value: &#read_ty) -> Self {
                    Self { #(#inits,)* }
                }
            }
        });
        out.push(parse_quote! {
            impl #read_ty {
                #[doc = #method_doc]
                pub fn to_update(&self) -> #update_ty {
                    #update_ty::from(self)
                }
            }
        });
        if update_fields.iter().all(|field| field.optional) {
            out.push(changes_since(
                &read_ty,
                &update_ty,
                &compared,
                allow.as_ref(),
            ));
        }
    }
    Ok(out)
}

/// `Read::changes_since(&original)`: the update that sends only the
/// properties whose value differs between `original` (a read) and `self`
/// (a copy of it the caller changed). Emitted when every property of the
/// update is optional, so that leaving one out is always possible.
fn changes_since(
    read_ty: &syn::Ident,
    update_ty: &syn::Ident,
    compared: &[(syn::Ident, syn::Ident)],
    allow: Option<&syn::Attribute>,
) -> Item {
    let doc = format!(
        "The [`{update_ty}`] that sends only what differs between `original`, as read, and \
         this copy of it, as changed: a property left as it was read is not sent, so the \
         update neither overwrites a concurrent change to it nor counts as setting it (a \
         resend rule of the spec that names it does not apply). A changed list or object \
         is sent whole."
    );
    let unchanged = compared.iter().map(|(to, from)| {
        quote! {
            if self.#from == original.#from {
                update.#to = ::std::option::Option::None;
            }
        }
    });
    parse_quote! {
        impl #read_ty {
            #[doc = #doc]
            #allow
            pub fn changes_since(&self, original: &#read_ty) -> #update_ty {
                let mut update = #update_ty::from(self);
                #(#unchanged)*
                update
            }
        }
    }
}

fn ident_of(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(path) => path.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `to`'s name when `from` is a read whose `x-update-schema` is `to`: it
/// converts with `From`.
fn update_of(spec: &OpenAPI, from: &Type, to: &Type) -> Option<syn::Ident> {
    let schema = rules::component(spec, &ident_of(from)?).ok()?;
    let to_name = ident_of(to)?;
    rules::extension_strings(schema, rules::UPDATE_SCHEMA)
        .first()
        .is_some_and(|update| *update == to_name)
        .then(|| format_ident!("{}", to_name))
}

fn same_type(a: &Type, b: &Type) -> bool {
    a == b
}

/// An expression of type `to` made from `value`, a reference to a `from`.
fn convert(
    spec: &OpenAPI,
    structs: &BTreeMap<String, Vec<FieldInfo>>,
    at: &str,
    from: &Type,
    to: &Type,
    value: TokenStream,
) -> Result<TokenStream, String> {
    if same_type(from, to) {
        return Ok(quote!(::std::clone::Clone::clone(#value)));
    }
    if let (Some(from_item), Some(to_item)) = (generic_arg(from, "Vec"), generic_arg(to, "Vec")) {
        if let Some(to_ident) = update_of(spec, from_item, to_item) {
            return Ok(quote!(<[_]>::iter(#value).map(#to_ident::from).collect()));
        }
        let inner = convert(spec, structs, at, from_item, to_item, quote!(item))?;
        return Ok(quote!(<[_]>::iter(#value).map(|item| #inner).collect()));
    }
    let unconvertible = || {
        format!(
            "{at}: cannot turn a {} into a {}; declare `{}` or `{}` on the read's schema",
            quote!(#from),
            quote!(#to),
            rules::UPDATE_SCHEMA,
            rules::UPDATE_VALUE
        )
    };
    if let Some(to_ident) = update_of(spec, from, to) {
        return Ok(quote!(#to_ident::from(#value)));
    }
    let name = ident_of(from).ok_or_else(unconvertible)?;
    let schema = rules::component(spec, &name).map_err(|_| unconvertible())?;
    if let Some(property) = rules::extension_strings(schema, rules::UPDATE_VALUE).first() {
        let field = structs
            .get(&name)
            .and_then(|fields| fields.iter().find(|f| f.json == *property))
            .ok_or_else(|| {
                format!(
                    "{name}: {} names no property `{property}`",
                    rules::UPDATE_VALUE
                )
            })?;
        if field.optional {
            return Err(format!(
                "{name}.{property}: {} needs a required property",
                rules::UPDATE_VALUE
            ));
        }
        let ident = &field.ident;
        return convert(
            spec,
            structs,
            at,
            &field.value_ty,
            to,
            quote!(&(#value).#ident),
        );
    }
    Err(unconvertible())
}
