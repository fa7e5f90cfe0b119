//! Passes over typify's `types` module.

use std::collections::{BTreeMap, BTreeSet};

use openapiv3::OpenAPI;
use proc_macro2::TokenStream;

use crate::Refusal;
use crate::model::{Model, construct};
use quote::{format_ident, quote};
use syn::{
    Attribute, Field, Fields, GenericArgument, Ident, Item, ItemEnum, ItemStruct, LitStr,
    PathArguments, Type, parse_quote,
};

use crate::rules::{self, Shape};

/// The rewritten `types` module and the checks that go with it.
pub struct Output {
    /// The items of `types.rs`.
    pub items: Vec<Item>,
    /// The `Rules` impls of `validate.rs`.
    pub validate: TokenStream,
}

/// A refusal of something in the components, which belongs to no one
/// operation.
fn component_refusal(location: &str, construct: &str, detail: String) -> Refusal {
    Refusal::new(Refusal::DOCUMENT, location, construct, detail)
}

/// Rewrites the items of typify's `types` module. A struct or enum whose
/// name the model gave is rewritten from the model; one typify made up
/// itself (the members of a `oneOf`) is kept as typify wrote it, with the
/// derives every type has.
pub fn rewrite(model: &Model, items: Vec<Item>, checks: &mut Checks) -> Result<Output, Refusal> {
    let spec = &model.document;
    let mut out = Vec::new();
    let mut structs = BTreeMap::new();
    // Every enum of plain values gets the generator's own `FromStr`.
    let unit_enums: Vec<Ident> = items
        .iter()
        .filter_map(|item| match item {
            Item::Enum(item) if is_unit_enum(item) => Some(item.ident.clone()),
            _ => None,
        })
        .collect();
    for item in items {
        match item {
            // typify's struct builders are replaced by setters on the types.
            Item::Mod(module) if module.ident == "builder" => {}
            Item::Impl(block) if is_builder_fn_impl(&block) => {}
            // An extensible enum gets a `Display` of its own, which covers
            // its `Unknown` variant.
            Item::Impl(block) if is_display_of_extensible_enum(spec, &block) => {}
            // String enums get a `FromStr` whose error names the type and
            // the value, and the error type below replaces typify's.
            Item::Impl(block)
                if is_trait_impl(&block, "FromStr") && impl_of_any(&block, &unit_enums) => {}
            Item::Mod(module) if module.ident == "error" => out.push(error_module()),
            Item::Struct(mut item) if model.is_object(&item.ident.to_string()) => {
                let (extra, infos) = rewrite_struct(model, &mut item, checks).map_err(|e| {
                    component_refusal(
                        &format!("components.schemas.{}", item.ident),
                        construct::TYPIFY_OUTPUT,
                        e,
                    )
                })?;
                structs.insert(item.ident.to_string(), infos);
                fill_struct_docs(&mut item);
                out.push(Item::Struct(item));
                out.extend(extra);
            }
            Item::Struct(mut item) => {
                item.attrs.push(schemars_derive());
                fill_struct_docs(&mut item);
                out.push(Item::Struct(item));
            }
            Item::Enum(mut item) if is_unit_enum(&item) => {
                let name = item.ident.to_string();
                let extensible = rules::is_extensible_enum(spec, &name);
                let extra = rewrite_enum(&mut item, extensible).map_err(|e| {
                    component_refusal(
                        &format!("components.schemas.{name}"),
                        construct::EXTENSIBLE_ENUM_UNKNOWN,
                        e,
                    )
                })?;
                fill_enum_docs(&mut item);
                out.push(Item::Enum(item));
                out.extend(extra);
            }
            Item::Enum(mut item) => {
                item.attrs.push(schemars_derive());
                fill_enum_docs(&mut item);
                out.push(Item::Enum(item));
            }
            other => out.push(other),
        }
    }
    out.extend(
        crate::convert::conversions(spec, &structs)
            .map_err(|e| component_refusal("x-update-schema", construct::X_UPDATE, e))?,
    );
    let impls = std::mem::take(&mut checks.impls);
    Ok(Output {
        items: out,
        validate: quote!(#(#impls)*),
    })
}

/// The whole of `validate.rs`: the patterns every check uses and the
/// `Rules` impls.
pub fn validate_items(checks: &Checks, impls: TokenStream) -> TokenStream {
    let statics = checks.pattern_statics();
    quote! {
        use super::types;
        use crate::validate::{Path, Rules, Violations};
        #statics
        #impls
    }
}

fn has_doc(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("doc"))
}

/// Documents a type typify made up, and its fields, where the document
/// says nothing: the SDK documents every public item.
fn fill_struct_docs(item: &mut ItemStruct) {
    if !has_doc(&item.attrs) {
        let doc = format!("`{}`, a part of another type of the spec.", item.ident);
        item.attrs.insert(0, parse_quote!(#[doc = #doc]));
    }
    if let Fields::Named(fields) = &mut item.fields {
        for field in fields.named.iter_mut() {
            if !has_doc(&field.attrs)
                && let Some(ident) = &field.ident
            {
                let doc = format!(
                    "The `{}` field.",
                    ident.to_string().trim_start_matches("r#")
                );
                field.attrs.insert(0, parse_quote!(#[doc = #doc]));
            }
        }
    }
}

/// Documents an enum typify made up (a `oneOf`), and its variants.
fn fill_enum_docs(item: &mut ItemEnum) {
    if !has_doc(&item.attrs) {
        let doc = format!("`{}`, one of several shapes the spec allows.", item.ident);
        item.attrs.insert(0, parse_quote!(#[doc = #doc]));
    }
    for variant in item.variants.iter_mut() {
        if !has_doc(&variant.attrs) {
            let doc = format!("The `{}` shape.", variant.ident);
            variant.attrs.insert(0, parse_quote!(#[doc = #doc]));
        }
        if let Fields::Named(fields) = &mut variant.fields {
            for field in fields.named.iter_mut() {
                if !has_doc(&field.attrs)
                    && let Some(ident) = &field.ident
                {
                    let doc = format!("The `{ident}` field.");
                    field.attrs.insert(0, parse_quote!(#[doc = #doc]));
                }
            }
        }
    }
}

/// Whether every variant of an enum is a plain value: a string enum.
fn is_unit_enum(item: &ItemEnum) -> bool {
    !item.variants.is_empty()
        && item
            .variants
            .iter()
            .all(|v| matches!(v.fields, Fields::Unit))
}

/// Whether an impl is for one of `types`.
fn impl_of_any(block: &syn::ItemImpl, types: &[Ident]) -> bool {
    let Type::Path(ty) = &*block.self_ty else {
        return false;
    };
    ty.path
        .segments
        .last()
        .is_some_and(|s| types.contains(&s.ident))
}

fn is_display_of_extensible_enum(spec: &OpenAPI, block: &syn::ItemImpl) -> bool {
    let Some((path, _)) = &block.trait_ else {
        return false;
    };
    let Type::Path(ty) = &*block.self_ty else {
        return false;
    };
    path.segments.last().is_some_and(|s| s.ident == "Display")
        && ty
            .path
            .segments
            .last()
            .is_some_and(|s| rules::is_extensible_enum(spec, &s.ident.to_string()))
}

fn is_trait_impl(block: &syn::ItemImpl, name: &str) -> bool {
    block
        .trait_
        .as_ref()
        .is_some_and(|(path, _)| path.segments.last().is_some_and(|s| s.ident == name))
}

/// The error of every `FromStr` and `TryFrom<&str>` of an enum.
fn error_module() -> Item {
    parse_quote! {
        /// Errors of conversions into the types of this module.
        pub mod error {
            /// Text that is none of the values an enum of the spec lists,
            /// or a value a type of the spec cannot hold.
            #[derive(Clone, Debug, PartialEq, Eq)]
            pub struct ConversionError {
                type_name: &'static str,
                value: ::std::string::String,
                expected: &'static [&'static str],
            }

            // typify's own conversions (of `oneOf` members) fail with a
            // message alone.
            impl ::std::convert::From<&'static str> for ConversionError {
                fn from(message: &'static str) -> Self {
                    Self {
                        type_name: "",
                        value: message.to_string(),
                        expected: &[],
                    }
                }
            }

            impl ConversionError {
                #[allow(
                    dead_code,
                    reason = "used by the enums' `FromStr`, when the spec has an enum"
                )]
                pub(crate) fn new(
                    type_name: &'static str,
                    value: &str,
                    expected: &'static [&'static str],
                ) -> Self {
                    Self {
                        type_name,
                        value: value.to_string(),
                        expected,
                    }
                }

                /// The name of the type the text was to become.
                pub fn type_name(&self) -> &'static str {
                    self.type_name
                }

                /// The text that was given.
                pub fn value(&self) -> &str {
                    &self.value
                }

                /// The values the type lists.
                pub fn expected(&self) -> &'static [&'static str] {
                    self.expected
                }
            }

            impl ::std::fmt::Display for ConversionError {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    if self.type_name.is_empty() {
                        return f.write_str(&self.value);
                    }
                    write!(f, "{:?} is not a {} value; expected one of ", self.value, self.type_name)?;
                    for (index, expected) in self.expected.iter().enumerate() {
                        if index > 0 {
                            f.write_str(", ")?;
                        }
                        f.write_str(expected)?;
                    }
                    ::std::result::Result::Ok(())
                }
            }

            impl ::std::error::Error for ConversionError {}
        }
    }
}

fn is_builder_fn_impl(block: &syn::ItemImpl) -> bool {
    block.trait_.is_none()
        && !block.items.is_empty()
        && block.items.iter().all(|item| match item {
            syn::ImplItem::Fn(function) => function.sig.ident == "builder",
            _ => false,
        })
}

fn schemars_derive() -> Attribute {
    parse_quote!(#[cfg_attr(feature = "schemars", derive(::schemars::JsonSchema))])
}

/// The JSON name of a field: its `serde(rename)`, else its identifier.
fn json_name(field: &Field) -> Result<String, String> {
    let mut rename = None;
    for attr in &field.attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                let value: LitStr = meta.value()?.parse()?;
                rename = Some(value.value());
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        })
        .map_err(|e| format!("unreadable serde attribute: {e}"))?;
    }
    let ident = field.ident.as_ref().ok_or("tuple struct field")?;
    Ok(rename.unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_string()))
}

/// `T` when `ty` is `path::Name<T>` with the last segment `name`.
fn generic_of<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(inner) => Some(inner),
        _ => None,
    }
}

fn doc_attrs(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .cloned()
        .collect()
}

/// One field as the setters, checks and conversions see it.
pub struct FieldInfo {
    pub ident: Ident,
    pub json: String,
    /// The type inside `Option`, or the field's type when it is required.
    pub value_ty: Type,
    pub optional: bool,
    docs: Vec<Attribute>,
    shape: Shape,
    /// The note of `#[deprecated]`, when the spec deprecates the property.
    pub deprecated: Option<String>,
}

fn rewrite_struct(
    model: &Model,
    item: &mut ItemStruct,
    checks: &mut Checks,
) -> Result<(Vec<Item>, Vec<FieldInfo>), String> {
    let spec = &model.document;
    let name = item.ident.to_string();
    let shapes: BTreeMap<String, Shape> = rules::properties(spec, &name)?.into_iter().collect();
    item.attrs.push(schemars_derive());
    // The service adds fields: a new one must not break callers.
    item.attrs.push(parse_quote!(#[non_exhaustive]));
    let Fields::Named(fields) = &mut item.fields else {
        return Err(format!("{name}: expected a struct with named fields"));
    };
    let required = rules::required(spec, &name);
    let mut infos = Vec::new();
    let mut idents = BTreeSet::new();
    for field in fields.named.iter_mut() {
        let json = json_name(field)?;
        // Two JSON names typify spells alike (`fooBar` and `foo_bar`) are
        // told apart in document order with `_2`, `_3`, ..., each keeping
        // its JSON name.
        let spelled = field
            .ident
            .as_ref()
            .map(|ident| ident.to_string())
            .ok_or("tuple struct field")?;
        if !idents.insert(spelled.clone()) {
            let base = spelled.trim_start_matches("r#").to_string();
            let mut n = 2;
            while !idents.insert(format!("{base}_{n}")) {
                n += 1;
            }
            if base == json {
                field.attrs.push(parse_quote!(#[serde(rename = #json)]));
            }
            field.ident = Some(format_ident!("{}", format!("{base}_{n}")));
        }
        // An optional list must be able to say "not set" and "set to []"
        // apart, so it becomes `Option<Vec<T>>` instead of a `Vec` that
        // skips serializing when empty.
        // typify gives an optional array a plain `Vec`, skipped when empty.
        if generic_of(&field.ty, "Vec").is_some() && !required.contains(&json) {
            let vec_ty = field.ty.clone();
            field.ty = parse_quote!(::std::option::Option<#vec_ty>);
            field.attrs.retain(|a| !a.path().is_ident("serde"));
            let rename = (Some(json.as_str())
                != field.ident.as_ref().map(|i| i.to_string()).as_deref())
            .then(|| quote!(rename = #json,));
            field.attrs.push(parse_quote!(
                #[serde(#rename default, skip_serializing_if = "::std::option::Option::is_none")]
            ));
        }
        if !field.attrs.iter().any(|a| a.path().is_ident("doc")) {
            // Every public field is documented: by its component's
            // description when it is a reference, else by its JSON name.
            let doc = rules::referenced_description(spec, &name, &json)
                .unwrap_or_else(|| format!("The `{json}` property."));
            field.attrs.insert(0, parse_quote!(#[doc = #doc]));
        }
        // Other spellings the service is known to use for this property.
        let mut deprecated = None;
        if let Some(property) = model.property_as_written(&name, &json) {
            for alias in rules::extension_strings(property, rules::ALIASES) {
                field.attrs.push(parse_quote!(#[serde(alias = #alias)]));
            }
            if property.schema_data.deprecated {
                let note =
                    deprecation_note(&rules::extension_strings(property, rules::REPLACED_BY));
                field.attrs.push(parse_quote!(#[deprecated(note = #note)]));
                deprecated = Some(note);
            }
        }
        let shape = shapes.get(&json).cloned().unwrap_or(Shape::Free);
        field.attrs.extend(schemars_bounds(&shape));
        let (value_ty, optional) = match generic_of(&field.ty, "Option") {
            Some(inner) => (inner.clone(), true),
            None => (field.ty.clone(), false),
        };
        infos.push(FieldInfo {
            ident: field.ident.clone().ok_or("tuple struct field")?,
            json,
            value_ty,
            optional,
            docs: doc_attrs(&field.attrs),
            shape,
            deprecated,
        });
    }
    checks.add_struct(&item.ident, &infos);
    // Constructor arguments follow the spec's `required` list, not typify's
    // alphabetical field order.
    let order = required;
    let rank = |f: &FieldInfo| {
        order
            .iter()
            .position(|r| *r == f.json)
            .unwrap_or(usize::MAX)
    };
    let mut by_spec = infos;
    by_spec.sort_by_key(|f| (rank(f), f.json.clone()));
    Ok((setters(&item.ident, &by_spec), by_spec))
}

/// The note of a deprecated property: what to use instead, by the Rust
/// names of the properties the spec gives in `x-replaced-by`.
fn deprecation_note(replaced_by: &[String]) -> String {
    let names: Vec<String> = replaced_by
        .iter()
        .map(|json| format!("`{}`", crate::operations::snake(json)))
        .collect();
    match names.as_slice() {
        [] => "deprecated by Webex".to_string(),
        [one] => format!("deprecated by Webex: use {one} instead"),
        [first @ .., last] => format!(
            "deprecated by Webex: use {} and {last} instead",
            first.join(", ")
        ),
    }
}

/// `schemars` attributes that state a shape's bounds.
fn schemars_bounds(shape: &Shape) -> Vec<Attribute> {
    let mut attrs = Vec::new();
    let inner = |shape: &Shape| -> Vec<TokenStream> {
        let mut parts = Vec::new();
        match shape {
            Shape::String {
                min, max, pattern, ..
            } => {
                if let Some(length) = length_args(*min, *max) {
                    parts.push(quote!(length(#length)));
                }
                if let Some(pattern) = pattern {
                    parts.push(quote!(regex(pattern = #pattern)));
                }
            }
            Shape::Integer { min, max } => {
                let mut args = Vec::new();
                if let Some(min) = min {
                    let min = proc_macro2::Literal::i64_unsuffixed(*min);
                    args.push(quote!(min = #min));
                }
                if let Some(max) = max {
                    let max = proc_macro2::Literal::i64_unsuffixed(*max);
                    args.push(quote!(max = #max));
                }
                if !args.is_empty() {
                    parts.push(quote!(range(#(#args),*)));
                }
            }
            Shape::Number { min, max } => {
                let mut args = Vec::new();
                if let Some(min) = min {
                    let min = proc_macro2::Literal::f64_unsuffixed(*min);
                    args.push(quote!(min = #min));
                }
                if let Some(max) = max {
                    let max = proc_macro2::Literal::f64_unsuffixed(*max);
                    args.push(quote!(max = #max));
                }
                if !args.is_empty() {
                    parts.push(quote!(range(#(#args),*)));
                }
            }
            Shape::Array { min, max, .. } => {
                if let Some(length) = length_args(*min, *max) {
                    parts.push(quote!(length(#length)));
                }
            }
            // The newtype's own schema is what `schemars` describes.
            Shape::Object(_) | Shape::Enum { .. } | Shape::Newtype(_) | Shape::Free => {}
        }
        parts
    };
    for part in inner(shape) {
        attrs.push(parse_quote!(#[cfg_attr(feature = "schemars", schemars(#part))]));
    }
    if let Shape::Array { items, .. } = shape {
        for part in inner(items) {
            attrs.push(parse_quote!(#[cfg_attr(feature = "schemars", schemars(inner(#part)))]));
        }
    }
    attrs
}

fn length_args(min: Option<usize>, max: Option<usize>) -> Option<TokenStream> {
    let min = min.map(proc_macro2::Literal::usize_unsuffixed);
    let max = max.map(proc_macro2::Literal::usize_unsuffixed);
    match (min, max) {
        (None, None) => None,
        (Some(min), None) => Some(quote!(min = #min)),
        (None, Some(max)) => Some(quote!(max = #max)),
        (Some(min), Some(max)) => Some(quote!(min = #min, max = #max)),
    }
}

/// Whether two required fields could be passed to a positional constructor
/// in each other's place without the compiler noticing: they have the same
/// type (two booleans, two strings).
fn has_swappable(required: &[&FieldInfo]) -> bool {
    required
        .iter()
        .enumerate()
        .any(|(index, f)| required[..index].iter().any(|g| g.value_ty == f.value_ty))
}

/// `#[allow(deprecated)]` for generated code that must touch a field the
/// spec deprecates (the constructor, its setter, conversions).
pub(crate) fn allow_deprecated() -> Attribute {
    parse_quote!(#[allow(
        deprecated,
        reason = "generated code sets and copies every field, deprecated ones included"
    )])
}

/// A constructor and a setter per optional field.
///
/// The constructor takes the required fields. When two of them have the
/// same type, a positional call could swap them unnoticed
/// (`new(true, 5, false, 0, false)`), so the constructor takes them as a
/// struct of their own, `{Type}Required`, whose fields are named at the
/// call site and checked complete by the compiler.
fn setters(ty: &Ident, fields: &[FieldInfo]) -> Vec<Item> {
    let required: Vec<&FieldInfo> = fields.iter().filter(|f| !f.optional).collect();
    let named = required.len() > 1 && has_swappable(&required);
    let required_ty = format_ident!("{}Required", ty);
    let params: Vec<TokenStream> = if named {
        vec![quote!(required: #required_ty)]
    } else {
        required
            .iter()
            .map(|f| {
                let (ident, value_ty) = (&f.ident, &f.value_ty);
                quote!(#ident: impl ::std::convert::Into<#value_ty>)
            })
            .collect()
    };
    let unpack = if named {
        let idents = required.iter().map(|f| &f.ident);
        quote!(let #required_ty { #(#idents),* } = required;)
    } else {
        quote!()
    };
    let inits = fields.iter().map(|f| {
        let ident = &f.ident;
        if f.optional {
            quote!(#ident: ::std::option::Option::None)
        } else if named {
            quote!(#ident)
        } else {
            quote!(#ident: #ident.into())
        }
    });
    let names: Vec<String> = required.iter().map(|f| format!("`{}`", f.json)).collect();
    let new_doc = if required.is_empty() {
        "Creates a value with no field set; set fields with the methods below.".to_string()
    } else if named {
        format!(
            "Creates a value from its required fields, named in a [`{required_ty}`]; set the \
             others with the methods below."
        )
    } else {
        format!(
            "Creates a value from its required fields ({}); set the others with the methods below.",
            names.join(", ")
        )
    };
    let touches_deprecated = fields.iter().any(|f| f.deprecated.is_some());
    let new_allow = touches_deprecated.then(allow_deprecated);
    let methods = fields.iter().filter(|f| f.optional).map(|f| {
        let (value_ty, docs) = (&f.value_ty, &f.docs);
        // A field named like the constructor gets a setter of another name.
        let setter = if f.ident == "new" {
            format_ident!("new_field")
        } else {
            f.ident.clone()
        };
        let ident = &f.ident;
        let deprecated = f.deprecated.as_ref().map(|note| {
            let allow = allow_deprecated();
            quote!(#[deprecated(note = #note)] #allow)
        });
        let note = format!("Sets `{}`.", f.json);
        if let Some(item_ty) = generic_of(value_ty, "Vec") {
            let note = format!(
                "Sets `{}`; the list replaces the stored one, and an empty list is sent as `[]`.",
                f.json
            );
            named_setter_fn(
                quote!(#[doc = #note] #[doc = ""] #(#docs)* #deprecated),
                &setter,
                ident,
                quote!(#item_ty),
                true,
            )
        } else {
            named_setter_fn(
                quote!(#[doc = #note] #[doc = ""] #(#docs)* #deprecated),
                &setter,
                ident,
                quote!(#value_ty),
                false,
            )
        }
    });
    let mut items = Vec::new();
    if named {
        let doc = format!(
            "The required fields of [`{ty}`] ({}), for [`{ty}::new`]: each is named where it \
             is set, so two values of the same type cannot change places unnoticed.",
            names.join(", ")
        );
        let required_fields = required.iter().map(|f| {
            let (ident, value_ty, docs) = (&f.ident, &f.value_ty, &f.docs);
            quote! {
                #(#docs)*
                pub #ident: #value_ty
            }
        });
        items.push(parse_quote! {
            #[doc = #doc]
            #[derive(Clone, Debug, PartialEq)]
            pub struct #required_ty {
                #(#required_fields),*
            }
        });
    }
    items.push(parse_quote! {
        impl #ty {
            #[doc = #new_doc]
            #new_allow
            pub fn new(#(#params),*) -> Self {
                #unpack
                Self { #(#inits),* }
            }
            #(#methods)*
        }
    });
    items
}

/// A setter that puts `value` (of a type that converts into `ty`) into the
/// field of the same name, or, for a list, every item of an iterable
/// (each converting into `ty`).
pub(crate) fn setter_fn(
    attrs: TokenStream,
    ident: &Ident,
    ty: TokenStream,
    list: bool,
) -> TokenStream {
    named_setter_fn(attrs, ident, ident, ty, list)
}

/// [`setter_fn`] for a setter named `name` that sets the field `ident`.
fn named_setter_fn(
    attrs: TokenStream,
    name: &Ident,
    ident: &Ident,
    ty: TokenStream,
    list: bool,
) -> TokenStream {
    if list {
        quote! {
            #attrs
            #[must_use]
            pub fn #name<T: ::std::convert::Into<#ty>>(
                mut self,
                value: impl ::std::iter::IntoIterator<Item = T>,
            ) -> Self {
                self.#ident = ::std::option::Option::Some(
                    value.into_iter().map(::std::convert::Into::into).collect(),
                );
                self
            }
        }
    } else {
        quote! {
            #attrs
            #[must_use]
            pub fn #name(mut self, value: impl ::std::convert::Into<#ty>) -> Self {
                self.#ident = ::std::option::Option::Some(value.into());
                self
            }
        }
    }
}

/// Adds `schemars` and an `as_str` to a string enum. An extensible enum
/// also gets an `Unknown(String)` variant and serde impls that keep a value
/// the spec does not list instead of failing the whole read.
fn rewrite_enum(item: &mut ItemEnum, extensible: bool) -> Result<Vec<Item>, String> {
    let ty = item.ident.clone();
    // The service adds values: a new one must not break callers' matches.
    item.attrs.push(parse_quote!(#[non_exhaustive]));
    let mut arms = Vec::new();
    let mut wires = Vec::new();
    let mut idents = Vec::new();
    for variant in item.variants.iter_mut() {
        let mut wire = None;
        for attr in &variant.attrs {
            if attr.path().is_ident("serde") {
                attr.parse_nested_meta(|meta| {
                    if meta.path.is_ident("rename") {
                        let value: LitStr = meta.value()?.parse()?;
                        wire = Some(value.value());
                    }
                    Ok(())
                })
                .map_err(|e| format!("unreadable serde attribute: {e}"))?;
            }
        }
        let ident = &variant.ident;
        if extensible && ident == "Unknown" {
            return Err(format!(
                "{ty}: an extensible enum cannot have a value named like its `Unknown` variant"
            ));
        }
        let wire = wire.unwrap_or_else(|| ident.to_string());
        if !variant.attrs.iter().any(|a| a.path().is_ident("doc")) {
            let doc = format!("`{wire}` on the wire.");
            variant.attrs.insert(0, parse_quote!(#[doc = #doc]));
        }
        if extensible {
            variant.attrs.retain(|a| !a.path().is_ident("serde"));
        }
        arms.push(quote!(Self::#ident => #wire));
        wires.push(wire);
        idents.push(ident.clone());
    }
    let ty_name = ty.to_string();
    let from_str: Item = parse_quote! {
        impl ::std::str::FromStr for #ty {
            type Err = self::error::ConversionError;

            /// Parses a value the spec lists; any other text is an error
            /// naming the type, the text and the values it could be.
            fn from_str(value: &str) -> ::std::result::Result<Self, self::error::ConversionError> {
                match value {
                    #(#wires => ::std::result::Result::Ok(Self::#idents),)*
                    _ => ::std::result::Result::Err(self::error::ConversionError::new(
                        #ty_name,
                        value,
                        &[#(#wires),*],
                    )),
                }
            }
        }
    };
    if !extensible {
        item.attrs.push(schemars_derive());
        return Ok(vec![
            parse_quote! {
                impl #ty {
                    /// The value as it is sent on the wire.
                    pub fn as_str(&self) -> &'static str {
                        match self {
                            #(#arms,)*
                        }
                    }
                }
            },
            from_str,
        ]);
    }
    // serde and schemars are implemented by hand below; `Copy` cannot hold
    // the unknown value's text.
    for attr in item.attrs.iter_mut() {
        if attr.path().is_ident("derive") {
            let kept: Vec<syn::Path> = attr
                .parse_args_with(
                    syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
                )
                .map_err(|e| format!("{ty}: unreadable derive: {e}"))?
                .into_iter()
                .filter(|path| {
                    let last = path.segments.last().map(|s| s.ident.to_string());
                    !matches!(last.as_deref(), Some("Copy" | "Serialize" | "Deserialize"))
                })
                .collect();
            *attr = parse_quote!(#[derive(#(#kept),*)]);
        }
    }
    item.attrs.retain(|a| !a.path().is_ident("serde"));
    item.variants.push(parse_quote! {
        /// A value this version of the crate does not know, kept as it was
        /// read. Sending it back is refused before anything is sent.
        Unknown(::std::string::String)
    });
    Ok(vec![
        from_str,
        parse_quote! {
            impl #ty {
                /// The value as it is sent on the wire.
                pub fn as_str(&self) -> &str {
                    match self {
                        #(#arms,)*
                        Self::Unknown(value) => value.as_str(),
                    }
                }

                /// Whether the value is one the spec lists.
                pub fn is_known(&self) -> bool {
                    !matches!(self, Self::Unknown(_))
                }
            }
        },
        parse_quote! {
            impl ::std::fmt::Display for #ty {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        },
        parse_quote! {
            impl ::serde::Serialize for #ty {
                fn serialize<S: ::serde::Serializer>(
                    &self,
                    serializer: S,
                ) -> ::std::result::Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.as_str())
                }
            }
        },
        parse_quote! {
            impl<'de> ::serde::Deserialize<'de> for #ty {
                fn deserialize<D: ::serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> ::std::result::Result<Self, D::Error> {
                    let value = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
                    ::std::result::Result::Ok(match value.as_str() {
                        #(#wires => Self::#idents,)*
                        _ => Self::Unknown(value),
                    })
                }
            }
        },
        parse_quote! {
            // The schema lists the values the spec lists; `Unknown` is for
            // reading only and is never sent.
            #[cfg(feature = "schemars")]
            impl ::schemars::JsonSchema for #ty {
                fn schema_name() -> ::std::string::String {
                    #ty_name.to_string()
                }

                fn json_schema(
                    _: &mut ::schemars::r#gen::SchemaGenerator,
                ) -> ::schemars::schema::Schema {
                    ::schemars::schema::SchemaObject {
                        instance_type: ::std::option::Option::Some(
                            ::schemars::schema::InstanceType::String.into(),
                        ),
                        enum_values: ::std::option::Option::Some(::std::vec![
                            #(::serde_json::Value::from(#wires)),*
                        ]),
                        ..::std::default::Default::default()
                    }
                    .into()
                }
            }
        },
    ])
}

/// The generated `Rules` impls and the patterns they share.
#[derive(Default)]
pub struct Checks {
    /// Each pattern with the rule it states in words, if the spec gives one.
    patterns: Vec<(String, Option<String>)>,
    impls: Vec<TokenStream>,
}

impl Checks {
    fn add_struct(&mut self, ty: &Ident, fields: &[FieldInfo]) {
        let mut body = Vec::new();
        for field in fields.iter().filter(|f| f.shape.has_rules()) {
            let (ident, json) = (&field.ident, &field.json);
            let check = self.check(&field.shape, &quote!(value));
            if field.optional {
                body.push(quote! {
                    if let ::std::option::Option::Some(value) = &self.#ident {
                        let at = at.field(#json);
                        #check
                    }
                });
            } else {
                body.push(quote! {
                    {
                        let value = &self.#ident;
                        let at = at.field(#json);
                        #check
                    }
                });
            }
        }
        let (at, out) = if body.is_empty() {
            (quote!(_at), quote!(_out))
        } else {
            (quote!(at), quote!(out))
        };
        // A deprecated field is still checked when it is set.
        let allow = fields
            .iter()
            .any(|f| f.deprecated.is_some() && f.shape.has_rules())
            .then(allow_deprecated);
        self.impls.push(quote! {
            impl Rules for types::#ty {
                #allow
                fn check(&self, #at: &Path<'_>, #out: &mut Violations) {
                    #(#body)*
                }
            }
        });
    }

    /// Statements that check `value` (a reference) at `at` against `shape`.
    pub fn check(&mut self, shape: &Shape, value: &TokenStream) -> TokenStream {
        match shape {
            Shape::Object(_) => quote!(Rules::check(#value, &at, out);),
            Shape::String {
                min,
                max,
                pattern,
                rule,
            } => {
                let mut parts = Vec::new();
                if min.is_some() || max.is_some() {
                    let (min, max) = (opt_usize(*min), opt_usize(*max));
                    parts.push(quote!(out.length(&at, #value, #min, #max);));
                }
                if let Some(pattern) = pattern {
                    let key = (pattern.clone(), rule.clone());
                    let index = match self.patterns.iter().position(|p| *p == key) {
                        Some(index) => index,
                        None => {
                            self.patterns.push(key);
                            self.patterns.len() - 1
                        }
                    };
                    let name = format_ident!("PATTERN_{}", index);
                    // The path works from `validate.rs` and from the
                    // builders beside it.
                    parts.push(quote!(out.pattern(&at, #value, &super::validate::#name);));
                }
                quote!(#(#parts)*)
            }
            Shape::Integer { min, max } => {
                let min = opt_i64(*min);
                let max = opt_i64(*max);
                quote!(out.range(&at, *#value, #min, #max);)
            }
            Shape::Number { min, max } => {
                let min = opt_f64(*min);
                let max = opt_f64(*max);
                quote!(out.number_range(&at, f64::from(*#value), #min, #max);)
            }
            Shape::Array { min, max, items } => {
                let mut parts = Vec::new();
                if min.is_some() || max.is_some() {
                    let (min, max) = (opt_usize(*min), opt_usize(*max));
                    parts.push(quote!(out.items(&at, #value.len(), #min, #max);));
                }
                if items.has_rules() {
                    let inner = self.check(items, &quote!(item));
                    parts.push(quote! {
                        for (index, item) in #value.iter().enumerate() {
                            let at = at.index(index);
                            #inner
                        }
                    });
                }
                quote!(#(#parts)*)
            }
            Shape::Enum { name, values } => {
                let ty = format_ident!("{}", name);
                quote! {
                    if let types::#ty::Unknown(unknown) = #value {
                        out.unknown_value(&at, unknown, &[#(#values),*]);
                    }
                }
            }
            Shape::Newtype(inner) => self.check(inner, &quote!(&**#value)),
            Shape::Free => quote!(),
        }
    }

    fn pattern_statics(&self) -> TokenStream {
        let statics = self
            .patterns
            .iter()
            .enumerate()
            .map(|(index, (pattern, rule))| {
                let name = format_ident!("PATTERN_{}", index);
                let rule = match rule {
                    Some(rule) => quote!(::std::option::Option::Some(#rule)),
                    None => quote!(::std::option::Option::None),
                };
                quote! {
                    pub(super) static #name: crate::validate::Pattern = crate::validate::Pattern::new(#pattern, #rule);
                }
            });
        quote!(#(#statics)*)
    }

    /// The patterns used so far, for the generator to check they compile.
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.patterns.iter().map(|(pattern, _)| pattern.as_str())
    }
}

fn opt_usize(value: Option<usize>) -> TokenStream {
    opt_literal(value.map(proc_macro2::Literal::usize_unsuffixed))
}

fn opt_i64(value: Option<i64>) -> TokenStream {
    opt_literal(value.map(proc_macro2::Literal::i64_unsuffixed))
}

fn opt_f64(value: Option<f64>) -> TokenStream {
    opt_literal(value.map(proc_macro2::Literal::f64_unsuffixed))
}

fn opt_literal(value: Option<proc_macro2::Literal>) -> TokenStream {
    match value {
        Some(value) => quote!(::std::option::Option::Some(#value)),
        None => quote!(::std::option::Option::None),
    }
}
